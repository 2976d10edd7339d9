"""The immutable Snapshot built once per tick: everything the UI and `capgap snapshot` show."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from capgap.core.market_types import NEW_YORK, FomcDecision, MarketSession

FeedState = Literal["ok", "degraded", "down"]
SectorTag = Literal["cyclical", "defensive"]
Bucket = Literal["large", "small"]


@dataclass(frozen=True, slots=True)
class IndexQuote:
    """Last price of an index (or its proxy) and its change against the previous close."""

    symbol: str
    name: str
    last: float | None
    prev_close: float | None
    change_pct: float | None
    as_of: datetime | None
    #: Seconds since this figure last arrived (None when unknown, as in a replay made by hand).
    age_s: float | None = None
    #: True when it is older than its feed allows (the feed failed for it, or it went quiet).
    stale: bool = False


@dataclass(frozen=True, slots=True)
class RelativePerformance:
    """Small-cap minus large-cap performance in percentage points over standard windows."""

    d1: float | None
    d5: float | None
    m1: float | None
    m3: float | None
    ytd: float | None
    y1: float | None

    def items(self) -> tuple[tuple[str, float | None], ...]:
        """Return (label, value) pairs in display order, labels as the JSON keys."""
        return (
            ("1d", self.d1),
            ("5d", self.d5),
            ("1m", self.m1),
            ("3m", self.m3),
            ("ytd", self.ytd),
            ("1y", self.y1),
        )


@dataclass(frozen=True, slots=True)
class Valuation:
    """Forward P/E of large and small caps; ``source`` says where the numbers come from."""

    large_forward_pe: float | None
    small_forward_pe: float | None
    small_discount_pct: float | None
    source: str | None  # "sample" for the bundled session, a provider name when live, else None


@dataclass(frozen=True, slots=True)
class RatioPoint:
    """One point of the small/large ratio history (daily closes, today's last appended)."""

    day: date
    ratio: float


@dataclass(frozen=True, slots=True)
class WindowStats:
    """The ratio over one window of the spread screen: first, last, % change, low and high.

    ``first_day`` is the window's base: the last session on or before the window's start,
    the one the panel's change over the same window is measured from.
    """

    first_day: date
    first: float
    last: float
    change_pct: float
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class SpreadSnapshot:
    """The large-cap vs small-cap panel."""

    large: IndexQuote
    small: IndexQuote
    relative_pp: RelativePerformance
    ratio: float | None
    ratio_z_1y: float | None
    beta_60d: float | None
    corr_60d: float | None
    valuation: Valuation
    ratio_history: tuple[RatioPoint, ...] = ()


@dataclass(frozen=True, slots=True)
class Mover:
    """A constituent among a sector's leaders or laggards."""

    symbol: str
    name: str
    bucket: Bucket
    change_pct: float


@dataclass(frozen=True, slots=True)
class SectorLeg:
    """One side (large or small caps) of a sector row.

    ``symbol`` is the ETF, or None when the figure comes from the constituents
    (``from_constituents`` is then True and ``change_pct`` is their equal-weighted mean).
    """

    symbol: str | None
    change_pct: float | None
    from_constituents: bool
    breadth_pct: float | None
    constituents: int


@dataclass(frozen=True, slots=True)
class SectorRow:
    """A GICS sector: large against small, breadth, leaders and laggards."""

    sector: str
    tag: SectorTag
    large: SectorLeg
    small: SectorLeg
    spread_pp: float | None
    breadth_pct: float | None
    leaders: tuple[Mover, ...]
    laggards: tuple[Mover, ...]


@dataclass(frozen=True, slots=True)
class StyleLeg:
    """Value minus growth for one cap size."""

    value_symbol: str
    growth_symbol: str
    value_change_pct: float | None
    growth_change_pct: float | None
    value_minus_growth_pp: float | None


@dataclass(frozen=True, slots=True)
class StyleSnapshot:
    """Value against growth, large (IWD-IWF) and small (IWN-IWO)."""

    large: StyleLeg
    small: StyleLeg


@dataclass(frozen=True, slots=True)
class RangeOdds:
    """The chance that the target range is ``target_range`` after a meeting."""

    target_range: tuple[float, float]
    probability_pct: float


@dataclass(frozen=True, slots=True)
class MeetingOdds:
    """What the futures price for one upcoming FOMC meeting.

    cut/hold/hike and ``outcomes`` are cumulative: the total move since today, applied to
    today's target range. ``start_rate`` and ``implied_rate`` are the rates implied before and
    after the meeting, ``anchor`` the FedWatch rule that found them (see capgap.market.fedwatch),
    and ``expected_change_bp`` the meeting's own expected move. ``move_bp`` is the move from the
    previous meeting's implied rate (the first meeting's from its own start, the rate now) and
    ``total_bp`` the move since that rate now: both differences of the rates as shown, so they
    add up.
    """

    meeting: date
    sep: bool
    cut_pct: float
    hold_pct: float
    hike_pct: float
    implied_rate: float
    expected_change_bp: float
    outcomes: tuple[RangeOdds, ...]
    start_rate: float
    anchor: str
    move_bp: float
    total_bp: float


@dataclass(frozen=True, slots=True)
class FuturesPrice:
    """A 30-day Fed funds futures price used by FedWatch, with its age."""

    symbol: str
    month: str  # "YYYY-MM"
    price: float
    implied_rate: float
    as_of: datetime | None
    age_s: float | None


@dataclass(frozen=True, slots=True)
class FedSnapshot:
    """The Fed panel: next decision, target range, EFFR and the odds the futures imply.

    ``last_decision`` is set while the latest statement is nearer than the next one (the
    panel then says that decision is out). ``fedwatch_error`` says why there are no odds.
    """

    next_decision: FomcDecision | None
    target_range: tuple[float, float] | None
    target_source: str | None
    effr: float | None = None
    futures_source: str | None = None
    probabilities: tuple[MeetingOdds, ...] = ()
    futures: tuple[FuturesPrice, ...] = ()
    fedwatch_error: str | None = None
    last_decision: FomcDecision | None = None


#: The name of the recorder's status in a snapshot's feeds: there while recording (REC).
RECORDER_FEED = "recorder"


@dataclass(frozen=True, slots=True)
class FeedStatus:
    """Health of one feed: state, age of the last success, the last error and next retry.

    ``stale`` is the verdict at the snapshot's instant; ``stale_after_s`` (clock seconds after
    the last success, None when the feed has no cadence) lets a screen judge it again as its
    clock ticks: a poll that hangs for a minute sends no snapshot meanwhile. ``problems``
    are the last poll's (symbol, problem) pairs while the feed itself answered.
    """

    name: str
    state: FeedState
    last_success: datetime | None
    age_s: float | None
    error: str | None
    next_retry: datetime | None = None
    stale: bool = False
    stale_after_s: float | None = None
    problems: tuple[tuple[str, str], ...] = ()

    def stale_at(self, now: datetime) -> bool:
        """Return whether the feed's figures are stale at ``now`` (see ``stale_after_s``)."""
        if self.stale_after_s is None:
            return self.stale
        if self.last_success is None:
            return True
        return (now - self.last_success).total_seconds() > self.stale_after_s


@dataclass(frozen=True, slots=True)
class ConstituentRow:
    """One stock of a sector (or watchlist) drilldown.

    Weights are equal within a bucket (capgap has no market caps), so ``contribution_pp`` is the
    stock's share of its bucket's equal-weighted move: ``change_pct * weight_pct / 100``.
    ``vs_etf_pp`` is its change minus its bucket's leg (the ETF, or the constituents' mean).
    """

    symbol: str
    name: str
    bucket: Bucket | None
    last: float | None
    change_pct: float | None
    weight_pct: float | None
    contribution_pp: float | None
    vs_etf_pp: float | None


@dataclass(frozen=True, slots=True)
class SectorDetail:
    """The sector screen: the sector's row (None for a watchlist) and its constituents."""

    name: str
    kind: Literal["sector", "watchlist"]
    row: SectorRow | None
    constituents: tuple[ConstituentRow, ...]


@dataclass(frozen=True, slots=True)
class PricePoint:
    """One intraday close (UTC time of the bar's start)."""

    time: datetime
    close: float


@dataclass(frozen=True, slots=True)
class DailyPoint:
    """One daily close (New York session date)."""

    day: date
    close: float


@dataclass(frozen=True, slots=True)
class SymbolDetail:
    """The symbol screen: price, changes over 1D..1Y, risk against its index, 52-week range.

    ``changes`` holds percent changes (not pp) in the RelativePerformance shape; ``index`` is
    the index beta and correlation are measured against (the Russell 2000 for small caps).
    """

    symbol: str
    name: str
    sector: str | None
    bucket: Bucket | None
    index: str
    last: float | None
    prev_close: float | None
    change_pct: float | None
    changes: RelativePerformance
    beta_60d: float | None
    corr_60d: float | None
    low_52w: float | None
    high_52w: float | None
    intraday: tuple[PricePoint, ...] = ()
    daily: tuple[DailyPoint, ...] = ()


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything capgap knows at one instant; widgets only render it."""

    as_of: datetime
    source: str
    demo: bool
    market: MarketSession
    spread: SpreadSnapshot
    sectors: tuple[SectorRow, ...]
    style: StyleSnapshot
    fed: FedSnapshot
    feeds: tuple[FeedStatus, ...] = field(default=())
    data_as_of: datetime | None = None
    # Built only while a drilldown screen asks for them (Engine.focus).
    sector_detail: SectorDetail | None = None
    symbol_detail: SymbolDetail | None = None
    #: The session the daily windows count from (the date of the newest index quote); None
    #: in a snapshot made by hand, which then counts from the New York date of ``as_of``.
    session_date: date | None = None

    @property
    def today(self) -> date:
        """Return the day every window of this snapshot counts from (see session_date)."""
        if self.session_date is not None:
            return self.session_date
        return self.as_of.astimezone(NEW_YORK).date()
