"""Each index figure knows its own age: a quote the feed rejects goes stale beside a fresh one.

Against the local server: Yahoo answers the S&P 500 but sends the Russell 2000 without a
price. The feed itself answered, so it stays "ok"; the Russell's figure must age, turn stale
after twice the cadence, and the problem must be listed. When the fault clears, the next real
Russell quote must reach the snapshot and the recording.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl
from capgap.analytics.serialize import snapshot_to_dict
from capgap.cli.report import format_tmux
from capgap.core.clock import ManualClock
from capgap.core.market_types import NEW_YORK
from capgap.engine.sources import live_engine
from capgap.feeds.providers.yahoo_quote import QUOTE_PATH
from capgap.market.universe import Universe, load_universe
from capgap.settings.config import load_settings
from server import LocalServer, Reply, local_server
from test_live_engine import config_for, serve_history
from test_live_fed import EFFR_BODY, EFFR_PATH
from test_yahoo_quote import answer, item, open_session

__all__ = ["local_server"]

#: Friday 5 Dec 2025, 14:00 New York: the market is open, the cadence is the open one.
OPEN = datetime(2025, 12, 5, 14, 0, tzinfo=NEW_YORK)


def benchmarks_only() -> Universe:
    """The bundled benchmarks and nothing else: every poll is one quote request."""
    full = load_universe()
    return Universe(full.benchmarks, (), full.names, full.constituents.head(0))


def indices(stamp: int, rut: float | None) -> Reply:
    """A quote answer with the S&P 500 and, priced or not, the Russell 2000."""
    return Reply.json(
        answer(
            item("^GSPC", 6870.40, time=stamp, prev_close=6857.12, quote_type="INDEX"),
            item("^RUT", rut, time=stamp, prev_close=2531.16, quote_type="INDEX"),
        )
    )


async def test_a_rejected_index_goes_stale_and_recovers(local_server: LocalServer, tmp_path: Path):
    universe = benchmarks_only()
    serve_history(local_server, OPEN)
    local_server.add(EFFR_PATH, Reply.json(EFFR_BODY))
    open_session(local_server)
    clock = ManualClock(OPEN)
    local_server.add(QUOTE_PATH, indices(int(clock.now().timestamp()) - 5, 2521.48))
    settings = load_settings(Path(config_for(local_server, tmp_path)), environ={})
    record = tmp_path / "rec"
    engine = live_engine(settings, clock=clock, universe=universe, record_to=record)
    cadence = settings.poll.open_s
    try:
        first = await engine.refresh()
        assert first.spread.small.last == 2521.48 and not first.spread.small.stale
        assert first.spread.small.age_s == 0.0

        # From now on the Russell comes without a price; the S&P stays fresh.
        clock.advance(cadence)
        local_server.replace(QUOTE_PATH, indices(int(clock.now().timestamp()) - 5, None))
        second = await engine.refresh()
        assert second.spread.small.age_s == cadence and not second.spread.small.stale
        clock.advance(2 * cadence)
        third = await engine.refresh()
        small, large = third.spread.small, third.spread.large
        assert small.age_s == 3 * cadence and small.stale
        assert small.last == 2521.48  # the last good figure stays, marked as stale
        assert large.age_s == 0.0 and not large.stale
        feed = third.feeds[0]
        assert feed.state == "ok"
        # Listed among the symbols the answer let down (the benchmarks it left out too).
        problems = dict(feed.problems)
        assert "price" in problems["^RUT"] and "^GSPC" not in problems
        data = snapshot_to_dict(third)
        assert data["spread"]["small"]["stale"] is True
        assert data["spread"]["small"]["age_s"] == 3 * cadence
        assert {"symbol": "^RUT", "problem": problems["^RUT"]} in data["feeds"][0]["problems"]
        assert format_tmux(third).endswith("stale")

        # The fault clears: the next real Russell quote reaches the snapshot and the recording.
        clock.advance(cadence)
        local_server.replace(QUOTE_PATH, indices(int(clock.now().timestamp()) - 1, 2530.00))
        fourth = await engine.refresh()
        assert fourth.spread.small.last == 2530.00 and not fourth.spread.small.stale
        assert "^RUT" not in dict(fourth.feeds[0].problems)
        assert not format_tmux(fourth).endswith("stale")
    finally:
        await engine.aclose()
    recorded = pl.concat([pl.read_parquet(path) for path in record.rglob("quotes*.parquet")])
    russell = recorded.filter(pl.col("symbol") == "^RUT").get_column("last").to_list()
    assert 2530.00 in russell and None not in russell
