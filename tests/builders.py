"""Builders shared by the tests of every folder: quote, bar and daily frames, sparse snapshots.

Importable as ``from builders import ...`` anywhere under tests/: pytest puts tests/ on
sys.path for tests/conftest.py (rootdir-relative "prepend" imports, no __init__.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime

import polars as pl
from capgap.analytics.store import MarketStore
from capgap.core.market_types import FomcDecision, MarketSession
from capgap.core.records import replace
from capgap.core.schemas import BARS, CONSTITUENTS, DAILY, QUOTES, conform_quotes
from capgap.core.snapshot import (
    FedSnapshot,
    FeedStatus,
    IndexQuote,
    LegStats,
    RelativePerformance,
    SectorLeg,
    SectorRow,
    Snapshot,
    SpreadSnapshot,
    StyleLeg,
    StyleSnapshot,
    Valuation,
    empty_leg,
)

QuoteRow = tuple[str, datetime | None, float | None, float | None]

#: Where the live engines' tests start their clocks: a Wednesday, noon in New York. The real
#: "now" made them fail for an hour or two each night, when a clock advanced by hours crossed
#: New York's midnight and a recording gained a second day.
MIDDAY = datetime(2026, 3, 4, 17, 0, tzinfo=UTC)


def quotes_frame(rows: Iterable[QuoteRow], *, volume: float = 0.0) -> pl.DataFrame:
    """Return a QUOTES frame of (symbol, time, last, prev_close) rows, all with ``volume``.

    The details (market cap, EPS, averages, ranges) are null.
    """
    return quotes_table((symbol, moment, last, prev, volume) for symbol, moment, last, prev in rows)


def quotes_table(
    rows: Iterable[tuple[str, datetime | None, float | None, float | None, float | None]],
) -> pl.DataFrame:
    """Return a QUOTES frame of (symbol, time, last, prev_close, volume) rows (no details)."""
    prices = pl.Schema(
        {name: QUOTES[name] for name in ("symbol", "time", "last", "prev_close", "volume")}
    )
    return conform_quotes(pl.DataFrame(list(rows), schema=prices, orient="row"))


def members_frame(
    rows: Iterable[tuple[str, str, str, str]], *, shares: float = 1.0, ref_price: float = 100.0
) -> pl.DataFrame:
    """Return a CONSTITUENTS frame of (symbol, name, sector, bucket) index members.

    Each holds ``shares`` at a holdings price of ``ref_price`` (IVV for large, IWM for small):
    with quotes from :func:`change_quotes` (previous close 100) every member weighs the same,
    so a leg's change is the plain mean of its members' changes, a hand-checkable reference.
    """
    return pl.DataFrame(
        [
            (symbol, name, sector, bucket, "IVV" if bucket == "large" else "IWM", shares, ref_price)
            for symbol, name, sector, bucket in rows
        ],
        schema=CONSTITUENTS,
        orient="row",
    )


def change_quotes(changes: Mapping[str, float], moment: datetime) -> pl.DataFrame:
    """Return quotes whose change in percent is the given one: prev_close 100, last 100 + change.

    The percent change then equals ``change`` up to float rounding, a hand-checkable reference.
    """
    return quotes_frame(
        (symbol, moment, 100.0 + change, 100.0) for symbol, change in changes.items()
    )


def store_with_quotes(quotes: pl.DataFrame) -> MarketStore:
    """Return a fresh MarketStore holding ``quotes``."""
    store = MarketStore()
    store.apply_quotes(quotes)
    return store


def sample_daily() -> pl.DataFrame:
    """Return the sample session's daily bars of every symbol: the core's and the members'."""
    from capgap.core.resources import sample_data_dir

    folder = sample_data_dir()
    return pl.concat(
        [
            pl.read_parquet(folder / "daily.parquet"),
            pl.read_parquet(folder / "members_daily.parquet"),
        ]
    )


def daily_frame(rows: Iterable[tuple[str, date, float]], *, volume: float = 0.0) -> pl.DataFrame:
    """Return a DAILY frame of (symbol, date, close) rows: flat bars, open = high = low = close."""
    return pl.DataFrame(
        [(symbol, day, close, close, close, close, volume) for symbol, day, close in rows],
        schema=DAILY,
        orient="row",
    )


def bars_frame(rows: Iterable[tuple[str, datetime, float]], *, volume: float = 0.0) -> pl.DataFrame:
    """Return a BARS frame of (symbol, time, close) rows: flat bars, open = high = low = close."""
    return pl.DataFrame(
        [(symbol, moment, close, close, close, close, volume) for symbol, moment, close in rows],
        schema=BARS,
        orient="row",
    )


def leg_stats(
    change_pct: float | None,
    *,
    members: int = 1,
    weight_pct: float | None = None,
    breadth_pct: float | None = None,
    forward_pe: float | None = None,
) -> LegStats:
    """Return a leg's stats with the given figures; the rest blank (fully quoted members)."""
    return replace(
        empty_leg(members),
        quoted=members,
        coverage_pct=100.0,
        change_pct=change_pct,
        weight_pct=weight_pct,
        up_pct=breadth_pct,
        forward_pe=forward_pe,
    )


def sector_leg(
    change_pct: float | None,
    etf_symbol: str | None = None,
    *,
    etf_change_pct: float | None = None,
    members: int = 1,
    weight_pct: float | None = None,
    breadth_pct: float | None = None,
) -> SectorLeg:
    """Return one side of a sector row whose members moved ``change_pct``."""
    stats = leg_stats(change_pct, members=members, weight_pct=weight_pct, breadth_pct=breadth_pct)
    return SectorLeg(stats, etf_symbol, etf_change_pct)


def blank_quote(
    symbol: str, name: str | None = None, change_pct: float | None = None
) -> IndexQuote:
    """Return an index quote with no price, only (perhaps) a change in percent."""
    return IndexQuote(symbol, symbol if name is None else name, None, None, change_pct, None)


def sparse_snapshot(
    as_of: datetime,
    *,
    large: IndexQuote | None = None,
    small: IndexQuote | None = None,
    gap: float | None = None,
    ratio: float | None = None,
    sectors: Sequence[SectorRow] = (),
    demo: bool = False,
    feeds: Sequence[FeedStatus] = (),
    decision: FomcDecision | None = None,
    last_decision: FomcDecision | None = None,
) -> Snapshot:
    """Build a Snapshot whose figures are all unknown but the ones given (market open).

    For code that reads a few figures (alert rules, the tmux line): anything it wrongly reads
    elsewhere is None and shows up.
    """
    leg = StyleLeg("IWD", "IWF", None, None, None)
    return Snapshot(
        as_of=as_of,
        source="test",
        demo=demo,
        market=MarketSession("open", None, None),
        spread=SpreadSnapshot(
            large=large or blank_quote("^GSPC", "S&P 500"),
            small=small or blank_quote("^RUT", "Russell 2000"),
            relative_pp=RelativePerformance(gap, None, None, None, None, None),
            ratio=ratio,
            ratio_z_1y=None,
            beta_60d=None,
            corr_60d=None,
            valuation=Valuation(None, None, None, None),
        ),
        sectors=tuple(sectors),
        style=StyleSnapshot(leg, leg),
        fed=FedSnapshot(
            next_decision=decision,
            target_range=None,
            target_source=None,
            last_decision=last_decision,
        ),
        feeds=tuple(feeds),
    )
