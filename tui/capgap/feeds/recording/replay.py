"""Replay of a recorded session (the bundled sample, or a recording) through the Feed interface."""

from __future__ import annotations

import asyncio
import bisect
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl

from capgap.core.clock import Clock
from capgap.core.market_types import NEW_YORK
from capgap.core.resources import sample_data_dir
from capgap.core.schemas import BARS, DAILY, conform, conform_quotes
from capgap.feeds.base import FeedError, ReferenceData
from capgap.feeds.details import HISTORY_DETAILS, history_details, with_day_range
from capgap.feeds.recording.session_info import read_session_info
from capgap.market.calendar import POST_MARKET_CLOSE, PRE_MARKET_OPEN, trading_day

BAR_LENGTH = timedelta(minutes=1)
#: The index members' tier of a sample session (optional: a folder without it has no members).
MEMBERS_DAILY_FILE = "members_daily.parquet"
MEMBERS_INTRADAY_FILE = "members_intraday.parquet"
#: history_details of the members' daily bars, written with them: a year of ~2,400 members'
#: history is too much to read and aggregate when the demo starts (0.2 s, 100 MB at peak).
#: Without it the replay computes the same from MEMBERS_DAILY_FILE.
MEMBERS_HISTORY_FILE = "members_history.parquet"
#: The members' market cap and forward and trailing EPS (symbol, market_cap, eps_forward,
#: eps_trailing); the market cap is at the previous close and moves with the price.
FUNDAMENTALS_FILE = "fundamentals.parquet"
#: Minute bars outside the regular session's grid (optional): the pre- and post-market trades
#: of symbols with regular bars (quoted as their pre_price/post_price), and the whole trading
#: day of symbols quoted around the clock (the index futures, 18:00 the evening before to 17:00).
EXTENDED_FILE = "extended.parquet"
_FUNDAMENTAL_COLUMNS = ("market_cap", "eps_forward", "eps_trailing")


def _bar_length(bars: pl.DataFrame) -> timedelta:
    """Return the length of a tier's bars: the step between its first two bar starts."""
    times = bars.get_column("time").unique().sort().head(2).to_list()
    if len(times) == 2 and isinstance(times[0], datetime) and isinstance(times[1], datetime):
        return times[1] - times[0]
    return BAR_LENGTH


@dataclass
class _Tier:
    """One tier of a session's symbols: its bars, bar length and what its history gives.

    ``prev`` holds per symbol the previous close, its date and the history details.
    ``running`` holds per bar what a quote at its end says (close, the day's volume, high and
    low so far); ``bars`` is kept only when ``keep_bars`` (a tier whose bars the feed serves
    from memory). On a grid (every symbol a bar at every start, in symbol then time order, as
    the sample is written) ``running`` holds only those four figures a bar: a start's rows are
    every ``len(starts)``-th row, and the symbols (``grid_symbols``) and times are held once.
    """

    bars: pl.DataFrame | None
    bar: timedelta
    prev: pl.DataFrame
    keep_bars: bool = True
    first_bar: pl.DataFrame = field(init=False)
    running: pl.DataFrame = field(init=False)
    starts: list[datetime] = field(init=False)
    grid: bool = field(init=False)
    grid_symbols: pl.Series = field(init=False)
    symbols: frozenset[str] = field(init=False)
    #: An empty answer of ``completed`` (its columns and types).
    nothing: pl.DataFrame = field(init=False)

    def __post_init__(self) -> None:
        bars = self.bars if self.bars is not None else pl.DataFrame(schema=BARS)
        self.first_bar = bars.group_by("symbol").agg(pl.col("time").first(), pl.col("open").first())
        by_symbol = pl.col("symbol")
        self.running = bars.select(
            "symbol",
            "time",
            "close",
            pl.col("volume").cum_sum().over(by_symbol),
            pl.col("high").cum_max().over(by_symbol).alias("day_high"),
            pl.col("low").cum_min().over(by_symbol).alias("day_low"),
        )
        starts = bars.get_column("time").unique().sort()
        self.starts = starts.to_list()
        # Every symbol with a bar at every start, in (symbol, time) order (the sample's
        # members): the bar completed by a minute is one start for all, every n-th row.
        count = len(self.starts)
        times = bars.get_column("time")
        self.grid = (
            count > 0
            and bars.height % count == 0
            and times.equals(starts.gather(pl.int_range(0, bars.height, eager=True) % count))
        )
        self.nothing = self.running.clear()
        if self.grid:
            self.grid_symbols = bars.get_column("symbol").gather_every(count)
            # The symbol and time of every bar, 40 % of the frame, are known from the grid.
            self.running = self.running.drop("symbol", "time")
        self.symbols = frozenset(self.prev.get_column("symbol").to_list())
        if not self.keep_bars:
            self.bars = None

    def completed(self, minute: datetime) -> pl.DataFrame:
        """Per symbol, its last bar completed by ``minute``: close, end time, day so far."""
        if self.grid:
            done = bisect.bisect_right(self.starts, minute - self.bar)
            if done == 0:
                return self.nothing
            rows = self.running.gather_every(len(self.starts), done - 1)
            end = pl.lit(self.starts[done - 1] + self.bar, dtype=self.nothing.schema["time"])
            return rows.select(self.grid_symbols, end.alias("time"), pl.all())
        # Found within each symbol's bars: filtering the whole session first would copy
        # every completed bar (megabytes by the afternoon) once a minute, and the allocator
        # keeps what it once held.
        done_expr = pl.col("time") + self.bar <= minute
        return (
            self.running.group_by("symbol")
            .agg(
                pl.col("close").filter(done_expr).last(),
                (pl.col("time").filter(done_expr).last() + self.bar),
                pl.col("volume").filter(done_expr).last(),
                pl.col("day_high").filter(done_expr).last(),
                pl.col("day_low").filter(done_expr).last(),
            )
            .filter(pl.col("time").is_not_null())
        )


