"""The live feed's slow data from the disk cache: daily history and rates, each until it expires."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
from capgap.analytics.fed import futures_symbols
from capgap.core.clock import ManualClock
from capgap.core.market_types import NEW_YORK
from capgap.feeds.disk_cache import DiskCache
from capgap.feeds.live import YahooLiveFeed
from capgap.feeds.live_fed import fetch_live_fed
from capgap.feeds.providers.fred import OBSERVATIONS_PATH
from capgap.feeds.providers.yahoo import chart_path
from capgap.market.fomc import default_schedule
from capgap.market.universe import load_universe
from capgap.market.zq import default_naming
from capgap.settings.config import load_settings
from server import LocalServer, Reply, local_server
from test_fred import observations
from test_live_engine import config_for, daily_chart
from test_live_fed import DEC_PRICE, EFFR_BODY, EFFR_PATH, NOT_FOUND, chart, feeds_for
from test_live_fed import NOW as FED_NOW

__all__ = ["local_server"]

# Fri 5 Dec 2025 11:00 New York: the session closes at 16:00.
MORNING = datetime(2025, 12, 5, 11, 0, tzinfo=NEW_YORK).astimezone(UTC)
SYMBOLS = ["^GSPC", "^RUT"]


async def one_run(
    server: LocalServer, tmp_path: Path, clock: ManualClock, cache: DiskCache
) -> tuple[list[float], float | None]:
    """A new process's feed: the indices' last daily closes and the EFFR it finds."""
    settings = load_settings(Path(config_for(server, tmp_path)), environ={})
    feed = YahooLiveFeed(settings.feeds, clock, load_universe().benchmarks, cache=cache)
    try:
        daily = await feed.daily(SYMBOLS)
        reference = await feed.reference()
    finally:
        await feed.aclose()
    closes = daily.group_by("symbol").agg(last=pl.col("close").last()).sort("symbol")
    return closes.get_column("last").to_list(), reference.effr


async def test_history_and_rates_come_from_disk_until_they_expire(
    local_server: LocalServer, tmp_path: Path
):
    closes = {"^GSPC": [6800.0, 6857.12], "^RUT": [2500.0, 2531.16]}
    for symbol in SYMBOLS:
        local_server.add(
            chart_path(symbol), Reply.json(daily_chart(symbol, closes[symbol], MORNING))
        )
    local_server.add(EFFR_PATH, Reply.json(EFFR_BODY))
    cache = DiskCache(tmp_path / "slow")
    clock = ManualClock(MORNING)
    first = await one_run(local_server, tmp_path, clock, cache)
    assert first == ([6857.12, 2531.16], 3.89)
    assert local_server.total == 3
    # An hour later: everything from disk, the same figures.
    clock.advance(3600)
    assert await one_run(local_server, tmp_path, clock, cache) == first
    assert local_server.total == 3
    # Past the four hours the rates are asked again; the history waits for the close.
    clock.advance(3 * 3600 + 1)
    await one_run(local_server, tmp_path, clock, cache)
    assert local_server.count(EFFR_PATH) == 2
    assert sum(local_server.count(chart_path(symbol)) for symbol in SYMBOLS) == 2
    # After the 16:00 close the history is fetched again.
    clock.advance((datetime(2025, 12, 5, 21, 0, tzinfo=UTC) - clock.now()).total_seconds())
    await one_run(local_server, tmp_path, clock, cache)
    assert sum(local_server.count(chart_path(symbol)) for symbol in SYMBOLS) == 4


async def test_a_damaged_cache_file_is_fetched_again(local_server: LocalServer, tmp_path: Path):
    for symbol in SYMBOLS:
        local_server.add(chart_path(symbol), Reply.json(daily_chart(symbol, [1.0, 2.0], MORNING)))
    local_server.add(EFFR_PATH, Reply.json(EFFR_BODY))
    cache = DiskCache(tmp_path / "slow")
    clock = ManualClock(MORNING)
    await one_run(local_server, tmp_path, clock, cache)
    for path in cache.folder.iterdir():
        path.write_bytes(path.read_bytes()[:20])
    assert await one_run(local_server, tmp_path, clock, cache) == ([2.0, 2.0], 3.89)
    assert local_server.total == 6
    # And the damage is repaired: the next run is served from disk.
    await one_run(local_server, tmp_path, clock, cache)
    assert local_server.total == 6
    assert clock.now() - MORNING < timedelta(hours=1)


async def test_zq_months_yahoo_does_not_know_are_not_asked_for_a_day(
    local_server: LocalServer, tmp_path: Path
):
    naming = default_naming()
    symbols = futures_symbols(FED_NOW, default_schedule(), naming)
    known = {"ZQZ25.CBT": DEC_PRICE, "ZQ=F": DEC_PRICE}
    for symbol in symbols:
        price = known.get(symbol)
        local_server.add(
            chart_path(symbol),
            Reply.json(chart(symbol, price, FED_NOW)) if price else Reply.json(NOT_FOUND, 404),
        )
    local_server.add(EFFR_PATH, Reply.json(EFFR_BODY))
    cache = DiskCache(tmp_path / "slow")
    clock = ManualClock(FED_NOW)
    feeds = feeds_for(local_server)

    def charts_asked() -> int:
        return sum(local_server.count(chart_path(symbol)) for symbol in symbols)

    first = await fetch_live_fed(feeds, symbols, clock, cache)
    assert charts_asked() == len(symbols)
    # Within the day only the two contracts Yahoo knows are asked; the rest stay listed.
    clock.advance(12 * 3600)
    second = await fetch_live_fed(feeds, symbols, clock, cache)
    assert charts_asked() == len(symbols) + 2
    assert second.problems == first.problems
    assert sorted(second.quotes.get_column("symbol").to_list()) == ["ZQ=F", "ZQZ25.CBT"]
    # Again 12 hours later: the day since it was learnt is over, every month is asked.
    clock.advance(12 * 3600)
    await fetch_live_fed(feeds, symbols, clock, cache)
    assert charts_asked() == 2 * len(symbols) + 2


async def test_rates_from_fred_standing_in_are_kept_and_the_new_york_fed_still_asked(
    local_server: LocalServer, tmp_path: Path
):
    # The New York Fed fails; FRED (with a key) stands in, every series at 3.89.
    local_server.add(EFFR_PATH, Reply.html(200))
    local_server.add(OBSERVATIONS_PATH, Reply.json(observations(("2025-12-04", "3.89"))))
    config = Path(config_for(local_server, tmp_path))
    # [feeds.fred] is the config's last section (its CSV's host): the API's host joins it.
    config.write_text(config.read_text() + f'base_url = "{local_server.base_url}"\n')
    settings = load_settings(config, environ={"FRED_API_KEY": "k"})
    cache = DiskCache(tmp_path / "slow")
    clock = ManualClock(MORNING)
    for run in (1, 2):
        feed = YahooLiveFeed(settings.feeds, clock, load_universe().benchmarks, cache=cache)
        try:
            reference = await feed.reference()
        finally:
            await feed.aclose()
        assert reference.label == "FRED" and reference.effr == 3.89
        assert reference.rates_error is not None and "HTML" in reference.rates_error
        # Each run asks the New York Fed again: its failure stays visible.
        assert local_server.count(EFFR_PATH) == run
        # FRED's answer is kept on disk: the second run does not ask it again.
        assert local_server.count(OBSERVATIONS_PATH) == 4
