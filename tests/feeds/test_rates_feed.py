"""The New York Fed is a feed of its own: its outage shows, keeps the last rates, and clears."""

from __future__ import annotations

import copy
import tomllib
from datetime import timedelta
from pathlib import Path

from builders import MIDDAY
from capgap.core.clock import ManualClock
from capgap.engine.loop import RATES_RETRY, REFERENCE_EVERY
from capgap.engine.sources import live_engine
from capgap.settings.config import load_settings
from server import LocalServer, Reply, local_server
from test_live_engine import config_for, serve_history, serve_index_quotes
from test_live_fed import EFFR_BODY, EFFR_PATH
from test_yahoo_quote import item

__all__ = ["local_server"]


def _effr(rate: float) -> dict:
    body = copy.deepcopy(EFFR_BODY)
    body["refRates"][0]["percentRate"] = rate
    return body


def serve_a_market(server: LocalServer) -> ManualClock:
    """Answer the indices' quotes (30 s old) and daily history; return a clock at now."""
    clock = ManualClock(MIDDAY)
    serve_index_quotes(server, int(clock.now().timestamp()) - 30)
    serve_history(server, clock.now())
    return clock


async def test_a_new_york_fed_outage_is_its_own_feed_and_clears(
    local_server: LocalServer, tmp_path: Path
) -> None:
    clock = serve_a_market(local_server)
    # First a good answer, then an outage (503 twice), then a new rate.
    local_server.add(
        EFFR_PATH,
        Reply.json(_effr(3.89)),
        Reply.json({}, status=503),
        Reply.json({}, status=503),
        Reply.json(_effr(3.64)),
    )
    settings = load_settings(Path(config_for(local_server, tmp_path)), environ={})
    engine = live_engine(settings, clock=clock)
    try:
        first = await engine.refresh()
        names = [feed.name for feed in first.feeds]
        assert names == ["yahoo", "nyfed"]
        assert [feed.state for feed in first.feeds] == ["ok", "ok"]
        assert first.fed.effr == 3.89

        # The quarter-hour refresh fails: yahoo stays ok, the New York Fed is degraded with
        # its own error and next try, and the last rates stay on screen.
        clock.advance(REFERENCE_EVERY.total_seconds())
        failed = await engine.refresh()
        yahoo, nyfed = failed.feeds
        assert yahoo.state == "ok"
        assert nyfed.state == "degraded" and "503" in (nyfed.error or "")
        assert nyfed.next_retry == clock.now() + RATES_RETRY
        assert nyfed.age_s == REFERENCE_EVERY.total_seconds()
        assert failed.fed.effr == 3.89 and failed.fed.target_range == (3.75, 4.0)
        assert local_server.count(EFFR_PATH) == 2

        # It is asked again a minute later, not a quarter of an hour later.
        clock.advance(10)
        await engine.refresh()
        assert local_server.count(EFFR_PATH) == 2
        clock.advance(RATES_RETRY.total_seconds())
        again = await engine.refresh()
        assert local_server.count(EFFR_PATH) == 3
        assert again.feeds[1].state == "degraded" and again.fed.effr == 3.89

        # The fault clears: the next real value reaches the snapshot, and the feed is ok.
        # It is asked after twice the first wait: the retries back off.
        assert again.feeds[1].next_retry == clock.now() + 2 * RATES_RETRY
        clock.advance(2 * RATES_RETRY.total_seconds())
        cleared = await engine.refresh()
        assert local_server.count(EFFR_PATH) == 4
        assert cleared.feeds[1].state == "ok" and cleared.feeds[1].error is None
        assert cleared.fed.effr == 3.64
    finally:
        await engine.aclose()


async def test_after_each_data_shape_fault_the_next_real_rate_reaches_snapshot_and_recording(
    local_server: LocalServer, tmp_path: Path
) -> None:
    import tomllib

    clock = serve_a_market(local_server)
    future = copy.deepcopy(_effr(3.70))
    future["refRates"][0]["effectiveDate"] = "2999-01-04"
    faults = {
        "an empty result": {"refRates": []},
        "basis points sent as percent": _effr(389.0),
        "a date in the future": future,
    }
    good = (3.89, 3.80, 3.72, 3.64)
    replies = [Reply.json(_effr(good[0]))]
    for (_what, body), rate in zip(faults.items(), good[1:], strict=True):
        replies += [Reply.json(body), Reply.json(_effr(rate))]
    local_server.add(EFFR_PATH, *replies)
    settings = load_settings(Path(config_for(local_server, tmp_path)), environ={})
    record = tmp_path / "rec"
    engine = live_engine(settings, clock=clock, record_to=record)

    def recorded_effr() -> float:
        (session,) = record.glob("date=*/session.toml")
        return float(tomllib.loads(session.read_text())["reference"]["effr"])

    try:
        assert (await engine.refresh()).fed.effr == good[0]
        for what, rate in zip(faults, good[1:], strict=True):
            clock.advance(REFERENCE_EVERY.total_seconds())
            faulty = await engine.refresh()
            nyfed = faulty.feeds[1]
            assert nyfed.state == "degraded", what
            # The bad figure never replaces the last good one, on screen or on disk.
            assert faulty.fed.effr is not None, what
            assert faulty.fed.effr != rate and faulty.fed.effr < 25, what
            clock.advance(RATES_RETRY.total_seconds())
            cleared = await engine.refresh()
            assert cleared.feeds[1].state == "ok", what
            assert cleared.fed.effr == rate, what
            assert recorded_effr() == rate, what
    finally:
        await engine.aclose()


