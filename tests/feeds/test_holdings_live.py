"""The live engine's daily holdings update: in the background, once a New York day, visible."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from capgap.core.clock import ManualClock
from capgap.engine.loop import Engine
from capgap.engine.sources import UniverseUpkeep, demo_engine, live_engine
from capgap.market.holdings import fund_of
from capgap.settings.model import FeedsSettings, ProviderSettings, Settings
from holdings_files import STOCKS, holdings_csv, install_small_shipped
from server import LocalServer, Reply, local_server

__all__ = ["local_server"]

MORNING = datetime(2026, 5, 6, 14, 0, tzinfo=UTC)  # 10:00 New York
CSV_TYPE = "text/csv; charset=utf-8"


def path_of(ticker: str) -> str:
    return "/" + fund_of(ticker).product_path + "/1467271812596.ajax"


def local_settings(server: LocalServer) -> Settings:
    """Every provider on the local server (nothing is scripted for the quotes: they fail)."""
    url = server.base_url
    here = ProviderSettings(url)
    return Settings(
        feeds=FeedsSettings(
            yahoo=ProviderSettings(url, url + "/cookie"),
            nyfed=here,
            fred=here,
            finnhub=here,
            ishares=here,
        )
    )


def upkeep_of(engine: Engine) -> UniverseUpkeep:
    assert isinstance(engine.upkeep, UniverseUpkeep)
    return engine.upkeep


@pytest.fixture
def shipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return install_small_shipped(tmp_path / "shipped", monkeypatch)


async def test_a_good_download_reaches_the_engine_and_a_refusal_shows_among_the_feeds(
    local_server, shipped, tmp_path
):
    cache = tmp_path / "cache"
    local_server.add(path_of("IWM"), Reply(200, holdings_csv(date(2026, 5, 6), STOCKS[:9]),
                                           content_type=CSV_TYPE))  # fmt: skip
    local_server.add(path_of("IVV"), Reply.text("<html>Choose your region</html>", 200, CSV_TYPE))
    clock = ManualClock(MORNING)
    engine = live_engine(local_settings(local_server), clock=clock, holdings_dir=cache)
    source = engine.universe.source("small")
    assert source is not None and (source.origin, source.members) == ("shipped", 10)
    upkeep = upkeep_of(engine)
    assert upkeep.status(clock.now()) is None  # nothing to say before the first update

    upkeep.tick(engine, clock.now())
    await upkeep.wait()
    # The new members take effect on the next poll, which shows the refusal among the feeds.
    snapshot = await engine.refresh()

    source = engine.universe.source("small")
    assert source is not None and (source.origin, source.members) == ("cache", 9)
    shown = {feed.name: feed for feed in snapshot.feeds}
    assert shown["iShares"].state == "degraded" and "IVV" in (shown["iShares"].error or "")
    assert "HHH" not in engine.universe.constituents.filter(bucket="small")["symbol"].to_list()
    status = upkeep.status(clock.now())
    assert status is not None
    assert (status.name, status.state, status.last_success) == ("iShares", "degraded", MORNING)
    assert status.error == (
        "iShares IVV: sent an HTML page where the holdings CSV was expected; "
        "keeping the universe of 2026-05-05 (shipped)"
    )
    await engine.aclose()


async def test_a_second_start_the_same_day_does_not_fetch_and_the_next_day_does(
    local_server, shipped, tmp_path
):
    cache = tmp_path / "cache"
    for ticker in ("IVV", "IWM"):
        local_server.add(path_of(ticker), Reply(200, holdings_csv(date(2026, 5, 6)),
                                                content_type=CSV_TYPE))  # fmt: skip
    settings = local_settings(local_server)
    first = live_engine(settings, clock=ManualClock(MORNING), holdings_dir=cache)
    upkeep_of(first).tick(first, MORNING)
    await upkeep_of(first).wait()
    assert local_server.total == 2
    await first.aclose()

    # A restart an hour later: the same New York day, so nothing is fetched ...
    later = MORNING + timedelta(hours=1)
    clock = ManualClock(later)
    second = live_engine(settings, clock=clock, holdings_dir=cache)
    upkeep = upkeep_of(second)
    upkeep.tick(second, later)
    await upkeep.wait()
    assert local_server.total == 2
    # ... the universe at start is the one downloaded, and the state says when it came.
    source = second.universe.source("large")
    assert source is not None and (source.origin, source.as_of) == ("cache", date(2026, 5, 6))
    status = upkeep.status(later)
    assert status is not None and (status.state, status.last_success) == ("ok", MORNING)
    # Ticks on the same day start nothing either.
    upkeep.tick(second, later + timedelta(hours=5))
    await upkeep.wait()
    assert local_server.total == 2
    # The next New York day both funds are fetched again.
    upkeep.tick(second, MORNING + timedelta(days=1))
    await upkeep.wait()
    assert local_server.total == 4
    await second.aclose()


def test_the_demo_never_fetches_holdings():
    assert demo_engine(ManualClock(MORNING)).upkeep is None


def test_a_live_engine_without_a_holdings_folder_does_not_update(local_server):
    assert live_engine(local_settings(local_server), clock=ManualClock(MORNING)).upkeep is None
