"""`capgap check --contract` against the local server: full replies hold, a moved field exits 1."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from capgap.cli.main import main
from capgap.core.schemas import QUOTE_DETAILS
from capgap.feeds.providers.yahoo import chart_path, parse_chart
from capgap.feeds.providers.yahoo_contract import (
    chart_fields,
    check_charts,
    check_quotes,
    quote_fields,
)
from capgap.feeds.providers.yahoo_quote import DETAIL_FIELDS, QUOTE_PATH, parse_quotes
from server import LocalServer, Reply, local_server
from test_live_engine import config_for
from test_yahoo_quote import PARSED_AT, T0, open_session

__all__ = ["local_server"]

DAY = 86_400


def full_quote(symbol: str) -> dict[str, Any]:
    """A v7 quote entry carrying, under Yahoo's names, every field capgap reads (and others)."""
    return {
        "language": "en-US",
        "quoteType": "EQUITY",
        "symbol": symbol,
        "regularMarketPrice": 228.5,
        "regularMarketTime": T0,
        "regularMarketPreviousClose": 227.1,
        "regularMarketVolume": 51_000_000,
        "regularMarketDayHigh": 229.9,
        "regularMarketDayLow": 226.0,
        "fiftyDayAverage": 220.4,
        "twoHundredDayAverage": 210.7,
        "fiftyTwoWeekHigh": 260.1,
        "fiftyTwoWeekLow": 164.1,
        "marketCap": 3.4e12,
        "epsForward": 8.31,
        "epsTrailingTwelveMonths": 6.3,
        "preMarketPrice": 228.0,
        "preMarketTime": T0 - 30_000,
        "postMarketPrice": 228.9,
        "postMarketTime": T0 + 600,
        "marketState": "POST",
    }


def full_chart(symbol: str) -> dict[str, Any]:
    """A daily chart (three bars) with every meta field and array capgap reads."""
    stamps = [T0 - 2 * DAY, T0 - DAY, T0]
    return {
        "chart": {
            "result": [
                {
                    "meta": {
                        "symbol": symbol,
                        "exchangeTimezoneName": "America/New_York",
                        "regularMarketPrice": 600.0,
                        "regularMarketTime": T0,
                        "previousClose": 598.0,
                        "chartPreviousClose": 590.0,
                        "regularMarketVolume": 70_000_000,
                        "range": "5d",
                    },
                    "timestamp": stamps,
                    "indicators": {
                        "quote": [
                            {
                                "open": [595.0, 597.0, 599.0],
                                "high": [599.0, 601.0, 603.0],
                                "low": [594.0, 596.0, 598.0],
                                "close": [597.0, 598.0, 600.0],
                                "volume": [1, 2, 3],
                            }
                        ]
                    },
                }
            ],
            "error": None,
        }
    }


def futures_quote(symbol: str) -> dict[str, Any]:
    """A ZQ contract as the quote endpoint sends it: the row's fields, no company details."""
    return {
        "symbol": symbol,
        "quoteType": "FUTURE",
        "regularMarketPrice": 96.37,
        "regularMarketTime": T0,
        "regularMarketPreviousClose": 96.36,
    }


def quote_body(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"quoteResponse": {"result": items, "error": None}}


QUOTED = ["^GSPC", "^RUT", "SPY", "IWM", "AAPL"]
STRIP = ["ZQZ25.CBT", "ZQF26.CBT", "ZQ=F"]


def serve(
    server: LocalServer,
    *,
    quotes: list[dict[str, Any]] | None = None,
    futures: list[dict[str, Any]] | None = None,
    chart_of: dict[str, dict[str, Any]] | None = None,
) -> None:
    open_session(server)
    # The quote batch first, then the futures strip: the same endpoint, in that order.
    server.add(
        QUOTE_PATH,
        Reply.json(quote_body(quotes or [full_quote(s) for s in QUOTED])),
        Reply.json(quote_body(futures or [futures_quote(s) for s in STRIP])),
    )
    charts = chart_of or {}
    for symbol in ("^GSPC", "SPY"):
        server.add(chart_path(symbol), Reply.json(charts.get(symbol, full_chart(symbol))))


def run_contract(server: LocalServer, tmp_path: Path, capsys) -> tuple[int, list[str]]:
    code = main(["check", "--contract", "--config", config_for(server, tmp_path)])
    return code, capsys.readouterr().out.splitlines()


def test_full_replies_hold(local_server: LocalServer, tmp_path: Path, capsys):
    serve(local_server)
    code, lines = run_contract(local_server, tmp_path, capsys)
    assert code == 0, lines
    assert lines[0].startswith("quote: ok, all ") and lines[0].endswith(" fields present")
    assert lines[1] == "chart: ok, all 11 fields present"
    assert lines[2] == "futures: ok, all 4 fields present"
    assert lines[-1].startswith("contract holds")
    asked = [
        parse_qs(seen.query)["symbols"][0].split(",")
        for seen in local_server.seen
        if seen.path == QUOTE_PATH
    ]
    assert asked[0] == QUOTED
    # The futures batch asks the ZQ strip the Fed panel polls.
    assert asked[1] and all(symbol.startswith("ZQ") for symbol in asked[1])
    daily = [seen for seen in local_server.seen if seen.path.startswith("/v8/finance/chart/")]
    assert len(daily) == 2
    assert all(parse_qs(seen.query)["interval"] == ["1d"] for seen in daily)


