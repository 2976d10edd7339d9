"""The demo replay's quotes carry Yahoo's details, computed from the session's own files."""

from __future__ import annotations

import shutil
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from capgap.core.clock import ManualClock
from capgap.core.schemas import DAILY, QUOTES
from capgap.feeds.base import FeedError
from capgap.feeds.details import history_details
from capgap.feeds.recording.replay import ReplayFeed

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "sample_data"
SESSION_DAY = date(2025, 12, 5)
OPEN = datetime(2025, 12, 5, 14, 30, tzinfo=UTC)  # 09:30 New York
#: 11:00 New York: 90 minutes in, 18 five-minute bars of the members completed.
ELEVEN = OPEN + timedelta(minutes=90)


# ---------------------------------------------------------------- history_details by hand


def _daily(closes: list[float], start: date, symbol: str = "AAA") -> pl.DataFrame:
    days = [start + timedelta(days=k) for k in range(len(closes))]
    return pl.DataFrame(
        {
            "symbol": [symbol] * len(closes),
            "date": days,
            "open": closes,
            "high": [c + 1.0 for c in closes],
            "low": [c - 1.0 for c in closes],
            "close": closes,
            "volume": [1.0] * len(closes),
        },
        schema=DAILY,
    )


def test_history_details_by_hand() -> None:
    # 400 calendar days of closes 1, 2, ..., 400 ending the day before "today", plus a bar on
    # "today" itself that must not count.
    today = date(2025, 12, 5)
    start = today - timedelta(days=400)
    frame = pl.concat([_daily([float(k) for k in range(1, 401)], start), _daily([999.0], today)])
    row = history_details(frame.sample(fraction=1.0, shuffle=True, seed=1), today).row(
        0, named=True
    )
    assert row["prev_close"] == 400.0
    assert row["date"] == today - timedelta(days=1)
    # Last 50 closes 351..400: mean 375.5; last 200 closes 201..400: mean 300.5.
    assert row["avg_50d"] == 375.5
    assert row["avg_200d"] == 300.5
    # 52 weeks = 364 days back: from 2024-12-06, the close of day k is k; days 37..400 count.
    first_in_range = (today - timedelta(weeks=52) - start).days + 1
    assert first_in_range == 37
    assert row["high_52w"] == 401.0
    assert row["low_52w"] == first_in_range - 1.0


def test_history_details_leave_an_average_blank_without_enough_closes() -> None:
    today = date(2025, 12, 5)
    frame = _daily([10.0] * 120, today - timedelta(days=120))
    row = history_details(frame, today).row(0, named=True)
    assert row["avg_50d"] == 10.0
    assert row["avg_200d"] is None  # 120 closes: no 200-day average, not a shorter one


# ---------------------------------------------------------------- the demo's quotes


@pytest.fixture(scope="module")
def files() -> dict[str, pl.DataFrame]:
    return {
        "daily": pl.read_parquet(SAMPLE / "daily.parquet"),
        "members_daily": pl.read_parquet(SAMPLE / "members_daily.parquet"),
        "intraday": pl.read_parquet(SAMPLE / "intraday.parquet"),
        "members_intraday": pl.read_parquet(SAMPLE / "members_intraday.parquet"),
        "fundamentals": pl.read_parquet(SAMPLE / "fundamentals.parquet"),
    }


def _hand_quote(
    daily: pl.DataFrame, bars: pl.DataFrame, symbol: str, bar_minutes: int, now: datetime
) -> dict[str, float]:
    """What the quote of ``symbol`` at ``now`` should say, computed with numpy."""
    history = daily.filter((pl.col("symbol") == symbol) & (pl.col("date") < SESSION_DAY))
    history = history.sort("date")
    close = history["close"].to_numpy()
    year = history.filter(pl.col("date") >= date(2024, 12, 6))
    done = bars.filter(
        (pl.col("symbol") == symbol) & (pl.col("time") + timedelta(minutes=bar_minutes) <= now)
    ).sort("time")
    day_high, day_low = float(done["high"].max()), float(done["low"].min())  # type: ignore[arg-type]
    return {
        "last": float(done["close"][-1]),
        "prev_close": float(close[-1]),
        "volume": float(done["volume"].sum()),
        "avg_50d": float(np.mean(close[-50:])),
        "avg_200d": float(np.mean(close[-200:])),
        "high_52w": max(float(year["high"].max()), day_high),  # type: ignore[arg-type]
        "low_52w": min(float(year["low"].min()), day_low),  # type: ignore[arg-type]
        "day_high": day_high,
        "day_low": day_low,
    }


