"""Live Fed inputs over HTTP: ZQ contracts probed on Yahoo, the EFFR from the New York Fed."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from capgap.analytics.fed import FedInputs, fed_snapshot, futures_symbols
from capgap.analytics.store import MarketStore
from capgap.cli.main import main
from capgap.core.clock import ManualClock, SystemClock
from capgap.core.snapshot import FedSnapshot
from capgap.feeds.live_fed import fetch_live_fed
from capgap.feeds.providers.yahoo import chart_path
from capgap.market.fomc import default_schedule
from capgap.market.zq import default_naming
from capgap.settings.model import FRED_BASE_URL, FeedsSettings, ProviderSettings
from server import LocalServer, Reply, local_server
from test_fred_csv import serve_fred_csv

__all__ = ["local_server"]

NOW = datetime(2025, 12, 5, 16, 0, tzinfo=UTC)
EFFR_PATH = "/api/rates/unsecured/effr/last/1.json"
EFFR_BODY = {
    "refRates": [
        {
            "effectiveDate": "2025-12-04",
            "type": "EFFR",
            "percentRate": 3.89,
            "targetRateFrom": 3.75,
            "targetRateTo": 4.0,
        }
    ]
}
NOT_FOUND = {"chart": {"result": None, "error": {"code": "Not Found", "description": "No data"}}}


def chart(symbol: str, price: float, at: datetime = NOW) -> dict[str, Any]:
    """A one-bar chart body in Yahoo's shape."""
    stamp = int(at.timestamp())
    return {
        "chart": {
            "result": [
                {
                    "meta": {
                        "symbol": symbol,
                        "instrumentType": "FUTURE",
                        "exchangeTimezoneName": "America/Chicago",
                        "regularMarketPrice": price,
                        "regularMarketTime": stamp,
                        "previousClose": price,
                        "chartPreviousClose": price,
                        "regularMarketVolume": 1000,
                    },
                    "timestamp": [stamp - 60],
                    "indicators": {
                        "quote": [
                            {
                                "open": [price],
                                "high": [price],
                                "low": [price],
                                "close": [price],
                                "volume": [10],
                            }
                        ]
                    },
                }
            ],
            "error": None,
        }
    }


def feeds_for(server: LocalServer) -> FeedsSettings:
    return FeedsSettings(
        yahoo=ProviderSettings(server.base_url),
        nyfed=ProviderSettings(server.base_url),
        fred=ProviderSettings(FRED_BASE_URL, csv_base_url=server.base_url),
    )


def priced(quotes: pl.DataFrame, inputs: FedInputs) -> FedSnapshot:
    """Run the quotes served through the Fed panel's analytics."""
    store = MarketStore()
    store.apply_quotes(quotes)
    return fed_snapshot(
        store, now=NOW, schedule=default_schedule(), naming=default_naming(), inputs=inputs
    )


# December 2025: N = 31, M = 9; an 87 % chance of a 25 bp cut from the EFFR of 3.89.
DEC_PRICE = 100 - (9 / 31 * 3.89 + 22 / 31 * (3.89 - 0.87 * 0.25))


async def test_single_months_and_the_effr(local_server: LocalServer):
    naming = default_naming()
    symbols = futures_symbols(NOW, default_schedule(), naming)
    for symbol in symbols:
        price = {"ZQX25.CBT": 96.11, "ZQZ25.CBT": DEC_PRICE}.get(symbol)
        local_server.add(
            chart_path(symbol),
            Reply.json(chart(symbol, price)) if price else Reply.json(NOT_FOUND, 404),
        )
    local_server.add(EFFR_PATH, Reply.json(EFFR_BODY))
    data = await fetch_live_fed(feeds_for(local_server), symbols, ManualClock(NOW))
    assert data.effr == 3.89 and data.target_range == (3.75, 4.0)
    assert data.rates_source == "New York Fed"
    assert sorted(data.quotes.get_column("symbol").to_list()) == ["ZQX25.CBT", "ZQZ25.CBT"]
    assert len(data.problems) == 1 and data.problems[0].startswith("Yahoo has no price for")
    # One request per contract and one for the EFFR: no retries.
    assert local_server.total == len(symbols) + 1
    fed = priced(data.quotes, FedInputs((3.75, 4.0), "New York Fed", 3.89, "Yahoo ZQ", {}))
    assert fed.futures_source == "Yahoo ZQ"
    assert fed.probabilities[0].cut_pct == pytest.approx(87.0, abs=0.01)


