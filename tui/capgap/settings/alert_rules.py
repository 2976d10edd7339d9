"""The alert rules the config can hold (plain data: the config loads them without analytics)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SpreadMetric = Literal["gap_1d", "ratio"]
Direction = Literal["above", "below", "either"]


@dataclass(frozen=True, slots=True)
class SpreadCross:
    """The spread crosses ``level``: ``gap_1d`` (RUT minus SPX today, pp) or the RUT/SPX ratio."""

    level: float
    metric: SpreadMetric = "gap_1d"
    direction: Direction = "either"


@dataclass(frozen=True, slots=True)
class SectorSpread:
    """A sector's small-minus-large spread goes beyond ``pp`` (in absolute value) ."""

    sector: str
    pp: float


@dataclass(frozen=True, slots=True)
class FomcSoon:
    """The next FOMC decision is within ``minutes``."""

    minutes: float


@dataclass(frozen=True, slots=True)
class FeedDown:
    """A feed has been down for ``minutes``."""

    minutes: float


@dataclass(frozen=True, slots=True)
class FedOddsMove:
    """The next FOMC meeting's cut odds move by at least ``pp`` within ``minutes``."""

    pp: float
    minutes: float


AlertRule = SpreadCross | SectorSpread | FomcSoon | FeedDown | FedOddsMove


#: The name of each kind of rule, as ``kind =`` in the config and ``rule.kind`` in a hook's JSON.
RULE_KINDS: dict[type, str] = {
    SpreadCross: "spread",
    SectorSpread: "sector",
    FomcSoon: "fomc",
    FeedDown: "feed_down",
    FedOddsMove: "fed_odds",
}


def rule_kind(rule: AlertRule) -> str:
    """Return the config's name for the kind of ``rule`` ("spread", "sector", ...)."""
    return RULE_KINDS[type(rule)]
