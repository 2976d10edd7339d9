"""One poller, many viewers: `capgap record`'s engine against the local server, followers of its
recording (FollowFeed + engine, and `capgap snapshot --follow`) that send no request at all."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import polars as pl
import pytest
from builders import MIDDAY, daily_frame, quotes_frame
from capgap.core.clock import ManualClock, SystemClock
from capgap.core.market_types import NEW_YORK
from capgap.core.snapshot import RECORDING_FEED, FeedStatus, Snapshot
from capgap.engine.loop import Engine
from capgap.engine.sources import follow_engine, live_engine
from capgap.feeds.providers.yahoo_quote import QUOTE_PATH
from capgap.feeds.recording import recorded
from capgap.feeds.recording.follow import STALE_FLUSHES, FollowFeed
from capgap.feeds.recording.recorder import SESSION_FILE, partition_name, prune_partitions
from capgap.feeds.recording.session_info import read_session_info
from capgap.settings.config import load_settings
from server import LocalServer, Reply, local_server
from test_live_engine import config_for, serve_history
from test_live_fed import EFFR_BODY, EFFR_PATH
from test_quote_faults import STOCK, small_universe
from test_yahoo_quote import answer, item, open_session

__all__ = ["local_server"]


def recording_of(snapshot: Snapshot) -> FeedStatus:
    """The followed recording's status among a snapshot's feeds."""
    return next(feed for feed in snapshot.feeds if feed.name == RECORDING_FEED)


@dataclass
class Desk:
    """One poller (the live engine `capgap record` runs, recording to ``record``) on a clock."""

    poller: Engine
    clock: ManualClock
    server: LocalServer
    record: Path
    stamp: int
    config: Path

    def serve(self, large: float, small: float, stock: float, at: int) -> None:
        """Answer the next quote requests with these prices, dated ``at`` (epoch seconds)."""
        self.server.replace(
            QUOTE_PATH,
            Reply.json(
                answer(
                    item("^GSPC", large, time=at, prev_close=6857.12, quote_type="INDEX"),
                    item("^RUT", small, time=at, prev_close=2531.16, quote_type="INDEX"),
                    item(
                        STOCK,
                        stock,
                        time=at,
                        prev_close=230.0,
                        # Fundamentals and history details: a follower shows them too.
                        marketCap=3.4e12,
                        epsForward=7.5,
                        epsTrailingTwelveMonths=6.9,
                        fiftyDayAverage=225.0,
                        fiftyTwoWeekHigh=240.0,
                        regularMarketDayHigh=stock + 1,
                    ),
                )
            ),
        )

    async def poll(self) -> Snapshot:
        """One poll of the poller, then its flush (as `capgap record` does every interval)."""
        snapshot = await self.poller.refresh()
        assert self.poller.recorder is not None
        assert self.poller.recorder.flush() is None
        return snapshot

    def viewer(self) -> Engine:
        """A follower of the recording on the same clock (no provider, no HTTP client)."""
        return follow_engine(self.record, clock=self.clock, universe=small_universe())


@pytest.fixture
async def desk(local_server: LocalServer, tmp_path: Path) -> AsyncIterator[Desk]:
    clock = ManualClock(MIDDAY)
    stamp = int(clock.now().timestamp()) - 30
    open_session(local_server)
    serve_history(local_server, clock.now())
    local_server.add(EFFR_PATH, Reply.json(EFFR_BODY))
    config = Path(config_for(local_server, tmp_path))
    settings = load_settings(config, environ={})
    record = tmp_path / "rec"
    poller = live_engine(settings, clock=clock, record_to=record, universe=small_universe())
    desk = Desk(poller, clock, local_server, record, stamp, config)
    desk.serve(6870.40, 2521.48, 231.0, stamp)
    try:
        yield desk
    finally:
        await poller.aclose()


def figures(snapshot: Snapshot) -> tuple[object, ...]:
    """What a viewer shows of the market: both indices, the gap, the rates."""
    spread = snapshot.spread
    return (
        spread.large.last,
        spread.small.last,
        spread.large.change_pct,
        spread.small.change_pct,
        spread.relative_pp,
        spread.ratio,
        snapshot.fed.target_range,
    )


async def test_viewers_show_the_pollers_figures_and_ask_the_server_nothing(
    desk: Desk, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    first = await desk.poll()
    assert first.spread.large.last == 6870.40
    asked = desk.server.total

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a follower made an HTTP client")

    # Made after the poller's own client: from here on, any new client is a follower's.
    monkeypatch.setattr(httpx.AsyncClient, "__init__", refuse)
    viewers = [desk.viewer(), desk.viewer(), desk.viewer()]
    for viewer in viewers:
        seen = await viewer.refresh()
        assert figures(seen) == figures(first)
        assert seen.spread.large.last == 6870.40 and seen.spread.small.last == 2521.48
        assert seen.fed.target_range == (3.75, 4.0)
        assert recording_of(seen).state == "ok"
        assert not seen.demo
    # The next flush reaches every viewer; the server saw the poller's requests only.
    desk.clock.advance(5)
    desk.serve(6880.00, 2530.00, 232.5, desk.stamp + 5)
    second = await desk.poll()
    polled = desk.server.total
    for viewer in viewers:
        desk.clock.advance(0.1)
        seen = await viewer.refresh()
        assert figures(seen) == figures(second)
        assert viewer.store.quotes.filter(pl.col("symbol") == STOCK)["last"].to_list() == [232.5]
        # Every column of every quote, the fundamentals among them, as the poller has it.
        assert viewer.store.quotes.sort("symbol").equals(desk.poller.store.quotes.sort("symbol"))
        assert viewer.store.quotes.filter(pl.col("symbol") == STOCK)["market_cap"].item() == 3.4e12
    # And a one-shot viewer, `capgap snapshot --follow` (its own event loop, in a thread).
    from capgap.cli.main import main

    monkeypatch.setenv("CAPGAP_CONFIG", str(desk.config))
    code = await asyncio.to_thread(
        main, ["snapshot", "--follow", str(desk.record), "--format", "json"]
    )
    answer_ = json.loads(capsys.readouterr().out)
    assert code == 0
    assert answer_["spread"]["large"]["last"] == second.spread.large.last
    assert answer_["spread"]["small"]["last"] == second.spread.small.last
    # JSON writes percentages to 4 decimals.
    assert second.spread.large.change_pct is not None
    assert answer_["spread"]["large"]["change_pct"] == round(second.spread.large.change_pct, 4)
    assert desk.server.total == polled > asked
    for viewer in viewers:
        await viewer.aclose()


async def test_a_viewer_started_before_the_first_flush_waits_then_shows(desk: Desk):
    viewer = desk.viewer()
    waiting = await viewer.refresh()
    status = recording_of(waiting)
    assert status.state == "degraded"
    assert status.error == f"waiting for the recording in {desk.record}"
    assert not status.stale_at(desk.clock.now())  # waiting is not stale figures
    assert waiting.feeds[0].state == "ok"  # the follower itself works
    assert waiting.spread.large.last is None
    polled = await desk.poll()
    desk.clock.advance(1)
    seen = await viewer.refresh()
    assert figures(seen) == figures(polled)
    assert recording_of(seen).state == "ok"
    # The daily history appeared after the follower started: it was read again, not a day on.
    assert seen.spread.large.prev_close == 6857.12


async def test_the_recording_is_stale_after_three_silent_write_intervals(desk: Desk):
    await desk.poll()
    viewer = desk.viewer()
    recorder = desk.poller.recorder
    assert recorder is not None
    info = read_session_info(
        desk.record / partition_name(desk.clock.now().astimezone(NEW_YORK).date())
    )
    assert info.poller.source == "yahoo"
    assert info.poller.flush_interval_s == recorder.flush_interval_s
    assert info.poller.last_flush == desk.clock.now()
    # The poller writes at every flush, or at every poll when those are further apart (the
    # cadence depends on the market session of the day the test runs: read, not assumed).
    interval = max(recorder.flush_interval_s, desk.poller.next_delay_s)
    assert info.poller.write_interval_s == interval
    fresh = recording_of(await viewer.refresh())
    assert fresh.state == "ok" and not fresh.stale
    assert fresh.last_success == desk.clock.now()
    # The poller stops; the viewer's clock moves on, up to the bound and past it.
    bound = STALE_FLUSHES * interval
    desk.clock.advance(bound)
    at_bound = recording_of(await viewer.refresh())
    assert at_bound.state == "ok" and at_bound.age_s == bound
    desk.clock.advance(1)
    stale = recording_of(await viewer.refresh())
    assert stale.state == "degraded" and stale.stale
    assert stale.stale_at(desk.clock.now())
    assert (stale.error or "").startswith("the poller has written nothing for ")
    # A flush with no new quote is a heartbeat all the same: the recording is fresh again.
    await desk.poll()
    desk.clock.advance(0.5)
    again = recording_of(await viewer.refresh())
    assert again.state == "ok" and not again.stale_at(desk.clock.now())


def test_a_poller_polling_every_five_minutes_is_not_stale_between_polls(tmp_path: Path):
    """Overnight the poller polls (and so writes) every 300 s: 3 x 300 s, not 3 x 5 s."""
    from capgap.feeds.recording.recorder import Recorder

    clock = ManualClock(MIDDAY)
    recorder = Recorder(tmp_path, clock, source="yahoo")
    recorder.poll_interval_s = 300.0
    recorder.add_quotes(quotes_frame([("^GSPC", clock.now(), 6870.40, 6857.12)]))
    assert recorder.flush() is None
    feed = FollowFeed(tmp_path, clock)
    assert feed.history_changes() >= 1
    assert feed.poller.write_interval_s == 300.0
    clock.advance(299)  # just before the next poll: long past 3 flush intervals
    assert feed.recording_status(clock.now()).state == "ok"
    clock.advance(601)
    assert feed.recording_status(clock.now()).state == "ok"
    clock.advance(1)
    status = feed.recording_status(clock.now())
    assert status.stale and status.state == "degraded"
    # The ages as the status line writes them.
    assert status.error == "the poller has written nothing for 15m01s (over 15m00s)"


async def test_a_pruned_file_or_partition_does_not_crash_a_viewer(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
):
    polled = await desk.poll()
    viewer = desk.viewer()
    folder = desk.record / partition_name(desk.clock.now().astimezone(NEW_YORK).date())
    listed = recorded._new_quote_files

    def with_a_vanished_file(where: Path, seen: set[str]) -> list[Path]:
        # Listed, then pruned before it is read.
        return [*listed(where, seen), where / "quotes-000000-999999.parquet"]

    monkeypatch.setattr(recorded, "_new_quote_files", with_a_vanished_file)
    seen = await viewer.refresh()
    assert figures(seen) == figures(polled)
    assert seen.feeds[0].state == "ok" and seen.feeds[0].error is None  # nothing "unreadable"
    monkeypatch.setattr(recorded, "_new_quote_files", listed)
    # The whole partition goes (record --keep-days, on the poller's next day).
    tomorrow = desk.clock.now().astimezone(NEW_YORK).date() + timedelta(days=1)
    assert prune_partitions(desk.record, tomorrow, 1) == [tomorrow - timedelta(days=1)]
    assert not folder.exists()
    desk.clock.advance(1)
    after = await viewer.refresh()
    assert figures(after) == figures(polled)  # what was read stays on screen


async def test_a_viewer_never_reads_a_temp_file(desk: Desk):
    polled = await desk.poll()
    folder = desk.record / partition_name(desk.clock.now().astimezone(NEW_YORK).date())
    # A half-written file as the recorder names it while writing (hidden, .tmp), and a hidden
    # parquet: neither is a quote file. Their bytes are not Parquet: reading one would fail.
    (folder / ".new.abc123.tmp").write_bytes(b"PAR1 half")
    (folder / ".quotes-000001-000001.parquet").write_bytes(b"PAR1 half")
    viewer = desk.viewer()
    seen = await viewer.refresh()
    assert figures(seen) == figures(polled)
    assert seen.feeds[0].state == "ok" and seen.feeds[0].error is None
    assert isinstance(viewer.feed, FollowFeed) and viewer.feed.skipped == 0


async def test_a_viewer_moves_to_a_new_days_partition(desk: Desk):
    await desk.poll()
    viewer = desk.viewer()
    await viewer.refresh()
    feed = viewer.feed
    assert isinstance(feed, FollowFeed)
    first_day = feed.session_date
    desk.clock.advance(24 * 3600)
    desk.serve(6900.00, 2540.00, 235.0, int(desk.clock.now().timestamp()) - 5)
    next_day = await desk.poll()
    seen = await viewer.refresh()
    assert feed.session_date == first_day + timedelta(days=1)
    assert seen.spread.large.last == next_day.spread.large.last == 6900.00


#: `capgap snapshot --follow DIR --format json`, then proof that no HTTP library was loaded.
ANSWER_WITHOUT_HTTPX = """
import sys
from capgap.cli.main import main
code = main(["snapshot", "--follow", sys.argv[1], "--format", "json"])
loaded = [name for name in ("httpx", "curl_cffi") if name in sys.modules]
sys.exit(f"loaded {loaded}" if loaded else code)
"""


def test_snapshot_follow_answers_from_the_recording_with_no_request(tmp_path: Path):
    """`capgap snapshot --follow` as a process: a recording made on the system clock."""
    from capgap.feeds.base import ReferenceData
    from capgap.feeds.recording.recorder import Recorder

    clock = SystemClock()
    now = clock.now()
    recorder = Recorder(tmp_path / "rec", clock, source="yahoo")
    recorder.add_quotes(
        quotes_frame(
            [
                ("^GSPC", now - timedelta(seconds=30), 6870.40, 6857.12),
                ("^RUT", now - timedelta(seconds=30), 2521.48, 2531.16),
            ]
        )
    )
    recorder.set_reference(ReferenceData(target_range=(3.75, 4.0), effr=3.88), "New York Fed")
    assert recorder.flush() is None
    # No provider is configured to be reachable: any request would go to a closed port.
    config = tmp_path / "config.toml"
    config.write_text('[feeds.yahoo]\nbase_url = "http://127.0.0.1:9"\n')
    env = {**os.environ, "CAPGAP_CONFIG": str(config), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    run = subprocess.run(
        [sys.executable, "-c", ANSWER_WITHOUT_HTTPX, str(tmp_path / "rec")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["spread"]["large"]["last"] == 6870.40
    assert data["spread"]["small"]["last"] == 2521.48
    names = [feed["name"] for feed in data["feeds"]]
    assert names[0] == "follow" and RECORDING_FEED in names


# --- the recording carries the sectors' levels; old days are pruned -------------------------


async def test_the_legs_levels_recorded_once_reach_a_follower(tmp_path: Path):
    from datetime import date

    from capgap.core.schemas import LEG_LEVELS
    from capgap.feeds.recording.recorder import LEG_LEVELS_FILE, Recorder

    clock = ManualClock(MIDDAY)
    now = clock.now()
    recorder = Recorder(tmp_path, clock, source="yahoo")
    recorder.add_quotes(quotes_frame([("^GSPC", now - timedelta(seconds=30), 6870.40, 6857.12)]))
    levels = pl.DataFrame(
        {
            "sector_idx": [0, 0],
            "bucket": ["large", "large"],
            "date": [date(2026, 1, 5), date(2026, 1, 6)],
            "level": [100.0, 101.5],
            "coverage_pct": [100.0, 99.0],
        },
        schema=LEG_LEVELS,
    )
    recorder.add_leg_levels(levels)
    assert recorder.flush() is None
    path = tmp_path / partition_name(now.astimezone(NEW_YORK).date()) / LEG_LEVELS_FILE
    written = path.stat().st_mtime_ns
    # The same levels again (the next day's reduction found nothing new): not rewritten.
    recorder.add_leg_levels(levels)
    clock.advance(5)
    assert recorder.flush() is None
    assert path.stat().st_mtime_ns == written
    viewer = follow_engine(tmp_path, clock=clock, universe=small_universe())
    snapshot = await viewer.refresh()
    assert viewer.store.leg_levels.equals(levels)
    assert snapshot.sector_history is not None
    assert snapshot.sector_history.through == date(2026, 1, 6)


def test_prune_keeps_the_last_n_days_and_never_today(tmp_path: Path):
    from datetime import date

    today = date(2026, 3, 10)
    for back in range(4):
        (tmp_path / partition_name(today - timedelta(days=back))).mkdir()
    (tmp_path / "notes").mkdir()  # not a partition: never touched
    assert prune_partitions(tmp_path, today, 2) == [date(2026, 3, 7), date(2026, 3, 8)]
    left = sorted(child.name for child in tmp_path.iterdir())
    assert left == ["date=2026-03-09", "date=2026-03-10", "notes"]
    assert prune_partitions(tmp_path, today, 1) == [date(2026, 3, 9)]
    assert sorted(child.name for child in tmp_path.iterdir()) == ["date=2026-03-10", "notes"]
    with pytest.raises(ValueError, match="at least 1"):
        prune_partitions(tmp_path, today, 0)


def test_the_recorder_prunes_after_its_flush_once_a_day(tmp_path: Path):
    from capgap.feeds.recording.recorder import Recorder

    clock = ManualClock(MIDDAY)
    today = clock.now().astimezone(NEW_YORK).date()
    old = tmp_path / partition_name(today - timedelta(days=3))
    old.mkdir()
    (old / "quotes-000000-000001.parquet").write_bytes(b"old")
    recorder = Recorder(tmp_path, clock, keep_days=3)
    recorder.add_quotes(quotes_frame([("^GSPC", clock.now(), 6870.40, 6857.12)]))
    assert old.exists()  # nothing is removed before a flush
    assert recorder.flush() is None
    assert not old.exists()
    assert (tmp_path / partition_name(today) / SESSION_FILE).exists()


async def test_keep_days_reaches_the_pollers_recorder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from capgap.cli.main import build_parser
    from capgap.engine import sources
    from capgap.settings.config import load_settings

    args = build_parser().parse_args(["record", "--out", str(tmp_path), "--keep-days", "7"])
    assert args.keep_days == 7
    monkeypatch.setattr("capgap.market.holdings.cache_dir", lambda: tmp_path / "holdings")
    engine = sources.live_engine(
        load_settings(None, environ={}),
        record_to=tmp_path,
        universe=small_universe(),
        keep_days=args.keep_days,
        lasting=True,
    )
    try:
        assert engine.recorder is not None
        assert engine.recorder.keep_days == 7 and engine.recorder.source == "yahoo"
    finally:
        await engine.aclose()


@pytest.mark.parametrize("value", ["0", "-2", "two"])
def test_keep_days_is_refused_unless_a_whole_number_from_one(value: str, capsys, tmp_path: Path):
    from capgap.cli.main import main

    with pytest.raises(SystemExit) as exit_:
        main(["record", "--out", str(tmp_path), "--keep-days", value])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--keep-days" in err[0]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--follow", "F", "--demo"], "drop --demo"),
        (["--follow", "F", "--replay", "F"], "drop --replay"),
        (["--follow", "F", "--speed", "2"], "drop --speed"),
        (["snapshot", "--follow", "F", "--source", "yahoo"], "drop --source"),
        (["--follow", "F", "calendar"], "calendar` does not take it"),
        (["snapshot", "--follow", "FILE"], "not a folder"),
    ],
)
def test_follow_takes_no_other_source(args: list[str], words: str, capsys, tmp_path: Path):
    from capgap.cli.main import main

    folder = str(tmp_path)
    (tmp_path / "file").write_text("")
    given = {"F": folder, "FILE": str(tmp_path / "file")}
    assert main([given.get(arg, arg) for arg in args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0]


def test_the_follow_label_names_the_pollers_source(tmp_path: Path):
    from capgap.engine.startup import follow_label, followed_session
    from capgap.feeds.recording.recorder import Recorder

    assert follow_label(tmp_path) == f"follow: {tmp_path}"  # nothing written yet
    clock = ManualClock(MIDDAY)
    recorder = Recorder(tmp_path, clock, source="yahoo")
    recorder.add_quotes(quotes_frame([("^GSPC", clock.now(), 6870.40, 6857.12)]))
    assert recorder.flush() is None
    assert follow_label(tmp_path) == f"follow: yahoo via {tmp_path}"
    info = followed_session(tmp_path)
    assert info is not None and not info.synthetic
    # A recording of synthetic data: the follower shows DEMO from its first frame.
    demo = tmp_path / "demo"
    synthetic = Recorder(demo, clock, source="demo", synthetic=True)
    synthetic.add_quotes(quotes_frame([("^GSPC", clock.now(), 6870.40, 6857.12)]))
    assert synthetic.flush() is None
    info = followed_session(demo)
    assert info is not None and info.synthetic
    assert followed_session(tmp_path / "missing") is None


async def test_a_one_shot_follower_reads_the_latest_quotes_file_only(desk: Desk):
    await desk.poll()
    desk.clock.advance(5)
    desk.serve(6880.00, 2530.00, 232.5, desk.stamp + 5)
    await desk.poll()
    whole = FollowFeed(desk.record, desk.clock)
    latest = FollowFeed(desk.record, desk.clock, latest_only=True)
    symbols = ["^GSPC", "^RUT", STOCK, "NOPE"]
    # The same answer as the follower that reads every quote file of the day.
    expected = await whole.quotes(symbols)
    assert expected.height == 3 and expected["last"].to_list() == [232.5, 6880.00, 2530.00]
    assert (await latest.quotes(symbols)).equals(expected)
    assert latest.session_date == whole.session_date
    # None of the day's quote files was read.
    part = latest._part
    assert part is not None and part.rows.height == 0 and not part.seen


def test_every_recorded_file_is_readable_as_the_umask_allows(tmp_path: Path):
    """Viewers are other users: not the temp files' 0600 (the Yahoo session keeps that)."""
    import stat

    from capgap.feeds.base import ReferenceData
    from capgap.feeds.recording.recorder import Recorder

    mask = os.umask(0o022)
    os.umask(mask)
    clock = ManualClock(MIDDAY)
    recorder = Recorder(tmp_path, clock, source="yahoo")
    recorder.add_quotes(quotes_frame([("^GSPC", clock.now(), 6870.40, 6857.12)]))
    yesterday = clock.now().date() - timedelta(days=1)
    recorder.add_daily(daily_frame([("^GSPC", yesterday, 6857.12)]))
    recorder.set_reference(ReferenceData(target_range=(3.75, 4.0)), "New York Fed")
    assert recorder.flush() is None
    files = sorted(path for path in tmp_path.rglob("*") if path.is_file())
    names = {path.name for path in files}
    assert {"session.toml", "daily.parquet", "latest.parquet"} <= names
    assert any(name.startswith("quotes-") for name in names)
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask, path.name