async def test_front_contract_only_and_a_broken_nyfed(local_server: LocalServer):
    naming = default_naming()
    symbols = futures_symbols(NOW, default_schedule(), naming)
    for symbol in symbols:
        if symbol == "ZQ=F":
            local_server.add(chart_path(symbol), Reply.json(chart(symbol, DEC_PRICE)))
        else:
            local_server.add(chart_path(symbol), Reply.json(NOT_FOUND, 404))
    local_server.add(EFFR_PATH, Reply.html(200))
    data = await fetch_live_fed(feeds_for(local_server), symbols, ManualClock(NOW))
    assert data.effr is None and data.target_range is None and data.rates_source is None
    # FRED's CSV was asked too (nothing served there: a 404); both failures are said.
    (rates_problem,) = [problem for problem in data.problems if "HTML" in problem]
    assert "FRED CSV HTTP 404" in rates_problem
    fed = priced(data.quotes, FedInputs(None, None, None, "Yahoo ZQ", {}))
    # ZQ=F stands for December; without the EFFR nothing anchors the December start.
    assert fed.futures_source == "Yahoo ZQ ZQ=F, front month only"
    assert [p.symbol for p in fed.futures] == ["ZQ=F"]
    assert fed.probabilities == () and fed.fedwatch_error is not None


async def test_with_the_new_york_fed_down_fred_csv_gives_the_rates(local_server: LocalServer):
    symbols = futures_symbols(NOW, default_schedule(), default_naming())
    for symbol in symbols:
        local_server.add(chart_path(symbol), Reply.json(chart(symbol, 96.25)))
    local_server.add(EFFR_PATH, Reply.json({}, status=500))
    serve_fred_csv(local_server, date(2025, 12, 5))
    data = await fetch_live_fed(feeds_for(local_server), symbols, ManualClock(NOW))
    assert data.effr == 3.64 and data.target_range == (3.5, 3.75)
    assert data.rates_source == "FRED CSV"
    assert data.problems == ("New York Fed HTTP 500; FRED CSV stands in",)


def test_capgap_fedwatch_live_end_to_end(local_server: LocalServer, tmp_path: Path, capsys):
    # The command reads the wall clock: serve every contract it will ask for, all at one
    # price, so every meeting is priced as a hold whatever today is.
    symbols = futures_symbols(SystemClock().now(), default_schedule(), default_naming())
    for symbol in symbols:
        local_server.add(chart_path(symbol), Reply.json(chart(symbol, 96.25)))
    local_server.add(EFFR_PATH, Reply.json(EFFR_BODY))
    config = tmp_path / "config.toml"
    config.write_text(
        f'[feeds.yahoo]\nbase_url = "{local_server.base_url}"\n'
        f'[feeds.nyfed]\nbase_url = "{local_server.base_url}"\n'
        f'[feeds.fred]\ncsv_base_url = "{local_server.base_url}"\n'
    )
    assert main(["fedwatch", "--config", str(config), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["futures_source"] == "Yahoo ZQ"
    first = out["meetings"][0]
    assert date.fromisoformat(first["date"]) >= SystemClock().now().date()
    assert first["hold_pct"] == pytest.approx(100.0)
    assert first["target_ranges"] == [{"target_range": [3.75, 4.0], "probability_pct": 100.0}]


def test_capgap_fedwatch_live_without_any_price_exits_1(local_server: LocalServer, tmp_path: Path):
    import subprocess
    import sys

    config = tmp_path / "config.toml"
    config.write_text(
        f'[feeds.yahoo]\nbase_url = "{local_server.base_url}"\n'
        f'[feeds.nyfed]\nbase_url = "{local_server.base_url}"\n'
        f'[feeds.fred]\ncsv_base_url = "{local_server.base_url}"\n'
    )  # nothing scripted: every request gets a plain 404
    result = subprocess.run(
        [sys.executable, "-m", "capgap", "fedwatch", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("capgap: data error: no Fed funds futures prices")
    assert all(line.startswith("capgap: ") for line in lines) and "Traceback" not in result.stderr