def test_a_renamed_quote_field_exits_1_naming_it(local_server: LocalServer, tmp_path, capsys):
    quotes = [full_quote(symbol) for symbol in QUOTED]
    for entry in quotes:
        entry["regularMarketTimestamp"] = entry.pop("regularMarketTime")
    serve(local_server, quotes=quotes)
    code, lines = run_contract(local_server, tmp_path, capsys)
    assert code == 1
    assert "quote: quoteResponse.result.regularMarketTime vanished" in lines
    assert lines[-1] == "contract broken: 1 field moved or vanished"


def test_a_chart_field_that_moved_is_named_with_where_it_went(
    local_server: LocalServer, tmp_path, capsys
):
    charts = {}
    for symbol in ("^GSPC", "SPY"):
        charts[symbol] = full_chart(symbol)
        meta = charts[symbol]["chart"]["result"][0]["meta"]
        meta["price"] = {"regularMarketPrice": meta.pop("regularMarketPrice")}
    serve(local_server, chart_of=charts)
    code, lines = run_contract(local_server, tmp_path, capsys)
    assert code == 1
    assert (
        "chart: chart.result[0].meta.regularMarketPrice moved to"
        " chart.result[0].meta.price.regularMarketPrice"
    ) in lines


def test_a_field_missing_from_one_reply_says_how_many(local_server: LocalServer, tmp_path, capsys):
    moved = full_chart("SPY")
    del moved["chart"]["result"][0]["meta"]["regularMarketTime"]
    serve(local_server, chart_of={"SPY": moved})
    code, lines = run_contract(local_server, tmp_path, capsys)
    assert code == 1
    assert "chart: chart.result[0].meta.regularMarketTime missing from 1 of 2 replies" in lines


def test_a_futures_field_that_vanished_is_named(local_server: LocalServer, tmp_path, capsys):
    strip = [futures_quote(symbol) for symbol in STRIP]
    for entry in strip:
        del entry["regularMarketPreviousClose"]
    serve(local_server, futures=strip)
    code, lines = run_contract(local_server, tmp_path, capsys)
    assert code == 1
    assert "futures: quoteResponse.result.regularMarketPreviousClose vanished" in lines
    assert lines[0].startswith("quote: ok")


def test_an_endpoint_that_fails_is_not_checked_and_exits_1(local_server, tmp_path, capsys):
    serve(local_server)
    local_server.replace(chart_path("SPY"), Reply.html(200))
    code, lines = run_contract(local_server, tmp_path, capsys)
    assert code == 1
    assert lines[1].startswith("chart: not checked: Yahoo chart: ")
    assert lines[-1] == "contract broken: 1 endpoint not checked"


def test_bad_flags_exit_2(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["check", "--contract", "--nightly"])
    assert stopped.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


# --- the contract is the parser's: derived from its constants, not a second list ------------


def test_the_detail_fields_cover_every_detail_column():
    assert set(DETAIL_FIELDS) == set(QUOTE_DETAILS)


def test_every_quote_field_of_the_contract_is_one_the_parser_needs():
    # Second method: the parser itself, on the full entry, gives every column; without a
    # field the contract names, it gives less (a refused row or a null detail).
    full = full_quote("AAPL")
    whole = parse_quotes(quote_body([full]), ["AAPL"], now=PARSED_AT).quotes
    assert whole.height == 1 and all(whole[column][0] is not None for column in QUOTE_DETAILS)
    for field in quote_fields("post"):
        (name,) = field.names
        if name in ("quoteType", "regularMarketVolume", "symbol"):
            continue
        lacking = {key: value for key, value in full.items() if key != name}
        parsed = parse_quotes(quote_body([lacking]), ["AAPL"], now=PARSED_AT).quotes
        assert parsed.height == 0 or any(parsed[column][0] is None for column in QUOTE_DETAILS), (
            name
        )
        assert check_quotes("quote", quote_body([lacking]), [field]), name


def test_the_extended_session_details_are_checked_in_their_session_only():
    names = {name: {n for f in quote_fields(name) for n in f.names} for name in ("pre", "post")}
    assert {"preMarketPrice", "preMarketTime"} <= names["pre"]
    assert not {"postMarketPrice", "postMarketTime"} & names["pre"]
    assert {"postMarketPrice", "postMarketTime"} <= names["post"]
    open_names = {n for f in quote_fields("open") for n in f.names}
    assert not {"preMarketPrice", "postMarketPrice"} & open_names


def test_every_chart_field_of_the_contract_is_one_the_parser_reads():
    full = full_chart("SPY")
    assert check_charts([full], chart_fields()) == []
    assert parse_chart(full, "SPY", now=PARSED_AT).bars.height == 3
    for field in chart_fields():
        lacking = copy.deepcopy(full)
        result = lacking["chart"]["result"][0]
        holder = {
            "chart.result[0].meta": result["meta"],
            "chart.result[0]": result,
            "chart.result[0].indicators.quote[0]": result["indicators"]["quote"][0],
        }[field.where]
        for name in field.names:
            holder.pop(name)
        assert check_charts([lacking], [field]), field.label
