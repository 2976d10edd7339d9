"""NY Fed down: FRED's keyless CSV stands in, labelled; its faults show; the NY Fed returns."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from builders import MIDDAY
from capgap.cli.main import main
from capgap.core.clock import ManualClock
from capgap.core.market_types import NEW_YORK
from capgap.engine.loop import RATES_RETRY
from capgap.engine.sources import live_engine
from capgap.feeds.live import RatesSource
from capgap.feeds.providers import nyfed as nyfed_module
from capgap.feeds.providers.fred import OBSERVATIONS_PATH
from capgap.feeds.providers.fred_csv import CSV_PATH
from capgap.settings.config import load_settings
from capgap.ui.widgets.fed_panel import effr_content, target_content
from server import LocalServer, Reply, local_server, provider_test_client
from test_fred_csv import serve_fred_csv
from test_live_engine import config_for, serve_history, serve_index_quotes
from test_live_fed import EFFR_BODY, EFFR_PATH
from test_quote_faults import small_universe

__all__ = ["local_server"]


def today_in(clock: ManualClock) -> date:
    return clock.now().astimezone(NEW_YORK).date()


def a_market(server: LocalServer) -> ManualClock:
    clock = ManualClock(MIDDAY)
    serve_index_quotes(server, int(clock.now().timestamp()) - 30)
    serve_history(server, clock.now())
    return clock


@pytest.fixture
def short_nyfed_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """The New York Fed's client with the provider tests' short read timeout."""
    monkeypatch.setattr(
        nyfed_module, "CLIENT_SETTINGS", provider_test_client(nyfed_module.PROVIDER)
    )


NYFED_FAULTS = {
    "HTTP 500": (Reply.json({}, status=500), "New York Fed HTTP 500"),
    "a timeout": (Reply.slow(5.0, EFFR_BODY), "New York Fed timed out"),
    "an HTML page": (Reply.html(), "New York Fed sent HTML"),
}


@pytest.mark.parametrize("fault", list(NYFED_FAULTS))
@pytest.mark.usefixtures("short_nyfed_timeout")
async def test_with_the_new_york_fed_down_fred_csv_figures_reach_the_snapshot(
    local_server: LocalServer, tmp_path: Path, fault: str
) -> None:
    clock = a_market(local_server)
    reply, why = NYFED_FAULTS[fault]
    local_server.add(EFFR_PATH, reply)
    serve_fred_csv(local_server, today_in(clock))
    settings = load_settings(Path(config_for(local_server, tmp_path)), environ={})
    engine = live_engine(settings, clock=clock)
    try:
        snapshot = await engine.refresh()
    finally:
        await engine.aclose()
    fed = snapshot.fed
    # The last real EFFR (today's is "." still) and the range, labelled with their source.
    assert fed.effr == 3.64 and fed.target_range == (3.5, 3.75)
    assert fed.target_source == "FRED CSV"
    # The fed panel's lines say so.
    assert target_content(fed).plain == "range 3.50-3.75 % (FRED CSV)"
    assert effr_content(fed).plain == "EFFR 3.64 %"
    # The New York Fed's outage stays visible (down: it never answered this run); the
    # stand-in does not make it healthy.
    nyfed = snapshot.feeds[1]
    assert nyfed.name == "nyfed" and nyfed.state == "down"
    assert why in (nyfed.error or "") and "FRED CSV stands in" in (nyfed.error or "")
    assert local_server.count(CSV_PATH) == 3


def test_the_snapshot_json_names_fred_csv_as_the_rates_source(
    local_server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = a_market(local_server)
    local_server.add(EFFR_PATH, Reply.json({}, status=500))
    serve_fred_csv(local_server, today_in(clock), effr="3.63")
    assert (
        main(["snapshot", "--config", config_for(local_server, tmp_path), "--format", "json"]) == 0
    )
    snap = json.loads(capsys.readouterr().out)
    assert snap["fed"]["target_source"] == "FRED CSV"
    assert snap["fed"]["target_range"] == [3.5, 3.75] and snap["fed"]["effr"] == 3.63


def csv_text(body: str) -> Reply:
    return Reply.text(body, content_type="text/csv")


#: A fault of FRED's CSV: the reply to each series, and what the rates feed's error says.
CSV_FAULTS = {
    "HTTP 500": (lambda series: Reply.json({}, status=500), "FRED CSV HTTP 500"),
    "an HTML page": (lambda series: Reply.html(), "FRED CSV sent an HTML page"),
    "a header that moved": (
        lambda series: csv_text(f"{series},observation_date\n3.75,2025-12-05\n"),
        "DFEDTARU header is 'DFEDTARU,observation_date'",
    ),
    "only missing values": (
        lambda series: csv_text(f"observation_date,{series}\n2025-12-05,.\n2025-12-06,\n"),
        "FRED CSV has no recent value for DFEDTARL",
    ),
    "a date in the future": (
        lambda series: csv_text(f"observation_date,{series}\n2999-01-04,3.75\n"),
        "DFEDTARU is dated 2999-01-04, after today",
    ),
}


@pytest.mark.parametrize("fault", list(CSV_FAULTS))
async def test_with_both_down_the_rates_feed_is_degraded_and_says_why(
    local_server: LocalServer, tmp_path: Path, fault: str
) -> None:
    clock = a_market(local_server)
    local_server.add(EFFR_PATH, Reply.json({}, status=500))
    reply_to, why = CSV_FAULTS[fault]
    for series in ("DFF", "DFEDTARU", "DFEDTARL"):
        local_server.add(f"{CSV_PATH}?id={series}", reply_to(series))
    settings = load_settings(Path(config_for(local_server, tmp_path)), environ={})
    engine = live_engine(settings, clock=clock)
    try:
        snapshot = await engine.refresh()
    finally:
        await engine.aclose()
    assert snapshot.fed.target_range is None and snapshot.fed.effr is None
    assert snapshot.fed.target_source is None
    nyfed = snapshot.feeds[1]
    assert nyfed.state == "down"
    assert "New York Fed HTTP 500" in (nyfed.error or "") and why in (nyfed.error or "")
    assert "stands in" not in (nyfed.error or "")


async def test_once_the_new_york_fed_recovers_it_is_used_again(
    local_server: LocalServer, tmp_path: Path
) -> None:
    clock = a_market(local_server)
    local_server.add(EFFR_PATH, Reply.json({}, status=500), Reply.json(EFFR_BODY))
    serve_fred_csv(local_server, today_in(clock))
    settings = load_settings(Path(config_for(local_server, tmp_path)), environ={})
    engine = live_engine(settings, clock=clock)
    try:
        first = await engine.refresh()
        assert first.fed.target_source == "FRED CSV" and first.fed.effr == 3.64
        # The failed rates feed is asked again at its retry: the New York Fed answers.
        clock.advance(RATES_RETRY.total_seconds())
        second = await engine.refresh()
    finally:
        await engine.aclose()
    assert local_server.count(EFFR_PATH) == 2
    assert second.fed.target_source == "New York Fed"
    assert second.fed.effr == 3.89 and second.fed.target_range == (3.75, 4.0)
    assert second.feeds[1].state == "ok" and second.feeds[1].error is None
    # FRED's CSV is not asked while the New York Fed answers.
    assert local_server.count(CSV_PATH) == 3


def fred_api_body(*points: tuple[str, str]) -> dict[str, object]:
    """A series/observations body of FRED's keyed API, newest first."""
    return {"observations": [{"date": day, "value": value} for day, value in points]}