async def test_a_demo_member_quote_carries_the_details_of_its_files(
    files: dict[str, pl.DataFrame],
) -> None:
    feed = ReplayFeed(SAMPLE, ManualClock(ELEVEN))
    quotes = await feed.quotes(["AAPL", "^GSPC"])
    assert quotes.schema == QUOTES
    aapl = quotes.filter(pl.col("symbol") == "AAPL").row(0, named=True)
    expected = _hand_quote(files["members_daily"], files["members_intraday"], "AAPL", 5, ELEVEN)
    for key, value in expected.items():
        assert aapl[key] == pytest.approx(value, rel=1e-12), key
    fundamentals = files["fundamentals"].filter(pl.col("symbol") == "AAPL").row(0, named=True)
    assert aapl["eps_forward"] == fundamentals["eps_forward"]
    assert aapl["eps_trailing"] == fundamentals["eps_trailing"]
    # The file's market cap is at the previous close; the quote's moves with the price.
    assert aapl["market_cap"] == pytest.approx(
        fundamentals["market_cap"] * expected["last"] / expected["prev_close"], rel=1e-12
    )
    assert aapl["time"] == ELEVEN
    for key in ("pre_price", "pre_time", "post_price", "post_time"):
        assert aapl[key] is None


async def test_a_demo_core_quote_carries_its_history_and_day_range(
    files: dict[str, pl.DataFrame],
) -> None:
    feed = ReplayFeed(SAMPLE, ManualClock(ELEVEN))
    spy = (await feed.quotes(["SPY"])).row(0, named=True)
    expected = _hand_quote(files["daily"], files["intraday"], "SPY", 1, ELEVEN)
    for key, value in expected.items():
        assert spy[key] == pytest.approx(value, rel=1e-12), key
    # A fund has no EPS of its own (Yahoo sends none for ETFs).
    assert spy["eps_forward"] is None
    assert spy["market_cap"] is None


async def test_a_new_high_today_lifts_the_52_week_high_to_the_day_high(
    files: dict[str, pl.DataFrame],
) -> None:
    close = OPEN + timedelta(hours=6, minutes=30)
    feed = ReplayFeed(SAMPLE, ManualClock(close))
    symbols = files["members_daily"]["symbol"].unique().to_list()
    quotes = await feed.quotes(symbols)
    history = history_details(files["members_daily"], SESSION_DAY)
    joined = quotes.join(history, on="symbol", suffix="_before")
    # Yahoo's 52-week range includes today's trading: never inside the day's range.
    assert (joined["high_52w"] >= joined["day_high"]).all()
    assert (joined["low_52w"] <= joined["day_low"]).all()
    new_highs = joined.filter(pl.col("day_high") > pl.col("high_52w_before"))
    assert new_highs.height > 0
    assert (new_highs["high_52w"] == new_highs["day_high"]).all()


async def test_before_the_open_a_quote_has_no_day_range(files: dict[str, pl.DataFrame]) -> None:
    feed = ReplayFeed(SAMPLE, ManualClock(OPEN - timedelta(minutes=10)))
    aapl = (await feed.quotes(["AAPL"])).row(0, named=True)
    assert aapl["last"] == aapl["prev_close"]
    assert aapl["day_high"] is None
    assert aapl["day_low"] is None
    assert aapl["avg_50d"] is not None


