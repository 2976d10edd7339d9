"""Alert rules from the config and the edge-triggered monitor that fires each once per crossing."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from capgap.core.format import compact_countdown, fmt_signed, index_label
from capgap.core.snapshot import Snapshot
from capgap.core.text import fmt_day, fmt_ny_time
from capgap.settings.alert_rules import (
    AlertRule,
    FedOddsMove,
    FeedDown,
    FomcSoon,
    SectorSpread,
    SpreadCross,
)

Severity = Literal["information", "warning", "error"]

#: How far back past a level a value must move before its crossing can fire again, so that a
#: figure wobbling around the level fires once, not on every tick.
GAP_HYSTERESIS_PP = 0.05
RATIO_HYSTERESIS = 0.0005
SECTOR_HYSTERESIS_PP = 0.05
#: A fired cut-odds move re-arms once the move within the window is this far under the rule's
#: pp: one tick of a ZQ contract moves a meeting's odds by about 1 to 1.5 pp.
ODDS_HYSTERESIS_PP = 1.0


@dataclass(frozen=True, slots=True)
class Alert:
    """One firing of a rule: title, one-line message, severity (as Textual's notify takes it).

    ``value`` is the figure that fired it, in the rule's unit: the gap or a sector's spread in
    pp, the ratio, the minutes to the decision or of the outage, or the cut odds' move in pp.
    """

    rule: AlertRule
    title: str
    message: str
    severity: Severity
    value: float | None = None


class _CrossWatch:
    """A SpreadCross rule: each direction fires when the value passes the level, then waits.

    A direction re-arms only once the value has been beyond the level on the other side by the
    hysteresis margin. The first value only arms the side it is on: a crossing needs a before.
    """

    def __init__(self, rule: SpreadCross) -> None:
        self.rule = rule
        self.margin = GAP_HYSTERESIS_PP if rule.metric == "gap_1d" else RATIO_HYSTERESIS
        self.seen = False
        self.up_armed = False
        self.down_armed = False

    def _value(self, snapshot: Snapshot) -> float | None:
        spread = snapshot.spread
        value = spread.relative_pp.d1 if self.rule.metric == "gap_1d" else spread.ratio
        return value if value is not None and math.isfinite(value) else None

    def observe(self, snapshot: Snapshot) -> list[Alert]:
        """Return the crossing this snapshot completes, if any."""
        value = self._value(snapshot)
        if value is None:
            return []
        level = self.rule.level
        if not self.seen:
            self.seen = True
            self.up_armed, self.down_armed = value < level, value > level
            return []
        fired: list[Alert] = []
        if self.up_armed and value > level:
            self.up_armed = False
            if self.rule.direction in ("above", "either"):
                fired.append(self._alert(snapshot, "above", value))
        if self.down_armed and value < level:
            self.down_armed = False
            if self.rule.direction in ("below", "either"):
                fired.append(self._alert(snapshot, "below", value))
        if value < level - self.margin:
            self.up_armed = True
        if value > level + self.margin:
            self.down_armed = True
        return fired

    def _alert(self, snapshot: Snapshot, way: str, value: float) -> Alert:
        small = index_label(snapshot.spread.small.symbol)
        large = index_label(snapshot.spread.large.symbol)
        if self.rule.metric == "gap_1d":
            name, level, now = f"{small}-{large} gap", _pp(self.rule.level), _pp(value)
        else:
            name, level, now = f"{small}/{large} ratio", f"{self.rule.level:.4f}", f"{value:.4f}"
        return Alert(
            self.rule,
            f"{name} {way} {level}",
            f"{name} crossed {way} {level}: now {now}",
            "warning",
            value,
        )


class _SectorWatch:
    """A SectorSpread rule: fires once when the spread goes beyond +pp, once beyond -pp.

    Each side re-arms when the spread is back inside the band by the hysteresis margin.
    """

    def __init__(self, rule: SectorSpread) -> None:
        self.rule = rule
        self.high_armed = True
        self.low_armed = True

    def observe(self, snapshot: Snapshot) -> list[Alert]:
        """Return the alert of a spread newly beyond the band, if any."""
        wanted = self.rule.sector.casefold()
        row = next((row for row in snapshot.sectors if row.sector.casefold() == wanted), None)
        if row is None or row.spread_pp is None or not math.isfinite(row.spread_pp):
            return []
        spread, band = row.spread_pp, abs(self.rule.pp)
        fired: list[Alert] = []
        if self.high_armed and spread > band:
            self.high_armed = False
            fired.append(self._alert(row.sector, spread, band))
        if self.low_armed and spread < -band:
            self.low_armed = False
            fired.append(self._alert(row.sector, spread, -band))
        if spread < band - SECTOR_HYSTERESIS_PP:
            self.high_armed = True
        if spread > -band + SECTOR_HYSTERESIS_PP:
            self.low_armed = True
        return fired

    def _alert(self, sector: str, spread: float, bound: float) -> Alert:
        # The bound keeps its sign only below zero: "beyond 1.50 pp", "beyond -1.50 pp".
        shown = f"{bound:.2f} pp"
        return Alert(
            self.rule,
            f"{sector} spread",
            f"{sector} small-large spread {_pp(spread)} beyond {shown}",
            "warning",
            spread,
        )


class _FomcWatch:
    """A FomcSoon rule: fires once per decision when its statement is within the window."""

    def __init__(self, rule: FomcSoon) -> None:
        self.rule = rule
        self.fired_for: datetime | None = None

    def observe(self, snapshot: Snapshot) -> list[Alert]:
        """Return the alert of a decision newly within the window, if any."""
        decision = snapshot.fed.next_decision
        if decision is None:
            return []
        if self.fired_for is not None and self.fired_for != decision.statement_at:
            self.fired_for = None  # a new decision: the rule re-arms
        left = (decision.statement_at - snapshot.as_of).total_seconds()
        if self.fired_for is not None or not 0 <= left <= self.rule.minutes * 60:
            return []
        self.fired_for = decision.statement_at
        at = fmt_ny_time(decision.statement_at, seconds=False)
        when = f"{fmt_day(decision.date, year=False)} {at} ET"
        return [
            Alert(
                self.rule,
                "FOMC decision",
                f"FOMC decision in {compact_countdown(left)} ({when})",
                "warning",
                left / 60,
            )
        ]


class _FeedWatch:
    """A FeedDown rule: fires once per outage of each feed, re-arms when that feed is ok again.

    An outage is measured from the feed's last success, or, without one, from the first snapshot
    that showed it down.
    """

    def __init__(self, rule: FeedDown) -> None:
        self.rule = rule
        self.down_since: dict[str, datetime] = {}
        self.fired: set[str] = set()

    def observe(self, snapshot: Snapshot) -> list[Alert]:
        """Return an alert for each feed down longer than the rule allows, once per outage."""
        fired: list[Alert] = []
        for feed in snapshot.feeds:
            if feed.state == "ok":
                self.down_since.pop(feed.name, None)
                self.fired.discard(feed.name)
                continue
            if feed.state != "down":
                continue  # degraded: neither a new outage nor the end of one
            seen = self.down_since.setdefault(feed.name, snapshot.as_of)
            start = feed.last_success if feed.last_success is not None else seen
            down_s = (snapshot.as_of - start).total_seconds()
            if feed.name in self.fired or down_s < self.rule.minutes * 60:
                continue
            self.fired.add(feed.name)
            error = f": {feed.error}" if feed.error else ""
            fired.append(
                Alert(
                    self.rule,
                    f"{feed.name} down",
                    f"{feed.name} down for {compact_countdown(down_s)}{error}",
                    "error",
                    down_s / 60,
                )
            )
        return fired


class _OddsWatch:
    """A FedOddsMove rule: fires once the next meeting's cut odds move pp within the window.

    The move is from any value the odds had within the last ``minutes`` (snapshot time). It
    re-arms once the largest move within the window is back under pp by the hysteresis
    margin (the move has aged out, or come back). The odds held are those of one meeting:
    when the next meeting changes (a decision is out) the window starts again.
    """

    def __init__(self, rule: FedOddsMove) -> None:
        self.rule = rule
        self.window = timedelta(minutes=rule.minutes)
        self.meeting: date | None = None
        # (as_of, cut %) at each change; the first entry is the value in force at the window's
        # start, so a level held for hours still counts as the value "within" the window.
        self.seen: deque[tuple[datetime, float]] = deque()
        self.armed = True

    def observe(self, snapshot: Snapshot) -> list[Alert]:
        """Return the alert of a move newly as large as the rule's, if any."""
        odds = snapshot.fed.probabilities
        if not odds or not math.isfinite(odds[0].cut_pct):
            return []
        first, now = odds[0], snapshot.as_of
        if first.meeting != self.meeting:
            self.meeting, self.armed = first.meeting, True
            self.seen.clear()
        seen = self.seen
        if not seen or seen[-1][1] != first.cut_pct:
            seen.append((now, first.cut_pct))
        cutoff = now - self.window
        while len(seen) >= 2 and seen[1][0] <= cutoff:
            seen.popleft()
        move = max((first.cut_pct - value for _at, value in seen), key=abs)
        if abs(move) < self.rule.pp - ODDS_HYSTERESIS_PP:
            self.armed = True
        if not self.armed or abs(move) < self.rule.pp:
            return []
        self.armed = False
        minutes = f"{self.rule.minutes:g} min"
        way = "up" if move > 0 else "down"
        return [
            Alert(
                self.rule,
                "Fed cut odds",
                f"{fmt_day(first.meeting, year=False)} FOMC cut odds {way} {_pp(move)} "
                f"within {minutes}: now {first.cut_pct:.1f} %",
                "warning",
                move,
            )
        ]


_Watch = _CrossWatch | _SectorWatch | _FomcWatch | _FeedWatch | _OddsWatch


def _watch(rule: AlertRule) -> _Watch:
    if isinstance(rule, SpreadCross):
        return _CrossWatch(rule)
    if isinstance(rule, SectorSpread):
        return _SectorWatch(rule)
    if isinstance(rule, FomcSoon):
        return _FomcWatch(rule)
    if isinstance(rule, FedOddsMove):
        return _OddsWatch(rule)
    return _FeedWatch(rule)


def _pp(value: float) -> str:
    return fmt_signed(value, 2, " pp")


class AlertMonitor:
    """Checks every snapshot against the rules; each rule fires once per crossing, not per tick.

    Each rule keeps its own state (two equal rules fire together). Missing figures neither fire
    nor change that state.
    """

    def __init__(self, rules: Iterable[AlertRule]) -> None:
        self.rules: tuple[AlertRule, ...] = tuple(rules)
        self._watches: tuple[_Watch, ...] = tuple(_watch(rule) for rule in self.rules)

    def check(self, snapshot: Snapshot) -> list[Alert]:
        """Return the alerts this snapshot raises, in the order of the rules."""
        alerts: list[Alert] = []
        for watch in self._watches:
            alerts.extend(watch.observe(snapshot))
        return alerts