def _sorted_bars(bars: pl.DataFrame) -> pl.DataFrame:
    """Return ``bars`` in (symbol, time) order, sorting only when they are not already.

    A sample's files are written sorted; sorting ~190,000 member bars again would copy them
    and leave the allocator 30 MB larger for the rest of the session.
    """
    symbol, time = pl.col("symbol"), pl.col("time")
    disordered = (symbol < symbol.shift()) | ((symbol == symbol.shift()) & (time < time.shift()))
    if bars.select(disordered.any()).item():
        return bars.sort("symbol", "time")
    return bars


def _tier_quotes(tier: _Tier, now: datetime, minute: datetime) -> pl.DataFrame:
    """Return the tier's quotes at ``now``: last price, volume, day range and history details."""
    completed = tier.completed(minute).rename({"close": "last"})
    opening = tier.first_bar.filter(pl.col("time") <= now).select(
        "symbol", pl.col("open").alias("open_last"), pl.col("time").alias("open_time")
    )
    prev_time = pl.col("date").cast(pl.Datetime("us")).dt.replace_time_zone(
        "America/New_York"
    ) + pl.duration(hours=16)
    quotes = (
        tier.prev.join(completed, on="symbol", how="left")
        .join(opening, on="symbol", how="left")
        .select(
            "symbol",
            pl.coalesce("time", "open_time", prev_time.dt.convert_time_zone("UTC")).alias("time"),
            pl.coalesce("last", "open_last", "prev_close").alias("last"),
            "prev_close",
            pl.col("volume").fill_null(0.0),
            # Before a bar completes the day's range is the open; before the open, none.
            pl.max_horizontal("day_high", "open_last").alias("day_high"),
            pl.min_horizontal("day_low", "open_last").alias("day_low"),
            "avg_50d",
            "avg_200d",
            "high_52w",
            "low_52w",
        )
    )
    return with_day_range(quotes)


def _session_trades(bars: pl.DataFrame, session_date: date, source: Path) -> pl.DataFrame:
    """Return pre- and post-market trade bars as (symbol, session, time, price), time the end.

    A bar must lie within 04:00 to the open or the close to 20:00 of the session day; one that
    does not (a regular-hours bar, another day's) makes the file invalid: FeedError.
    """
    day = trading_day(session_date)
    if day is None:
        raise FeedError(f"{source}: {session_date} is not a trading day")
    pre_open = datetime.combine(session_date, PRE_MARKET_OPEN, tzinfo=NEW_YORK).astimezone(UTC)
    post_close = datetime.combine(session_date, POST_MARKET_CLOSE, tzinfo=NEW_YORK)
    start, end = pl.col("time"), pl.col("time") + BAR_LENGTH
    pre = (start >= pre_open) & (end <= day.open)
    post = (start >= day.close) & (end <= post_close.astimezone(UTC))
    stray = bars.filter(~pre & ~post)
    if stray.height:
        symbol, moment = stray.row(0)[:2]
        raise FeedError(
            f"{source}: a {symbol} bar at {moment:%Y-%m-%d %H:%M} UTC is outside the pre- and "
            "post-market sessions"
        )
    session = pl.when(pre).then(pl.lit("pre")).otherwise(pl.lit("post")).alias("session")
    return bars.sort("symbol", "time").select(
        "symbol", session, end.alias("time"), pl.col("close").alias("price")
    )