async def test_the_members_files_are_read_only_when_a_member_is_asked(tmp_path: Path) -> None:
    # A copy of the sample whose members' bars are unreadable: the core still replays (the
    # demo's first data needs only the core), and asking for a member says what is wrong.
    folder = tmp_path / "sample"
    shutil.copytree(SAMPLE, folder)
    (folder / "members_intraday.parquet").write_bytes(b"not parquet")
    feed = ReplayFeed(folder, ManualClock(ELEVEN))
    core = await feed.quotes(["^GSPC", "SPY", "XLK"])
    assert core.height == 3
    with pytest.raises(FeedError, match="members"):
        await feed.quotes(["^GSPC", "AAPL"])


async def test_a_members_history_and_bars_come_from_its_files(
    files: dict[str, pl.DataFrame],
) -> None:
    feed = ReplayFeed(SAMPLE, ManualClock(ELEVEN))
    daily = await feed.daily(["AAPL", "SPY"])
    assert set(daily["symbol"]) == {"AAPL", "SPY"}
    assert daily.filter(pl.col("symbol") == "AAPL").height == 253
    bars = await feed.intraday(["AAPL", "^GSPC"])
    # Five-minute bars for a member (18 completed by 11:00), minute bars for an index (90).
    assert bars.filter(pl.col("symbol") == "AAPL").height == 18
    assert bars.filter(pl.col("symbol") == "^GSPC").height == 90


async def test_the_members_read_started_early_is_the_one_the_first_member_quote_uses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The monitor starts the read while the analytics still import: the first poll finds it
    # done (or waits for it), and the quotes are those of a feed that read them lazily.
    reads: list[str] = []
    began = threading.Event()
    load = ReplayFeed._load_members

    def counted(feed: ReplayFeed) -> object:
        reads.append(threading.current_thread().name)
        began.set()
        return load(feed)

    monkeypatch.setattr(ReplayFeed, "_load_members", counted)
    early = ReplayFeed(SAMPLE, ManualClock(ELEVEN))
    early.start_members()
    # Begun before any quote is asked (a generous bound for a loaded machine, not a timing).
    assert began.wait(timeout=60)
    quotes = await early.quotes(["AAPL", "IWM", "^GSPC"])
    assert len(reads) == 1 and reads[0] != threading.current_thread().name
    await early.quotes(["MSFT"])
    assert len(reads) == 1  # read once, never again
    lazy = ReplayFeed(SAMPLE, ManualClock(ELEVEN))
    assert quotes.equals(await lazy.quotes(["AAPL", "IWM", "^GSPC"]))


async def test_a_members_read_started_early_fails_at_the_first_member_quote(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "sample"
    shutil.copytree(SAMPLE, folder)
    (folder / "members_intraday.parquet").write_bytes(b"not parquet")
    feed = ReplayFeed(folder, ManualClock(ELEVEN))
    feed.start_members()  # the failure is kept for the poll that needs the members
    assert (await feed.quotes(["^GSPC", "SPY"])).height == 2
    with pytest.raises(FeedError, match="members"):
        await feed.quotes(["^GSPC", "AAPL"])


async def test_the_members_bars_are_held_as_their_running_figures_only(
    files: dict[str, pl.DataFrame],
) -> None:
    # The demo holds the day's running figures of ~190,000 member bars all day: per bar the
    # close, the day's volume, high and low so far (4 floats), with each member's symbol and
    # each bar's time held once, not once a bar (1.8 MB more of the demo's memory).
    feed = ReplayFeed(SAMPLE, ManualClock(ELEVEN))
    quotes = await feed.quotes(["AAPL", "MSFT"])
    bars = files["members_intraday"]
    tier = feed._members
    assert tier is not None
    floats = bars.height * 4 * 8
    assert tier.running.estimated_size() <= floats * 1.01
    # The figures themselves, by hand from the bars: 18 bars completed by 11:00.
    aapl = bars.filter(pl.col("symbol") == "AAPL").head(18)
    row = quotes.filter(pl.col("symbol") == "AAPL").row(0, named=True)
    assert row["last"] == aapl["close"][-1]
    assert row["volume"] == aapl["volume"].sum()
    assert row["day_high"] == max(aapl["high"].max(), aapl["open"][0])
    assert row["day_low"] == min(aapl["low"].min(), aapl["open"][0])
