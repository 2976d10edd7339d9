"""Helpers of the app tests: hand-built snapshots, a scripted engine, screen text."""

from __future__ import annotations

import asyncio
import calendar
import math
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from capgap.core.clock import ManualClock
from capgap.core.market_types import NEW_YORK
from capgap.core.records import replace
from capgap.core.snapshot import (
    ConstituentRow,
    FedSnapshot,
    FeedState,
    FeedStatus,
    FuturesPrice,
    IndexLegs,
    IndexQuote,
    LegStats,
    MeetingOdds,
    Mover,
    RangeOdds,
    RatioPoint,
    RelativePerformance,
    RotationPoint,
    RotationTailPoint,
    SectorDetail,
    SectorLeg,
    SectorRow,
    Snapshot,
    SpreadSnapshot,
    StyleLeg,
    StyleSnapshot,
    Valuation,
)
from capgap.feeds.base import ReferenceData
from capgap.market.calendar import market_session
from capgap.market.fedwatch import path_moves
from capgap.market.fomc import default_schedule, next_decision, recent_decision

if TYPE_CHECKING:
    from capgap.ui.app import CapgapApp

#: The instant of the snapshot tests: the bundled sample session, mid-morning.
SESSION_11AM = datetime(2025, 12, 5, 11, 0, tzinfo=NEW_YORK)
SNAPSHOT_THEME = "textual-dark"

# name, tag, large fund, S&P 600 fund (None: there is none), large %, small %, breadth %,
# the sector's weight in the S&P 500 and in the Russell 2000 (%). The legs are the members'
# weighted changes; each fund's own change is its leg's plus FUND_OFFSET_PP.
SECTOR_FIGURES: tuple[
    tuple[str, str, str, str | None, float, float | None, float, float, float], ...
] = (
    ("Information Technology", "cyclical", "XLK", "PSCT", 0.62, 0.15, 58.3, 34.2, 13.9),
    ("Financials", "cyclical", "XLF", "PSCF", -0.21, 0.48, 45.8, 13.4, 18.9),
    ("Industrials", "cyclical", "XLI", "PSCI", 0.05, -0.35, 41.7, 8.2, 17.4),
    ("Materials", "cyclical", "XLB", "PSCM", -0.44, -0.12, 33.3, 1.9, 4.2),
    ("Energy", "cyclical", "XLE", "PSCE", 1.10, 1.85, 83.3, 2.9, 4.9),
    ("Consumer Discretionary", "cyclical", "XLY", "PSCD", 0.30, -0.90, 37.5, 10.4, 9.8),
    ("Communication Services", "cyclical", "XLC", None, -0.75, -1.20, 25.0, 10.1, 2.4),
    ("Real Estate", "cyclical", "XLRE", None, 0.00, None, 50.0, 1.9, 5.9),
    ("Consumer Staples", "defensive", "XLP", "PSCC", -0.10, 0.20, 54.2, 4.8, 2.1),
    ("Health Care", "defensive", "XLV", "PSCH", 0.45, -0.60, 45.8, 9.0, 16.4),
    ("Utilities", "defensive", "XLU", "PSCU", -0.95, -1.40, 16.7, 2.3, 2.9),
)
#: A sector fund's change minus its leg's: the reference column differs from the leg.
FUND_OFFSET_PP = 0.05


def make_leg(
    members: int,
    change: float | None,
    *,
    weight: float | None = 100.0,
    up: float | None = None,
    forward_pe: float | None = None,
    forward_pe_incl_negative: float | None = None,
    unprofitable: float | None = None,
    above_50d: float | None = None,
    above_200d: float | None = None,
    new_highs: int | None = None,
    new_lows: int | None = None,
    quoted: int | None = None,
    coverage: float | None = 100.0,
) -> LegStats:
    """Return a leg's stats by hand (every figure given; None below coverage)."""
    return LegStats(
        members=members,
        quoted=members if quoted is None else quoted,
        coverage_pct=coverage,
        weight_pct=weight,
        change_pct=change,
        forward_pe=forward_pe,
        forward_pe_incl_negative=forward_pe_incl_negative,
        pe_coverage_pct=coverage,
        unprofitable_pct=unprofitable,
        up_pct=up,
        above_50d_pct=above_50d,
        above_200d_pct=above_200d,
        new_highs=new_highs,
        new_lows=new_lows,
    )


