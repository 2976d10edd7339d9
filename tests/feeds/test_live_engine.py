"""The live engine end to end against the local server: the numbers served reach the snapshot."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from builders import MIDDAY
from capgap.cli.main import main
from capgap.core.clock import SystemClock
from capgap.feeds.providers.yahoo import chart_path
from capgap.feeds.providers.yahoo_quote import CRUMB_PATH, QUOTE_PATH
from capgap.market.universe import load_universe, vars_in_order
from server import LocalServer, Reply, local_server
from test_live_fed import EFFR_BODY, EFFR_PATH
from test_yahoo_quote import answer, item, open_session

__all__ = ["local_server"]


def chart_body(symbol: str, stamps: list[int], closes: list[float], **meta: object) -> dict:
    """A chart body: one bar per stamp at its close, and ``meta`` beside the symbol."""
    return {
        "chart": {
            "result": [
                {
                    "meta": {"symbol": symbol, "instrumentType": "INDEX", **meta},
                    "timestamp": stamps,
                    "indicators": {
                        "quote": [
                            {"open": closes, "high": closes, "low": closes, "close": closes,
                             "volume": [0] * len(closes)}
                        ]
                    },
                }
            ],
            "error": None,
        }
    }  # fmt: skip


def daily_chart(symbol: str, closes: list[float], last_day: datetime) -> dict:
    """A daily chart body: one bar per day ending the day before ``last_day``, 14:30 UTC."""
    stamps = [
        int((last_day - timedelta(days=len(closes) - i)).replace(hour=14, minute=30).timestamp())
        for i in range(len(closes))
    ]
    return chart_body(
        symbol,
        stamps,
        closes,
        exchangeTimezoneName="America/New_York",
        regularMarketPrice=closes[-1],
        regularMarketTime=stamps[-1],
        chartPreviousClose=closes[0],
    )


#: Daily closes of the indices that end at the previous close serve_index_quotes quotes (a
#: previous close far from its history is refused as implausible).
INDEX_HISTORY = {"^GSPC": [6800.0, 6857.12], "^RUT": [2500.0, 2531.16]}


def serve_history(server: LocalServer, now: datetime) -> None:
    """Answer every benchmark's daily chart: the indices' INDEX_HISTORY, others 100 then 101."""
    for symbol in vars_in_order(load_universe().benchmarks):
        closes = INDEX_HISTORY.get(symbol, [100.0, 101.0])
        server.add(chart_path(symbol), Reply.json(daily_chart(symbol, closes, now)))


def config_for(server: LocalServer, tmp_path: Path) -> str:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[feeds.yahoo]\nbase_url = "{server.base_url}"\n'
        f'cookie_url = "{server.base_url}/cookie"\n'
        f'[feeds.nyfed]\nbase_url = "{server.base_url}"\n'
        # The rates' last resort too: a test never reaches FRED's public site.
        f'[feeds.fred]\ncsv_base_url = "{server.base_url}"\n'
    )
    return str(path)


def serve_index_quotes(server: LocalServer, stamp: int, *extra: dict) -> None:
    """Open a quote session and answer every batch with the two indices (and ``extra``)."""
    open_session(server)
    server.add(
        QUOTE_PATH,
        Reply.json(
            answer(
                item("^GSPC", 6870.40, time=stamp, prev_close=6857.12, quote_type="INDEX"),
                item("^RUT", 2521.48, time=stamp, prev_close=2531.16, quote_type="INDEX"),
                *extra,
            )
        ),
    )


def test_live_snapshot_shows_the_served_numbers(local_server: LocalServer, tmp_path: Path, capsys):
    now = SystemClock().now().astimezone(UTC)
    stamp = int(now.timestamp()) - 30
    serve_index_quotes(
        local_server,
        stamp,
        item("SPY", 685.0, time=stamp, prev_close=684.0, quote_type="ETF", forwardPE=22.8),
        item("IWM", 250.0, time=stamp, prev_close=251.0, quote_type="ETF", forwardPE=18.2),
    )
    # Daily history is asked for every benchmark; the indices' closes are the ones that matter.
    serve_history(local_server, now)
    local_server.add(EFFR_PATH, Reply.json(EFFR_BODY))
    config = config_for(local_server, tmp_path)
    assert main(["snapshot", "--config", config, "--format", "json"]) == 0
    snap = json.loads(capsys.readouterr().out)
    assert snap["source"] == "yahoo" and snap["demo"] is False
    assert snap["spread"]["large"]["last"] == 6870.40
    assert snap["spread"]["small"]["last"] == 2521.48
    assert round(snap["spread"]["large"]["change_pct"], 2) == 0.19
    assert snap["fed"]["target_range"] == [3.75, 4.0] and snap["fed"]["effr"] == 3.89
    feed = snap["feeds"][0]
    assert feed["name"] == "yahoo" and feed["state"] == "ok"
    # ceil(N/50) quote requests for the whole universe, one session, one EFFR request.
    assert local_server.count(CRUMB_PATH) == 1
    assert local_server.count(EFFR_PATH) == 1


async def test_the_live_feed_takes_no_forward_pe_from_the_funds_quotes(
    local_server: LocalServer, tmp_path: Path
):
    # Yahoo sends no forward P/E for ETFs; the valuation is built from the members' quotes.
    from capgap.feeds.live import YahooLiveFeed
    from capgap.settings.config import load_settings

    now = SystemClock().now()
    stamp = int(now.timestamp()) - 30
    serve_index_quotes(
        local_server,
        stamp,
        item("SPY", 685.0, time=stamp, prev_close=684.0, quote_type="ETF", forwardPE=22.8),
        item("IWM", 250.0, time=stamp, prev_close=251.0, quote_type="ETF", forwardPE=18.2),
    )
    local_server.add(EFFR_PATH, Reply.json(EFFR_BODY))
    settings = load_settings(Path(config_for(local_server, tmp_path)), environ={})
    feed = YahooLiveFeed(settings.feeds, SystemClock(), load_universe().benchmarks)
    try:
        quotes = await feed.quotes(["^GSPC", "^RUT", "SPY", "IWM"])
        assert quotes.height == 4
        reference = await feed.reference()
    finally:
        await feed.aclose()
    assert not hasattr(reference, "large_forward_pe")  # the valuation is the members' alone
    assert reference.target_range == (3.75, 4.0) and reference.label == "New York Fed"


def test_live_snapshot_with_everything_down_says_so(tmp_path: Path, capsys):
    path = tmp_path / "config.toml"
    path.write_text(
        '[feeds.yahoo]\nbase_url = "http://127.0.0.1:9"\ncookie_url = "http://127.0.0.1:9/c"\n'
        '[feeds.nyfed]\nbase_url = "http://127.0.0.1:9"\n'
        '[feeds.fred]\ncsv_base_url = "http://127.0.0.1:9"\n'
    )
    assert main(["snapshot", "--config", str(path), "--format", "json"]) == 1
    snap = json.loads(capsys.readouterr().out)
    feed = snap["feeds"][0]
    assert feed["state"] == "down" and "connection failed" in feed["error"]
    assert snap["spread"]["large"]["last"] is None


async def test_an_outage_costs_one_request_per_poll(local_server: LocalServer, tmp_path: Path):
    from capgap.core.clock import ManualClock
    from capgap.engine.sources import live_engine
    from capgap.settings.config import load_settings

    # A captive portal: every path answers an HTML page with status 200.
    for symbol in vars_in_order(load_universe().benchmarks):
        local_server.add(chart_path(symbol), Reply.html(200))
    settings = load_settings(Path(config_for(local_server, tmp_path)), environ={})
    clock = ManualClock(MIDDAY)
    engine = live_engine(settings, clock=clock)
    try:
        for poll in range(1, 4):
            snapshot = await engine.refresh()
            assert snapshot.feeds[0].state in ("degraded", "down")
            assert "HTML" in (snapshot.feeds[0].error or "")
            assert local_server.total == poll  # one request, then the poll gives up
            clock.advance(engine.next_delay_s)
    finally:
        await engine.aclose()
