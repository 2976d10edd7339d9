"""Extended hours against the local server: Yahoo's pre-market fields reach the snapshot."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from capgap.analytics.serialize import snapshot_to_dict
from capgap.core.clock import ManualClock
from capgap.core.market_types import NEW_YORK
from capgap.engine.sources import live_engine
from capgap.feeds.providers.yahoo import chart_path
from capgap.feeds.providers.yahoo_quote import QUOTE_PATH
from capgap.settings.config import load_settings
from server import LocalServer, Reply, local_server
from test_live_engine import config_for, daily_chart, serve_history
from test_live_fed import EFFR_BODY, EFFR_PATH
from test_yahoo_quote import answer, asked, item, open_session

__all__ = ["local_server"]


def ny(hour: int, minute: int, day: int = 5) -> datetime:
    """An instant of December 2025 by its New York wall time (the 5th is a Friday)."""
    return datetime(2025, 12, day, hour, minute, tzinfo=NEW_YORK).astimezone(UTC)


FUTURES_HISTORY = {"ES=F": [6800.0, 6849.75], "RTY=F": [2500.0, 2527.3]}


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


async def test_pre_market_quotes_and_futures_reach_the_snapshot(
    local_server: LocalServer, tmp_path: Path
):
    now = ny(8, 15)
    close = epoch(ny(16, 0, day=4))  # before the open, the regular price is Thursday's close
    open_session(local_server)
    local_server.add(
        QUOTE_PATH,
        Reply.json(
            answer(
                item("^GSPC", 6870.40, time=close, prev_close=6857.12, quote_type="INDEX"),
                item("^RUT", 2521.48, time=close, prev_close=2531.16, quote_type="INDEX"),
                item(
                    "SPY", 680.0, time=close, prev_close=676.0, quote_type="ETF",
                    marketState="PRE", preMarketPrice=682.108, preMarketTime=epoch(ny(8, 12)),
                    # Thursday evening's post price: another session, not today's gap.
                    postMarketPrice=690.0, postMarketTime=epoch(ny(19, 0, day=4)),
                ),
                item(
                    "IWM", 250.0, time=close, prev_close=248.0, quote_type="ETF",
                    marketState="PRE", preMarketPrice=251.30, preMarketTime=epoch(ny(8, 10)),
                ),
                # The futures trade overnight: their regular price is the latest trade.
                item("ES=F", 6870.25, time=epoch(ny(8, 14)), prev_close=6849.75,
                     quote_type="FUTURE"),
                item("RTY=F", 2540.0, time=epoch(ny(8, 14)), prev_close=2527.3,
                     quote_type="FUTURE"),
            )
        ),
    )  # fmt: skip
    serve_history(local_server, now)
    # The futures' daily closes lead up to the previous settlement the quote gives.
    for symbol, closes in FUTURES_HISTORY.items():
        local_server.replace(chart_path(symbol), Reply.json(daily_chart(symbol, closes, now)))
    local_server.add(EFFR_PATH, Reply.json(EFFR_BODY))
    settings = load_settings(Path(config_for(local_server, tmp_path)), environ={})
    engine = live_engine(settings, clock=ManualClock(now))
    try:
        snapshot = await engine.refresh()
    finally:
        await engine.aclose()
    # The futures are asked with the benchmarks on every poll.
    first = asked(local_server)[0]["symbols"][0].split(",")
    assert {"ES=F", "RTY=F", "SPY", "IWM"} <= set(first)
    data = snapshot_to_dict(snapshot)
    assert data["market"]["state"] == "pre"
    problems = dict(snapshot.feeds[0].problems)
    assert not {"SPY", "IWM", "ES=F", "RTY=F"} & set(problems)
    # 682.108 / 680 - 1 = +0.31 %, 251.30 / 250 - 1 = +0.52 %: the gap is +0.21 pp, as of the
    # older of the two prices (IWM's, 08:10 EST = 13:10 UTC).
    assert data["spread"]["extended"] == {
        "session": "pre",
        "large": 0.31,
        "small": 0.52,
        "gap_pp": 0.21,
        "as_of": "2025-12-05T13:10:00+00:00",
    }
    assert data["futures"] == {
        "large": {"symbol": "ES=F", "last": 6870.25, "change_pct": 0.2993},
        "small": {"symbol": "RTY=F", "last": 2540.0, "change_pct": 0.5025},
    }