def test_a_weekend_without_quotes_is_not_stale_while_the_poller_writes(tmp_path: Path):
    """Saturday gets no quote file; the poller's heartbeat goes to Saturday's session.toml."""
    from datetime import datetime

    from capgap.feeds.base import ReferenceData
    from capgap.feeds.recording.recorder import Recorder

    friday = datetime(2026, 3, 13, 16, 0, tzinfo=NEW_YORK)
    clock = ManualClock(friday)
    recorder = Recorder(tmp_path, clock, source="yahoo")
    recorder.set_reference(ReferenceData(target_range=(3.75, 4.0)), "New York Fed")
    recorder.add_quotes(quotes_frame([("^GSPC", friday, 6870.40, 6857.12)]))
    assert recorder.flush() is None
    feed = FollowFeed(tmp_path, clock)
    feed.history_changes()
    clock.advance(24 * 3600)  # Saturday 16:00: nothing traded, the poller flushes on
    assert recorder.flush() is None
    saturday = tmp_path / partition_name(friday.date() + timedelta(days=1))
    assert (saturday / SESSION_FILE).exists() and not list(saturday.glob("quotes-*"))
    clock.advance(10)
    feed.history_changes()
    assert feed.session_date == friday.date()  # Friday's quotes are still the latest
    status = feed.recording_status(clock.now())
    assert status.state == "ok" and status.age_s == 10
    clock.advance(6)  # 16 s since the last flush: over 3 x 5 s
    feed.history_changes()
    assert feed.recording_status(clock.now()).stale