#: Both indices over their members: the breadth panel's and the valuation line's figures.
INDEX_LEGS = IndexLegs(
    large=make_leg(
        503,
        0.1937,
        up=62.0,
        forward_pe=23.1,
        forward_pe_incl_negative=24.0,
        unprofitable=6.2,
        above_50d=55.3,
        above_200d=58.1,
        new_highs=12,
        new_lows=3,
        coverage=99.4,
    ),
    small=make_leg(
        1921,
        -0.3824,
        up=41.0,
        forward_pe=18.6,
        forward_pe_incl_negative=27.3,
        unprofitable=41.4,
        above_50d=38.2,
        above_200d=45.0,
        new_highs=4,
        new_lows=18,
        quoted=1890,
        coverage=93.2,
    ),
)
#: The valuation the analytics would give for INDEX_LEGS: 18.6 / 23.1 is 19.48 % cheaper.
VALUATION = Valuation(
    large_forward_pe=23.1,
    small_forward_pe=18.6,
    small_discount_pct=(1 - 18.6 / 23.1) * 100,
    source="sample",
    large_forward_pe_incl_negative=24.0,
    small_forward_pe_incl_negative=27.3,
    large_unprofitable_pct=6.2,
    small_unprofitable_pct=41.4,
    large_coverage_pct=99.4,
    small_coverage_pct=93.2,
)


def make_sector_leg(
    members: int,
    change: float | None,
    weight: float,
    breadth: float,
    fund: str | None,
) -> SectorLeg:
    """Return one side of a sector row: its members' stats and its fund as the reference."""
    stats = make_leg(members, change, weight=weight, up=breadth, forward_pe=20.0)
    fund_change = None if fund is None or change is None else round(change + FUND_OFFSET_PP, 4)
    return SectorLeg(stats, fund, fund_change)


def _movers(sector_index: int, sign: float) -> tuple[Mover, ...]:
    # "[BRK]"-like symbols would vanish in markup: one bracketed symbol checks that they do not.
    symbols = ("[TST]", "AAA", "BBB") if sector_index == 0 and sign > 0 else ("CCC", "DDD", "EEE")
    return tuple(
        Mover(
            symbol=symbol,
            name=f"{symbol} Inc.",
            bucket="large" if rank % 2 == 0 else "small",
            change_pct=sign * (3.0 - rank * 0.75 + sector_index * 0.1),
        )
        for rank, symbol in enumerate(symbols)
    )


#: Each coming meeting's own move, in 25 bp steps, as FedWatch would read it from futures
#: (k = -0.87: 87 % a 25 bp cut, 13 % no change). The cumulative odds follow by hand:
#: meeting 1 cut 87 / hold 13; meeting 2 (k = -0.2) cut 89.6 / hold 10.4 (0.87 + 0.13 x 0.2);
#: meeting 5 (k = +0.1) lets the last hold branch (4.368 %) hike: hike 0.4368 %.
FED_STEPS: tuple[float, ...] = (-0.87, -0.20, -0.40, -0.30, 0.10, -0.25)
FED_EFFR = 3.89
FED_RANGE = (3.75, 4.0)
FED_FUTURES_SOURCE = "sample ZQ"
_MONTH_CODES = "FGHJKMNQUVXZ"