def _serve_index_quotes_and_history(server: LocalServer, clock: ManualClock) -> None:
    """The indices, SPY and IWM, and daily history (the valuation is the members', not here)."""
    stamp = int(clock.now().timestamp()) - 30
    serve_index_quotes(
        server,
        stamp,
        item("SPY", 680.0, time=stamp, quote_type="ETF"),
        item("IWM", 250.0, time=stamp, quote_type="ETF"),
    )
    serve_history(server, clock.now())


def _recorded_reference(record: Path) -> dict:
    (session,) = record.glob("date=*/session.toml")
    return tomllib.loads(session.read_text())["reference"]


GOOD_REFERENCE = {
    "target_range": [3.75, 4.0],
    "effr": 3.89,
    "label": "New York Fed",
}


async def test_a_new_york_fed_failure_at_its_refresh_keeps_every_figure_and_backs_off(
    local_server: LocalServer, tmp_path: Path
) -> None:
    clock = ManualClock(MIDDAY)
    _serve_index_quotes_and_history(local_server, clock)
    # A good reference, then four failed refreshes, then a new rate.
    local_server.add(
        EFFR_PATH,
        Reply.json(_effr(3.89)),
        *[Reply.json({}, status=503)] * 4,
        Reply.json(_effr(3.64)),
    )
    settings = load_settings(Path(config_for(local_server, tmp_path)), environ={})
    record = tmp_path / "rec"
    engine = live_engine(settings, clock=clock, record_to=record)
    try:
        first = await engine.refresh()
        assert first.fed.effr == 3.89 and first.fed.target_range == (3.75, 4.0)
        assert engine.recorder is not None and engine.recorder.flush() is None
        assert _recorded_reference(record) == GOOD_REFERENCE

        # The quarter-hour refresh fails, then every retry: each waits twice the one before
        # (1, 2, 4, 8 minutes), and the figures, on screen and on disk, stay whole meanwhile.
        clock.advance(REFERENCE_EVERY.total_seconds())
        for failures, wait in enumerate((1, 2, 4, 8), start=1):
            failed = await engine.refresh()
            assert local_server.count(EFFR_PATH) == 1 + failures
            nyfed = failed.feeds[1]
            # Down from the third failure on (as any feed), its figures still shown.
            assert nyfed.state == ("degraded" if failures < 3 else "down"), failures
            assert "503" in (nyfed.error or ""), failures
            assert nyfed.next_retry == clock.now() + timedelta(minutes=wait), failures
            assert failed.fed.effr == 3.89 and failed.fed.target_range == (3.75, 4.0)
            assert failed.fed.target_source == "New York Fed"
            assert engine.recorder.flush() is None
            assert _recorded_reference(record) == GOOD_REFERENCE, failures
            # Not asked again before its time...
            clock.advance(wait * 60 - 1)
            await engine.refresh()
            assert local_server.count(EFFR_PATH) == 1 + failures
            clock.advance(1)  # ...and asked at it.

        # The fault clears: the new rate reaches the snapshot and session.toml.
        cleared = await engine.refresh()
        assert local_server.count(EFFR_PATH) == 6
        assert cleared.feeds[1].state == "ok" and cleared.fed.effr == 3.64
        assert engine.recorder.flush() is None
        assert _recorded_reference(record) == {**GOOD_REFERENCE, "effr": 3.64}
    finally:
        await engine.aclose()


async def test_a_recorder_restarted_during_an_outage_keeps_the_recorded_reference(
    local_server: LocalServer, tmp_path: Path
) -> None:
    # session.toml holds the rates of an earlier run today; this run never reaches the Fed.
    clock = ManualClock(MIDDAY)
    _serve_index_quotes_and_history(local_server, clock)
    local_server.add(EFFR_PATH, Reply.json(_effr(3.89)), Reply.json({}, status=503))
    settings = load_settings(Path(config_for(local_server, tmp_path)), environ={})
    record = tmp_path / "rec"
    earlier = live_engine(settings, clock=clock, record_to=record)
    try:
        await earlier.refresh()
    finally:
        await earlier.aclose()
    assert _recorded_reference(record) == GOOD_REFERENCE
    clock.advance(60)
    later = live_engine(settings, clock=clock, record_to=record)
    try:
        snapshot = await later.refresh()
        assert snapshot.feeds[1].state == "down"
    finally:
        await later.aclose()
    assert local_server.count(EFFR_PATH) == 2
    # Nothing on disk is replaced by nothing: the earlier figures stay.
    assert _recorded_reference(record) == GOOD_REFERENCE