def keyed_settings(server: LocalServer, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The local config with FRED's API on the local server too, and a key for it."""
    path = Path(config_for(server, tmp_path))
    path.write_text(
        path.read_text().replace(
            "[feeds.fred]\n", f'[feeds.fred]\nbase_url = "{server.base_url}"\n'
        )
    )
    return load_settings(path, environ={"FRED_API_KEY": "k" * 32})


async def test_with_a_key_the_fred_api_comes_before_the_csv(
    local_server: LocalServer, tmp_path: Path
) -> None:
    clock = a_market(local_server)
    day = today_in(clock).isoformat()
    local_server.add(EFFR_PATH, Reply.json({}, status=500))
    for series, value in (("DFF", "3.61"), ("DFEDTARU", "3.75"), ("DFEDTARL", "3.50")):
        local_server.add(
            f"{OBSERVATIONS_PATH}?series_id={series}", Reply.json(fred_api_body((day, value)))
        )
    # No 2-year yield: the rates do not need it, and its absence is not the rates' problem.
    local_server.add(f"{OBSERVATIONS_PATH}?series_id=DGS2", Reply.json(fred_api_body()))
    serve_fred_csv(local_server, today_in(clock))
    engine = live_engine(keyed_settings(local_server, tmp_path), clock=clock)
    try:
        snapshot = await engine.refresh()
    finally:
        await engine.aclose()
    assert snapshot.fed.target_source == "FRED" and snapshot.fed.effr == 3.61
    assert snapshot.fed.target_range == (3.5, 3.75)
    assert snapshot.feeds[1].error == "New York Fed HTTP 500; FRED stands in"
    assert local_server.count(CSV_PATH) == 0


async def test_with_the_fred_api_failing_too_the_csv_stands_in(
    local_server: LocalServer, tmp_path: Path
) -> None:
    clock = a_market(local_server)
    local_server.add(EFFR_PATH, Reply.json({}, status=500))
    local_server.add(OBSERVATIONS_PATH, Reply.json({}, status=503))
    serve_fred_csv(local_server, today_in(clock))
    engine = live_engine(keyed_settings(local_server, tmp_path), clock=clock)
    try:
        snapshot = await engine.refresh()
    finally:
        await engine.aclose()
    assert snapshot.fed.target_source == "FRED CSV" and snapshot.fed.effr == 3.64
    assert snapshot.feeds[1].error == ("New York Fed HTTP 500; FRED HTTP 503; FRED CSV stands in")


# Fri 5 Dec 2025 11:00 New York: the rates read now are kept until 15:00 (RATES_MAX_AGE).
MORNING = datetime(2025, 12, 5, 11, 0, tzinfo=NEW_YORK).astimezone(UTC)


async def test_fred_csv_is_downloaded_once_while_the_new_york_fed_stays_down(
    local_server: LocalServer, tmp_path: Path
) -> None:
    clock = ManualClock(MORNING)
    serve_index_quotes(local_server, int(MORNING.timestamp()) - 30)
    serve_history(local_server, MORNING)
    down = 4
    local_server.add(EFFR_PATH, *[Reply.json({}, status=500)] * (down + 1), Reply.json(EFFR_BODY))
    serve_fred_csv(local_server, today_in(clock))
    settings = load_settings(Path(config_for(local_server, tmp_path)), environ={})
    engine = live_engine(settings, clock=clock, universe=small_universe())
    try:
        first = await engine.refresh()
        for _ in range(down):
            # Each retry of the failed rates feed asks the New York Fed, and only it.
            retry = first.feeds[1].next_retry
            assert retry is not None
            clock.advance((retry - clock.now()).total_seconds())
            again = await engine.refresh()
            assert again.fed.target_source == "FRED CSV" and again.fed.effr == 3.64
            assert again.feeds[1].error == "New York Fed HTTP 500; FRED CSV stands in"
            first = again
        assert local_server.count(EFFR_PATH) == down + 1
        # The three series (DFF, DFEDTARU, DFEDTARL) once each, for all those retries.
        assert local_server.count(CSV_PATH) == 3
        # The New York Fed is back at the next retry: its figures and label take over.
        retry = first.feeds[1].next_retry
        assert retry is not None
        clock.advance((retry - clock.now()).total_seconds())
        back = await engine.refresh()
    finally:
        await engine.aclose()
    assert back.fed.target_source == "New York Fed" and back.fed.effr == 3.89
    assert target_content(back.fed).plain == "range 3.75-4.00 % (New York Fed)"
    assert back.feeds[1].state == "ok" and back.feeds[1].error is None
    assert local_server.count(CSV_PATH) == 3


async def test_fred_csv_kept_in_memory_expires_with_the_rates(
    local_server: LocalServer, tmp_path: Path
) -> None:
    clock = ManualClock(MORNING)
    local_server.add(EFFR_PATH, Reply.json({}, status=500))
    serve_fred_csv(local_server, today_in(clock))
    settings = load_settings(Path(config_for(local_server, tmp_path)), environ={})
    source = RatesSource(settings.feeds, clock)
    try:
        assert (await source.rates())[2] == "FRED CSV"
        clock.advance(3 * 3600)
        assert (await source.rates())[2] == "FRED CSV"
        assert local_server.count(CSV_PATH) == 3
        # Past 15:00 (four hours after it was read) FRED is asked again, as the NY Fed would be.
        clock.advance(3600 + 1)
        assert (await source.rates())[1] == 3.64
    finally:
        await source.aclose()
    assert local_server.count(CSV_PATH) == 6 and local_server.count(EFFR_PATH) == 3