def _cumulative(steps: list[float]) -> dict[int, float]:
    """Return the distribution of the total move (in 25 bp steps) after ``steps`` meetings."""
    moves = {0: 1.0}
    for k in steps:
        low = int(k // 1)  # the whole step below k (-0.87 -> -1)
        up_share = k - low  # the chance of the step above
        after: dict[int, float] = {}
        for move, chance in moves.items():
            for step, share in ((low, 1.0 - up_share), (low + 1, up_share)):
                if share > 1e-12:
                    after[move + step] = after.get(move + step, 0.0) + chance * share
        moves = after
    return moves


def make_fed(
    now: datetime,
    *,
    steps: tuple[float, ...] = FED_STEPS,
    target_range: tuple[float, float] | None = FED_RANGE,
    effr: float | None = FED_EFFR,
    error: str | None = None,
) -> FedSnapshot:
    """Build the Fed part of a snapshot: odds of the next meetings and the futures behind them.

    The implied rate starts at the EFFR and moves 25 bp x k at each meeting; each futures
    price is 100 minus its month's average of that daily rate (rounded to 0.0025).
    """
    now = now.astimezone(UTC)
    coming = [meeting for meeting in default_schedule() if meeting.statement_at > now]
    meetings = coming[: len(steps)] if error is None else []
    low, high = target_range or FED_RANGE
    odds: list[MeetingOdds] = []
    rate = effr if effr is not None else (low + high) / 2
    path: list[tuple[date, float]] = []
    for index, meeting in enumerate(meetings):
        k = steps[index]
        before = rate
        rate += 0.25 * k
        path.append((meeting.date, rate))
        moves = _cumulative(list(steps[: index + 1]))
        pct = {move: 100.0 * chance for move, chance in moves.items()}
        outcomes = tuple(
            RangeOdds((low + 0.25 * move, high + 0.25 * move), round(chance, 4))
            for move, chance in sorted(pct.items())
        )
        odds.append(
            MeetingOdds(
                meeting=meeting.date,
                sep=meeting.sep,
                cut_pct=round(sum((c for m, c in pct.items() if m < 0), 0.0), 4),
                hold_pct=round(pct.get(0, 0.0), 4),
                hike_pct=round(sum((c for m, c in pct.items() if m > 0), 0.0), 4),
                implied_rate=round(rate, 4),
                expected_change_bp=round(25.0 * k, 2),
                outcomes=outcomes,
                start_rate=round(before, 4),
                anchor="start_rate" if index == 0 else "previous_meeting",
                move_bp=0.0,
                total_bp=0.0,
            )
        )
    # The moves come from the rates as shown, as the analytics give them.
    shown = path_moves(odds[0].start_rate, [o.implied_rate for o in odds]) if odds else ()
    odds = [
        replace(item, move_bp=move, total_bp=total)
        for item, (move, total) in zip(odds, shown, strict=True)
    ]
    futures: list[FuturesPrice] = []
    start = effr if effr is not None else (low + high) / 2
    year, month = now.astimezone(NEW_YORK).year, now.astimezone(NEW_YORK).month
    last_month = (path[-1][0].year, path[-1][0].month) if path else (year, month)
    index = 0
    while (year, month) <= last_month:
        days = calendar.monthrange(year, month)[1]
        total = 0.0
        for number in range(1, days + 1):
            day_rate = start
            for decided, after in path:
                if decided <= date(year, month, number):
                    day_rate = after
            total += day_rate
        price = round(round((100.0 - total / days) / 0.0025) * 0.0025, 4)
        futures.append(
            FuturesPrice(
                symbol=f"ZQ{_MONTH_CODES[month - 1]}{year % 100:02d}.CBT",
                month=f"{year}-{month:02d}",
                price=price,
                implied_rate=round(100.0 - price, 4),
                as_of=now - timedelta(seconds=30 + 60 * index),
                age_s=30.0 + 60 * index,
            )
        )
        index += 1
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return FedSnapshot(
        next_decision=next_decision(now),
        target_range=target_range,
        target_source="sample",
        effr=effr,
        futures_source=FED_FUTURES_SOURCE,
        probabilities=tuple(odds),
        futures=tuple(futures) if error is None else (),
        fedwatch_error=error,
        last_decision=recent_decision(now),
    )


def make_snapshot(
    now: datetime = SESSION_11AM,
    *,
    bump: float = 0.0,
    history_days: int = 60,
    feed_state: FeedState = "ok",
    stale: bool = False,
    fed: FedSnapshot | None = None,
) -> Snapshot:
    """Build a complete Snapshot by hand; ``bump`` shifts every sector's small-cap change."""
    now = now.astimezone(UTC)
    sectors = []
    for index, (name, tag, large_etf, small_etf, large, small, breadth, wl, ws) in enumerate(
        SECTOR_FIGURES
    ):
        small_value = None if small is None else round(small + bump * (index - 5) / 5, 4)
        sectors.append(
            SectorRow(
                sector=name,
                tag=tag,  # type: ignore[arg-type]
                large=make_sector_leg(50, large, wl, breadth, large_etf),
                small=make_sector_leg(180, small_value, ws, breadth, small_etf),
                spread_pp=None if small_value is None else round(small_value - large, 4),
                breadth_pct=breadth,
                leaders=_movers(index, 1.0),
                laggards=_movers(index, -1.0),
            )
        )
    start = date(2025, 9, 1)
    history = tuple(
        RatioPoint(start + timedelta(days=day), 0.36 + 0.0001 * day) for day in range(history_days)
    )
    return Snapshot(
        as_of=now,
        source="test",
        demo=True,
        market=market_session(now),
        spread=SpreadSnapshot(
            large=IndexQuote("^GSPC", "S&P 500", 6870.40, 6857.12, 0.1937, now),
            small=IndexQuote("^RUT", "Russell 2000", 2521.48, 2531.16, -0.3824, now),
            relative_pp=RelativePerformance(-0.5761, 1.2345, -0.4, 2.75, 3.1, -12.5),
            ratio=0.367,
            ratio_z_1y=1.234,
            beta_60d=1.21,
            corr_60d=0.85,
            valuation=VALUATION,
            ratio_history=history,
        ),
        sectors=tuple(sectors),
        style=StyleSnapshot(
            StyleLeg("IWD", "IWF", 0.1, 0.3, -0.2), StyleLeg("IWN", "IWO", -0.2, -0.5, 0.3)
        ),
        fed=fed if fed is not None else make_fed(now),
        feeds=(
            FeedStatus(
                "demo",
                feed_state,
                now,
                0.0,
                None if feed_state == "ok" else "HTTP 429",
                stale=stale,
            ),
        ),
        data_as_of=now - timedelta(seconds=3),
        indices=INDEX_LEGS,
    )


#: The rotation map's last week (a Friday) in the hand-made snapshots.
ROTATION_WEEK = date(2025, 12, 5)


def make_rotation() -> tuple[RotationPoint, ...]:
    """Build the rotation map of SECTOR_FIGURES by hand: 8-week tails turning clockwise.

    Sector i's head sits at angle 360 i / 11 degrees around 100/100 (ratio 100 + r cos, momentum
    100 + r sin / 2), each earlier week 0.25 rad further anticlockwise, so every tail runs
    clockwise into its head. Real Estate, with no small-cap figure, has no point.
    """
    points = []
    for index, (name, *_rest) in enumerate(SECTOR_FIGURES):
        small = SECTOR_FIGURES[index][5]
        if small is None:
            points.append(RotationPoint(name, None, None, None, reason="no small-cap history"))
            continue
        radius = 2.0 + 0.4 * (index % 3)
        tail = []
        for week in range(8):
            angle = math.radians(360 * index / 11) + 0.25 * (7 - week)
            ratio = 100.0 + radius * math.cos(angle)
            momentum = 100.0 + radius * math.sin(angle) / 2
            day = ROTATION_WEEK - timedelta(weeks=7 - week)
            tail.append(RotationTailPoint(day, round(ratio, 4), round(momentum, 4)))
        points.append(RotationPoint.headed(name, tuple(tail)))
    return tuple(points)


def make_sector_detail(
    name: str = "Financials", members: int = 483, *, seed: int = 7
) -> SectorDetail:
    """Build a sector's drilldown of ``members`` stocks, every figure derived by hand.

    Weights fall off like an index's (the first member heaviest) and add up to 100; each
    change is a fixed pattern, so a member's contribution is weight x change / 100 and the
    contributions add up to the leg's change. Every 17th member has no quote yet (its
    figures blank), every 11th negative forward earnings (no P/E).
    """
    raw = [1.0 / (rank + 1 + seed) for rank in range(members)]
    total = sum(raw)
    rows = []
    for rank in range(members):
        quoted = rank % 17 != 16
        weight = 100.0 * raw[rank] / total
        change = round(((rank * 37) % 101 - 50) / 20.0, 2) if quoted else None
        rows.append(
            ConstituentRow(
                symbol=f"F{rank:03d}",
                name=f"Member {rank:03d} Holdings",
                bucket="large" if rank % 4 == 0 else "small",
                last=round(20.0 + (rank * 13) % 300 + 0.25, 2) if quoted else None,
                change_pct=change,
                weight_pct=weight,
                contribution_pp=None if change is None else weight * change / 100.0,
                vs_etf_pp=None if change is None else round(change - 0.1, 4),
                forward_pe=None if rank % 11 == 10 or not quoted else 8.0 + rank % 30,
                above_50d=(rank % 3 != 0) if quoted else None,
                above_200d=(rank % 2 == 0) if quoted else None,
            )
        )
    row = replace(make_snapshot().sectors[1], sector=name)
    return SectorDetail(name=name, kind="sector", row=row, constituents=tuple(rows))


class Calls:
    """A test's spy on one object's method: it counts the calls and still makes them."""

    def __init__(self, owner: object, name: str) -> None:
        self.count = 0
        method = getattr(owner, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            result = method(*args, **kwargs)
            self.count += 1
            return result

        setattr(owner, name, counted)


# The spies of each app counted(): the app itself keeps no count only tests would read.
_COUNTS: WeakKeyDictionary[Any, tuple[Calls, Calls]] = WeakKeyDictionary()


def counted(app: CapgapApp) -> CapgapApp:
    """Spy on ``app`` before it runs, so received() and applied() can count its snapshots."""
    # Every snapshot the app takes in passes its alert check once, before it is shown.
    _COUNTS[app] = (Calls(app.alerts, "check"), Calls(app.dashboard, "apply_snapshot"))
    return app


def received(app: CapgapApp) -> int:
    """Return how many snapshots a counted() app has taken in."""
    return _COUNTS[app][0].count


def applied(app: CapgapApp) -> int:
    """Return how many snapshots a counted() app's dashboard has shown."""
    return _COUNTS[app][1].count


async def wait_for(condition: Callable[[], Any], pilot: Any, *, rounds: int = 400) -> None:
    """Let the app run until ``condition()`` is true (the engine polls in a worker thread)."""
    for _ in range(rounds):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError("condition not reached")


class ScriptedEngine:
    """The Engine API over snapshots the test chooses (a finite, deterministic source).

    ``run`` publishes the first snapshot and then waits for the test to ``push`` more; it
    returns once the clock has finished, as the real engine does at the end of a replay.
    """

    def __init__(
        self,
        clock: ManualClock,
        first: Snapshot | None = None,
        *,
        demo: bool = True,
        source_label: str = "DEMO test",
        fail_with: BaseException | None = None,
    ) -> None:
        self.clock = clock
        self.demo = demo
        self.source_label = source_label
        self.latest: Snapshot | None = None
        self.closed = False
        self._first = first or make_snapshot(clock.now())
        self._fail_with = fail_with
        self._publish: Callable[[Snapshot], None] | None = None
        self._finished = asyncio.Event()
        self.paused = False
        self.universe = None
        #: Every focus the app asked for, and how often it asked for a poll now.
        self.focuses: list[tuple[str | None, str | None]] = []
        self.wakes = 0
        self.rebuilds = 0

    def focus(self, sector: str | None = None, symbol: str | None = None) -> None:
        """Record the details the app asks for."""
        self.focuses.append((sector, symbol))

    def wake(self) -> None:
        """Record a request to poll now."""
        self.wakes += 1

    def refresh_now(self) -> float | None:
        """Record a request to poll now (`r`); a scripted source never makes one wait."""
        self.wake()
        return None

    def pause(self) -> None:
        """Pause (the scripted source only records it)."""
        self.paused = True

    def resume(self) -> None:
        """Resume."""
        self.paused = False

    async def refresh(self) -> Snapshot:
        """Return the latest snapshot (there is nothing to poll)."""
        return self.latest or self._first

    async def rebuild(self) -> Snapshot:
        """Return the latest snapshot again, counting the requests."""
        self.rebuilds += 1
        return self.latest or self._first

    async def run(self, publish: Callable[[Snapshot], None]) -> None:
        """Publish the first snapshot, then those pushed, until the clock finishes."""
        if self._fail_with is not None:
            raise self._fail_with
        self._publish = publish
        self.push(self._first)
        await self._finished.wait()

    def push(self, snapshot: Snapshot) -> None:
        """Publish a snapshot now; a finished clock ends the run after it, like a replay."""
        assert self._publish is not None, "the app has not started the engine yet"
        self.latest = snapshot
        self._publish(snapshot)
        if self.clock.finished:
            self._finished.set()

    async def aclose(self) -> None:
        """Record that the app closed the engine."""
        self.closed = True


def screen_lines(app: Any) -> list[str]:
    """Return the text of every row of the active screen, as a terminal would show it."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


class QuotesOnlyFeed:
    """Base of the tests' live-like feeds: no minute bars, no history, no reference figures.

    A subclass answers ``quotes`` as its test needs; a real Engine polls it.
    """

    name = "yahoo"
    demo = False

    async def intraday(self, symbols: Sequence[str]) -> Any:
        """No minute bars."""
        from capgap.core.schemas import BARS, empty

        return empty(BARS)

    async def daily(self, symbols: Sequence[str]) -> Any:
        """No daily history."""
        from capgap.core.schemas import DAILY, empty

        return empty(DAILY)

    async def reference(self) -> ReferenceData:
        """No reference figures."""
        return ReferenceData()

    async def aclose(self) -> None:
        """Nothing to close."""
