"""The immutable Snapshot built once per tick: everything the UI and `capgap snapshot` show."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from msgspec import Struct

from capgap.core.market_types import NEW_YORK, FomcDecision, MarketSession
from capgap.core.quadrants import Quadrant, quadrant

FeedState = Literal["ok", "degraded", "down"]
SectorTag = Literal["cyclical", "defensive"]
Bucket = Literal["large", "small"]


class IndexQuote(Struct, frozen=True):
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


class RelativePerformance(Struct, frozen=True):
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


#: The share of a leg's weight its members must cover before an aggregate is shown: a figure
#: over too few of them would pass for the index's.
COVERAGE_MIN_PCT = 80.0


class LegStats(Struct, frozen=True):
    """An index leg (or one sector of it) aggregated over its members, weighted as the index is.

    A member's weight is the shares its fund holds times its price (its market cap where the
    holdings lack it). ``change_pct`` is ``sum(q*(p-prev)) / sum(q*prev)``; the forward P/E is
    bottom-up, ``sum(q*p) / sum(q*eps)``, without the members of negative forward earnings
    (the headline) and with them; the shares of members are by count. ``weight_pct`` is the
    leg's weight in its index (100 for an index). Each figure is None, never zero, while the
    members it rests on cover less than COVERAGE_MIN_PCT of the leg's weight (or, for the
    counts, before anything moved).
    """

    members: int
    quoted: int
    coverage_pct: float | None
    weight_pct: float | None
    change_pct: float | None
    forward_pe: float | None
    forward_pe_incl_negative: float | None
    pe_coverage_pct: float | None
    unprofitable_pct: float | None
    up_pct: float | None
    above_50d_pct: float | None
    above_200d_pct: float | None
    new_highs: int | None
    new_lows: int | None


def empty_leg(members: int = 0) -> LegStats:
    """Return the stats of a leg with no quoted members (every figure blank)."""
    return LegStats(
        members, 0, None, None, None, None, None, None, None, None, None, None, None, None
    )


class IndexLegs(Struct, frozen=True):
    """Both indices aggregated over their members: the breadth panel and the valuation."""

    large: LegStats
    small: LegStats


class Valuation(Struct, frozen=True):
    """Forward P/E of large and small caps, bottom-up from the members (see LegStats).

    The headline leaves out members with negative forward earnings, as FTSE Russell does; the
    ``*_incl_negative`` figures keep them. ``source`` says where the figures come from.
    """

    large_forward_pe: float | None
    small_forward_pe: float | None
    small_discount_pct: float | None
    source: str | None  # "sample" for the bundled session, a provider name when live, else None
    large_forward_pe_incl_negative: float | None = None
    small_forward_pe_incl_negative: float | None = None
    large_unprofitable_pct: float | None = None
    small_unprofitable_pct: float | None = None
    large_coverage_pct: float | None = None
    small_coverage_pct: float | None = None


class RatioPoint(Struct, frozen=True):
    """One point of the small/large ratio history (daily closes, today's last appended)."""

    day: date
    ratio: float


class WindowStats(Struct, frozen=True):
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


ExtendedSession = Literal["pre", "post"]


class ExtendedGap(Struct, frozen=True):
    """SPY's and IWM's pre- or post-market move against the regular close, and their gap.

    ``large`` and ``small`` are the extended prices' % change against the last regular close
    (None when the price is missing or older than the session's window); ``gap_pp`` is small
    minus large; ``as_of`` the time of the older price shown.
    """

    session: ExtendedSession
    large_symbol: str
    small_symbol: str
    large: float | None
    small: float | None
    gap_pp: float | None
    as_of: datetime | None

    @property
    def shown(self) -> bool:
        """True when at least one leg has a price of this session."""
        return self.large is not None or self.small is not None


class IndexFutures(Struct, frozen=True):
    """The S&P 500 and Russell 2000 index futures: the move since their last settlement."""

    large: IndexQuote
    small: IndexQuote


class SpreadSnapshot(Struct, frozen=True):
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
    #: The pre- or post-market gap, in those hours only (None in the session and overnight).
    extended: ExtendedGap | None = None


class Mover(Struct, frozen=True):
    """A constituent among a sector's leaders or laggards."""

    symbol: str
    name: str
    bucket: Bucket
    change_pct: float


class SectorLeg(Struct, frozen=True):
    """One side of a sector row: the index's own members in the sector, weighted as the index.

    ``stats`` aggregates the members (its ``weight_pct`` is the sector's weight in the index);
    the sector fund (``etf_symbol``, the small side's an S&P 600 fund) stays as a reference.
    A sector with no members (a custom one made of funds) takes its change from its fund.
    """

    stats: LegStats
    etf_symbol: str | None = None
    etf_change_pct: float | None = None

    @property
    def change_pct(self) -> float | None:
        """The leg's change today: its members' weighted change, else its fund's."""
        if self.stats.members:
            return self.stats.change_pct
        return self.etf_change_pct

    @property
    def from_etf(self) -> bool:
        """True when the change is the fund's (the leg has no members)."""
        return not self.stats.members and self.etf_symbol is not None

    @property
    def members(self) -> int:
        """The number of members in the leg."""
        return self.stats.members

    @property
    def weight_pct(self) -> float | None:
        """The sector's weight in its index, in percent."""
        return self.stats.weight_pct

    @property
    def forward_pe(self) -> float | None:
        """The leg's bottom-up forward P/E (negative earners left out)."""
        return self.stats.forward_pe

    @property
    def breadth_pct(self) -> float | None:
        """The share of the leg's members up today, in percent."""
        return self.stats.up_pct


#: The windows of a sector's legs, shortest first (the order the sectors table cycles them).
SECTOR_WINDOW_IDS = ("1d", "5d", "1m", "3m", "ytd")


class SectorWindow(Struct, frozen=True):
    """A sector's legs over one window (see SECTOR_WINDOW_IDS), in % and pp.

    None where the window has no figure: its base is older than the history, or too little
    of the leg's weight had closes over it (see COVERAGE_MIN_PCT).
    """

    id: str
    large_pct: float | None
    small_pct: float | None
    spread_pp: float | None


class SectorRow(Struct, frozen=True):
    """A GICS sector: large against small, breadth, leaders and laggards.

    ``windows`` are its legs over the longer windows (5d..ytd) where the members' daily
    history is known; the one-day window is always the row's own changes (see ``window``).
    """

    sector: str
    tag: SectorTag
    large: SectorLeg
    small: SectorLeg
    spread_pp: float | None
    breadth_pct: float | None
    leaders: tuple[Mover, ...]
    laggards: tuple[Mover, ...]
    windows: tuple[SectorWindow, ...] = ()

    def window(self, window_id: str) -> SectorWindow:
        """Return the legs over ``window_id`` (all None when that window is unknown)."""
        if window_id == "1d":
            # One definition: the one-day window is the row's change, not a copy of it.
            return SectorWindow("1d", self.large.change_pct, self.small.change_pct, self.spread_pp)
        for window in self.windows:
            if window.id == window_id:
                return window
        return SectorWindow(window_id, None, None, None)


class RotationTailPoint(Struct, frozen=True):
    """One weekly point of a sector's rotation tail (the date of the week's last session)."""

    day: date
    rs_ratio: float
    rs_momentum: float


class RotationPoint(Struct, frozen=True):
    """A sector on the rotation map: small-cap leg against large-cap leg, week by week.

    ``rs_ratio`` and ``rs_momentum`` are the latest week's (capgap.analytics.rotation has the
    formula); ``tail`` holds the last weeks' points oldest first, the latest (the head) last.
    A sector without a point has None figures, no tail and a ``reason`` saying why.
    """

    sector: str
    rs_ratio: float | None
    rs_momentum: float | None
    quadrant: Quadrant | None
    tail: tuple[RotationTailPoint, ...] = ()
    reason: str | None = None

    @classmethod
    def headed(cls, sector: str, tail: tuple[RotationTailPoint, ...]) -> RotationPoint:
        """Return the sector's point with ``tail`` (oldest first): its head is the last week."""
        head = tail[-1]
        return cls(
            sector, head.rs_ratio, head.rs_momentum, quadrant(head.rs_ratio, head.rs_momentum), tail
        )


class StyleLeg(Struct, frozen=True):
    """Value minus growth for one cap size."""

    value_symbol: str
    growth_symbol: str
    value_change_pct: float | None
    growth_change_pct: float | None
    value_minus_growth_pp: float | None


class StyleSnapshot(Struct, frozen=True):
    """Value against growth, large (IWD-IWF) and small (IWN-IWO)."""

    large: StyleLeg
    small: StyleLeg


class RangeOdds(Struct, frozen=True):
    """The chance that the target range is ``target_range`` after a meeting."""

    target_range: tuple[float, float]
    probability_pct: float


#: The past closes a meeting's odds are shown at: the previous session, 5 sessions back and
#: the last session on or before one calendar month back (see capgap.analytics.fed_history).
ODDS_HORIZONS = ("1d", "1w", "1m")


class PastOdds(Struct, frozen=True):
    """A meeting's odds as the futures priced them at a past session's close.

    ``day`` is the session (None when the history does not reach back that far); the
    percentages are None where a close the meeting needs is missing on that day.
    """

    horizon: str
    day: date | None
    cut_pct: float | None
    hold_pct: float | None
    hike_pct: float | None


class CutOddsPoint(Struct, frozen=True):
    """The next meeting's cut odds (a rate below today's target, in %) at one session's close."""

    day: date
    cut_pct: float


class MeetingOdds(Struct, frozen=True):
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
    history: tuple[PastOdds, ...] = ()


class FuturesPrice(Struct, frozen=True):
    """A 30-day Fed funds futures price used by FedWatch, with its age."""

    symbol: str
    month: str  # "YYYY-MM"
    price: float
    implied_rate: float
    as_of: datetime | None
    age_s: float | None


class FedSnapshot(Struct, frozen=True):
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
    #: The next meeting's cut odds at each session's close over the last three months.
    cut_odds_history: tuple[CutOddsPoint, ...] = ()
    #: Why there is no history (no daily closes of the contracts, too few sessions), or None.
    history_note: str | None = None
    #: The rate past odds start from where no contract anchors them ("today's EFFR").
    history_anchor: str | None = None


#: The name of the recorder's status in a snapshot's feeds: there while recording (REC).
RECORDER_FEED = "recorder"
#: The name of a followed recording's status (capgap --follow): its age, or why it is stale.
RECORDING_FEED = "recording"
#: The key of a feed's problem that concerns no symbol but the provider's session (one that
#: could not be stored): listed with the problems, the quotes it brought are fine.
SESSION_PROBLEM = "(session)"


class FeedStatus(Struct, frozen=True):
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


class ConstituentRow(Struct, frozen=True):
    """One stock of a sector (or watchlist) drilldown.

    ``weight_pct`` is its weight in its leg (the sector's members of its index, weighted as
    the index: see LegStats) and ``contribution_pp`` its share of the leg's change,
    ``weight * change``; a leg's contributions add up to its change. ``vs_etf_pp`` is its change
    minus its leg's. ``above_50d``/``above_200d`` compare its price with those averages.
    """

    symbol: str
    name: str
    bucket: Bucket | None
    last: float | None
    change_pct: float | None
    weight_pct: float | None
    contribution_pp: float | None
    vs_etf_pp: float | None
    forward_pe: float | None = None
    above_50d: bool | None = None
    above_200d: bool | None = None


class SectorDetail(Struct, frozen=True):
    """The sector screen: the sector's row (None for a watchlist) and its constituents."""

    name: str
    kind: Literal["sector", "watchlist"]
    row: SectorRow | None
    constituents: tuple[ConstituentRow, ...]


class PricePoint(Struct, frozen=True):
    """One intraday close (UTC time of the bar's start)."""

    time: datetime
    close: float


class DailyPoint(Struct, frozen=True):
    """One daily close (New York session date)."""

    day: date
    close: float


class SymbolDetail(Struct, frozen=True):
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


class UniverseInfo(Struct, frozen=True):
    """Where one leg's members come from and how fresh their quotes are.

    ``source`` names the fund ("iShares IVV"), ``origin`` says "shipped" or "cache";
    ``oldest_quote_s`` is the age of the oldest member quote (the rolling refresh's lag).
    """

    index: str
    source: str
    as_of: date
    origin: str
    members: int
    quoted: int = 0
    oldest_quote_s: float | None = None


class UniverseSnapshot(Struct, frozen=True):
    """The membership behind both legs (None for a leg a hand-made universe lacks).

    ``rolling`` is True when the members are quoted in turns (a live feed with a request
    budget): only then does the oldest member quote's age say something worth showing.
    """

    large: UniverseInfo | None
    small: UniverseInfo | None
    rolling: bool = False


#: The windows of the gap in three parts, shortest first: the spread panel's (JSON keys).
DECOMPOSITION_WINDOW_IDS = ("1d", "5d", "1m", "3m", "ytd", "1y")


class GapParts(Struct, frozen=True):
    """The small-minus-large gap over one window in three parts, in percentage points.

    concentration = equal-weight S&P 500 minus S&P 500, size = S&P SmallCap 600 minus the
    equal-weight S&P 500, quality (profitability) = Russell 2000 minus S&P SmallCap 600; they
    add up to ``total`` (the spread panel's figure). A part whose symbols lack a base is None.
    """

    concentration_pp: float | None
    size_pp: float | None
    quality_pp: float | None
    total_pp: float | None


class Decomposition(Struct, frozen=True):
    """The gap in three parts over each window (DECOMPOSITION_WINDOW_IDS order).

    ``equal_weight`` and ``small_quality`` are the symbols of the two middle legs (RSP,
    ^SP600), named in the screen's legend beside the spread's own two indices.
    """

    windows: tuple[tuple[str, GapParts], ...]
    equal_weight: str
    small_quality: str

    def parts(self, window: str) -> GapParts | None:
        """Return the parts over ``window`` (None for a window not computed)."""
        return next((parts for wid, parts in self.windows if wid == window), None)


class HistoryStatus(Struct, frozen=True):
    """How far the members' daily history behind the sectors' windows has come.

    ``loaded`` of ``members`` have their closes in; ``through`` is the last close the
    sectors' levels reach (None before any); ``error`` says why the last load failed.
    """

    loaded: int
    members: int
    through: date | None = None
    error: str | None = None


class Snapshot(Struct, frozen=True):
    """Everything capgap knows at one instant; widgets only render it."""

    as_of: datetime
    source: str
    demo: bool
    market: MarketSession
    spread: SpreadSnapshot
    sectors: tuple[SectorRow, ...]
    style: StyleSnapshot
    fed: FedSnapshot
    feeds: tuple[FeedStatus, ...] = ()
    data_as_of: datetime | None = None
    # Built only while a drilldown screen asks for them (Engine.focus).
    sector_detail: SectorDetail | None = None
    symbol_detail: SymbolDetail | None = None
    #: The session the daily windows count from (the date of the newest index quote); None
    #: in a snapshot made by hand, which then counts from the New York date of ``as_of``.
    session_date: date | None = None
    #: Both indices aggregated over their members (breadth, valuation inputs).
    indices: IndexLegs | None = None
    #: Where the members come from and how fresh their quotes are.
    universe: UniverseSnapshot | None = None
    #: The index futures (None in a snapshot made by hand).
    futures: IndexFutures | None = None
    #: Each sector on the rotation map of size (small against large), in the universe's order.
    rotation: tuple[RotationPoint, ...] = ()
    #: The members' daily history behind the sectors' windows (None: the source has none).
    sector_history: HistoryStatus | None = None
    #: The gap in three parts over each window (None in a snapshot made by hand).
    decomposition: Decomposition | None = None

    @property
    def today(self) -> date:
        """Return the day every window of this snapshot counts from (see session_date)."""
        if self.session_date is not None:
            return self.session_date
        return self.as_of.astimezone(NEW_YORK).date()


def futures_outside_session(snapshot: Snapshot) -> IndexFutures | None:
    """Return the futures to show beside the indices: outside the regular session, when quoted.

    The one rule for the spread panel and `capgap snapshot`'s table: in the session the
    indices themselves move; before and after it, and overnight, the futures show the move.
    """
    futures = snapshot.futures
    if futures is None or snapshot.market.state == "open":
        return None
    if futures.large.last is None and futures.small.last is None:
        return None
    return futures