def _extended_prices(trades: pl.DataFrame, minute: datetime) -> pl.DataFrame:
    """Per symbol, its last pre- and post-market trade completed by ``minute`` and their times."""
    done = trades.filter(pl.col("time") <= minute)
    columns = []
    for session in ("pre", "post"):
        within = pl.col("session") == session
        columns += [
            pl.col("price").filter(within).last().alias(f"{session}_price"),
            pl.col("time").filter(within).last().alias(f"{session}_time"),
        ]
    return done.group_by("symbol").agg(columns)


class ReplayFeed:
    """Plays a recorded session on a clock: at each instant it serves only what was known then.

    The quote of a symbol at instant t is the close of its last bar completed by t (the open
    of the first bar before one completes, the previous close before the session starts), so
    nothing from the future leaks into the screen. Each quote carries the details Yahoo sends:
    the 50/200-day averages and the 52-week range from the daily history before the session
    (the range extended by the day's), the day's range from the bars completed by t, and a
    member's market cap and EPS from the session's fundamentals.

    The index members (their own files, when the session has them) are read the first time a
    symbol outside the core is asked for, or ahead of it in a thread (start_members): a
    replay that never asks for a member reads only the core symbols.

    Outside the regular session (EXTENDED_FILE, when the session has it) a symbol with regular
    bars carries its last pre- and post-market trade completed by t as pre_price/pre_time and
    post_price/post_time, and a symbol quoted around the clock (the index futures) its last
    bar completed by t, its previous close the last daily close (the 16:00 settlement).
    """

    def __init__(self, folder: Path, clock: Clock, *, name: str = "demo") -> None:
        self._folder = folder
        self._clock = clock
        self._name = name
        self.info = read_session_info(folder)
        try:
            bars = conform(pl.read_parquet(folder / "intraday.parquet"), BARS).sort(
                "symbol", "time"
            )
            daily = conform(pl.read_parquet(folder / "daily.parquet"), DAILY)
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise FeedError(f"cannot read the recorded session in {folder}: {exc}") from exc
        self._daily = daily.filter(pl.col("date") < self.info.session_date).sort("symbol", "date")
        details = history_details(self._daily, self.session_date)
        extended = self._read_extended(folder)
        regular = pl.col("symbol").is_in(bars.get_column("symbol").unique().to_list())
        around = extended.filter(~regular)
        around_symbols = pl.col("symbol").is_in(around.get_column("symbol").unique().to_list())
        self._core = _Tier(bars, BAR_LENGTH, details.filter(~around_symbols))
        # The symbols quoted around the clock: a tier of their own, so the core stays a grid.
        self._around = _Tier(_sorted_bars(around), BAR_LENGTH, details.filter(around_symbols))
        self._trades = _session_trades(extended.filter(regular), self.session_date, folder)
        self._local = self._core.symbols | self._around.symbols
        self._members: _Tier | None = None
        self._fundamentals: pl.DataFrame | None = None
        self._members_lock = asyncio.Lock()
        self._members_read: Future[tuple[_Tier, pl.DataFrame] | None] | None = None
        # Quotes only change when another bar completes: cache per completed-minute count.
        self._quotes_cache: tuple[datetime, bool, pl.DataFrame] | None = None
        self._selections: list[tuple[pl.DataFrame, tuple[str, ...], pl.DataFrame]] = []
        self._bar_sets: list[tuple[tuple[str, ...], pl.DataFrame]] = []

    @staticmethod
    def _read_extended(folder: Path) -> pl.DataFrame:
        """Read the bars outside the regular session (none when the folder has no such file)."""
        path = folder / EXTENDED_FILE
        if not path.exists():
            return pl.DataFrame(schema=BARS)
        try:
            return conform(pl.read_parquet(path), BARS)
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise FeedError(f"cannot read the extended-hours bars in {path}: {exc}") from exc

    @property
    def name(self) -> str:
        """The feed's short name."""
        return self._name

    @property
    def demo(self) -> bool:
        """True when the recorded session is synthetic."""
        return self.info.synthetic

    @property
    def session_date(self) -> date:
        """The date of the replayed session."""
        return self.info.session_date

    def session_bounds(self) -> tuple[datetime, datetime]:
        """Return the start of the first bar and the end of the last bar (UTC)."""
        starts = self._core.starts
        if not starts:
            raise FeedError(f"the recorded session in {self._folder} has no bars")
        return starts[0], starts[-1] + BAR_LENGTH

    def _load_members(self) -> tuple[_Tier, pl.DataFrame] | None:
        """Read the members' tier and fundamentals (None when the session has no members).

        Of the members' daily history only what the quotes need is read (previous close and
        history details per symbol, written beside it): the whole history stays on disk, read
        per symbol when a drilldown asks for it.
        """
        daily_path = self._folder / MEMBERS_DAILY_FILE
        intraday_path = self._folder / MEMBERS_INTRADAY_FILE
        if not daily_path.exists() or not intraday_path.exists():
            return None
        try:
            history_path = self._folder / MEMBERS_HISTORY_FILE
            prev = (
                conform(pl.read_parquet(history_path), HISTORY_DETAILS)
                if history_path.exists()
                else history_details(pl.scan_parquet(daily_path), self.session_date)
            )
            bars = _sorted_bars(conform(pl.read_parquet(intraday_path), BARS))
            fundamentals_path = self._folder / FUNDAMENTALS_FILE
            fundamentals = (
                pl.read_parquet(fundamentals_path, columns=["symbol", *_FUNDAMENTAL_COLUMNS])
                if fundamentals_path.exists()
                else pl.DataFrame(schema={"symbol": pl.String})
            )
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise FeedError(
                f"cannot read the members of the session in {self._folder}: {exc}"
            ) from exc
        return _Tier(bars, _bar_length(bars), prev, keep_bars=False), fundamentals

    def start_members(self) -> None:
        """Begin reading the members' tier now, in a thread of its own, for the first poll.

        The monitor starts it while the analytics still import: polars reads the files beside
        them, and the first poll (which asks for members) finds them read or waits for the
        rest. A failure is raised there, as a read started by that poll would raise it.
        """
        if self._members_read is not None or self._fundamentals is not None:
            return
        read: Future[tuple[_Tier, pl.DataFrame] | None] = Future()

        def run() -> None:
            try:
                read.set_result(self._load_members())
            except Exception as exc:
                read.set_exception(exc)

        self._members_read = read
        threading.Thread(target=run, name="members-read", daemon=True).start()

    async def _ensure_members(self, symbols: Sequence[str]) -> None:
        """Read the members' tier once, the first time a symbol outside the core is asked."""
        if self._members is not None or self._fundamentals is not None:
            return
        if all(symbol in self._local for symbol in symbols):
            return
        async with self._members_lock:
            if self._fundamentals is not None:
                return
            # In a thread: the event loop (and the screen) keep going while polars reads. A
            # read started early is used once: after a failure the next poll reads again.
            read, self._members_read = self._members_read, None
            if read is not None:
                loaded = await asyncio.wrap_future(read)
            else:
                loaded = await asyncio.to_thread(self._load_members)
            if loaded is None:
                self._fundamentals = pl.DataFrame(schema={"symbol": pl.String})
            else:
                self._members, self._fundamentals = loaded
            self._quotes_cache = None

    def _bars_of(self, symbols: tuple[str, ...]) -> pl.DataFrame:
        """Return the session's bars of ``symbols`` (the last few sets asked are kept).

        A member's bars are read from its tier's file (row-group statistics on the sorted
        symbol column keep the read to its groups): the feed does not hold them in memory.
        """
        for asked, bars in self._bar_sets:
            if asked == symbols:
                return bars
        wanted = pl.col("symbol").is_in(list(symbols))
        frames = [
            tier.bars.filter(wanted) for tier in (self._core, self._around) if tier.bars is not None
        ]
        members = [symbol for symbol in symbols if symbol not in self._local]
        path = self._folder / MEMBERS_INTRADAY_FILE
        if members and self._members is not None:
            try:
                frames.append(
                    conform(
                        pl.scan_parquet(path).filter(pl.col("symbol").is_in(members)).collect(),
                        BARS,
                    ).sort("symbol", "time")
                )
            except (OSError, pl.exceptions.PolarsError) as exc:
                raise FeedError(f"cannot read the members' bars in {self._folder}: {exc}") from exc
        bars = pl.concat(frames) if frames else pl.DataFrame(schema=BARS)
        self._bar_sets = [(symbols, bars), *self._bar_sets[:3]]
        return bars

    def _quotes_at(self, now: datetime) -> pl.DataFrame:
        minute = now.replace(second=0, microsecond=0)
        members = self._members is not None
        cached = self._quotes_cache
        if cached is not None and cached[0] == minute and cached[1] == members:
            return cached[2]
        frames = [_tier_quotes(self._core, now, minute)]
        if self._around.symbols:
            frames.append(_tier_quotes(self._around, now, minute))
        if self._members is not None and self._fundamentals is not None:
            frames.append(
                _tier_quotes(self._members, now, minute)
                .join(self._fundamentals, on="symbol", how="left")
                # The file's market cap is at the previous close: it moves with the price.
                .with_columns(pl.col("market_cap") * pl.col("last") / pl.col("prev_close"))
            )
        quotes = pl.concat(frames, how="diagonal_relaxed")
        if self._trades.height:
            quotes = quotes.join(_extended_prices(self._trades, minute), on="symbol", how="left")
        result = conform_quotes(quotes)
        self._quotes_cache = (minute, members, result)
        return result

    async def quotes(self, symbols: Sequence[str]) -> pl.DataFrame:
        """Return each symbol's quote as it stood at the clock's instant."""
        await self._ensure_members(symbols)
        return self._select(self._quotes_at(self._clock.now()), symbols)

    async def intraday(self, symbols: Sequence[str]) -> pl.DataFrame:
        """Return the bars of ``symbols`` completed by the clock's instant.

        A member's bars are its tier's (5-minute bars in the sample session).
        """
        await self._ensure_members(symbols)
        minute = self._clock.now().replace(second=0, microsecond=0)
        wanted = tuple(symbols)
        bars = self._bars_of(wanted)
        member_bar = self._members.bar if self._members is not None else BAR_LENGTH
        length = (
            pl.when(pl.col("symbol").is_in(list(self._local)))
            .then(pl.lit(BAR_LENGTH))
            .otherwise(pl.lit(member_bar))
        )
        return bars.filter(pl.col("time") + length <= minute)

    def _select(self, frame: pl.DataFrame, symbols: Sequence[str]) -> pl.DataFrame:
        # The engine asks for the same symbols every poll and the frames change once a
        # minute: filter again only when either changes (the last few answers are kept).
        wanted = tuple(symbols)
        # Answers selected from an older frame can never be asked again (the frame of a
        # minute is made once): keeping them kept every frame they came from alive.
        self._selections = [entry for entry in self._selections if entry[0] is frame]
        for _source, asked, selected in self._selections:
            if asked == wanted:
                return selected
        selected = frame.filter(pl.col("symbol").is_in(list(wanted)))
        if selected.height == frame.height:
            selected = frame  # every row asked for: the frame itself, not a copy of it
        self._selections = [(frame, wanted, selected), *self._selections[:3]]
        return selected

    async def daily(self, symbols: Sequence[str]) -> pl.DataFrame:
        """Return the daily bars before the replayed session (a member's read from its file)."""
        wanted = list(symbols)
        frame = self._daily.filter(pl.col("symbol").is_in(wanted))
        others = [symbol for symbol in wanted if symbol not in self._local]
        path = self._folder / MEMBERS_DAILY_FILE
        if not others or not path.exists():
            return frame
        try:
            # Row-group statistics on the sorted symbol column: only the members' groups are read.
            members = conform(
                pl.scan_parquet(path)
                .filter(pl.col("symbol").is_in(others) & (pl.col("date") < self.session_date))
                .collect(),
                DAILY,
            )
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise FeedError(f"cannot read the members' history in {self._folder}: {exc}") from exc
        return pl.concat([frame, members.sort("symbol", "date")])

    def member_closes(self, symbols: Sequence[str], since: date) -> pl.LazyFrame:
        """Return the members' closes from ``since`` until before the session (see MemberHistory).

        Only the three columns and the sessions asked for are read from the members' file;
        a session without members has none.
        """
        path = self._folder / MEMBERS_DAILY_FILE
        if not path.exists():
            return pl.LazyFrame(schema={name: DAILY[name] for name in ("symbol", "date", "close")})
        date_ = pl.col("date")
        return (
            pl.scan_parquet(path)
            .select("symbol", "date", "close")
            .filter(
                pl.col("symbol").is_in(list(symbols))
                & (date_ >= since)
                & (date_ < self.session_date)
            )
        )

    async def reference(self) -> ReferenceData:
        """Return the session's reference figures (target range, EFFR)."""
        return self.info.reference

    async def aclose(self) -> None:
        """Nothing to release: the frames are in memory."""


def demo_feed(clock: Clock) -> ReplayFeed:
    """Open the bundled sample session's replay on ``clock`` and start reading its members.

    The first thing the demo's engine thread does (polars loads with this module): the
    members' files are then read in a thread of their own while the analytics modules import,
    where the first poll would otherwise read them only after those imports.
    """
    feed = ReplayFeed(sample_data_dir(), clock, name="demo")
    feed.start_members()
    return feed
