"""Requests and bytes per live poll for the default universe, against a local Yahoo + NY Fed.

A server on 127.0.0.1 speaks Yahoo's cookie, getcrumb, v7 quote and v8 chart formats and the
New York Fed's EFFR format, with bodies of realistic size: a quote result for every symbol asked
(60-80 keys for stocks and funds, as Yahoo sends them), and charts with one bar per minute of
the session so far (or per session of the year). The real ``live_engine`` polls it on a manual
clock: one cold-start poll, then N steady polls 5 s apart (the open-market cadence). The Yahoo
client's request budget (a token bucket) is kept, with its waits moving the manual clock, so
the bench also shows how long each poll waits for tokens.

Bytes are response bodies as served (identity encoding); the gzip column is what the same
bodies compress to (httpx asks for gzip and Yahoo varies on Accept-Encoding). Headers each
way are printed apart.

The reference, measured in the same run: a chart-only client asks one v8 chart per symbol per
poll. Its bytes are those of a stratified sample of charts from the same server, scaled to the
universe.

Then the whole universe in each session state (pre-market, open, after hours, closed): the
live engine polls at the default ``[poll]`` cadence of the state for a simulated span, the
members in their rolling refresh (capgap.feeds.rotation); the Yahoo requests a minute are
measured, with the time one sweep over every member took, against the budget of 60 a minute.
The reference of each state, measured in the same run: quoting the whole universe on every
poll, as capgap did before the rolling refresh (one call of the same quote client).

Then the members' daily history (capgap.feeds.member_history) in each session state: from a
cold start with an empty cache, the clock moves a second at a time between polls and the
history takes the tokens the polls leave; the history's requests a minute, the total, the
worst minute and how long the first fill of every member took are measured (``--fill`` runs
each state until the fill is complete; without it the fill time is the members over the
measured rate). The members' history requests are counted apart ("history") everywhere else.

Run: /work/venv/bin/python bench/poll_budget.py [--polls 20] [--sample 12] [--minutes 10]
     [--history-minutes 10] [--fill] [--history-only]
Budget: Yahoo requests a minute <= 60 (YAHOO_REQUESTS_PER_S) in every session state.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import math
import os
import random
import statistics
import sys
import threading
import zlib
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from capgap.analytics.fed import futures_symbols
from capgap.core.clock import Clock, ManualClock
from capgap.core.market_types import NEW_YORK
from capgap.engine.loop import REFERENCE_EVERY
from capgap.engine.sources import live_engine
from capgap.feeds.http import budget_hook, make_client
from capgap.feeds.live import YAHOO_BURST, YAHOO_REQUESTS_PER_S, YahooLiveFeed
from capgap.feeds.poller import TokenBucket
from capgap.feeds.providers import yahoo as yahoo_module
from capgap.feeds.providers.nyfed import EFFR_PATH
from capgap.feeds.providers.yahoo import YahooChart
from capgap.feeds.providers.yahoo_quote import CRUMB_PATH, MAX_BATCH, QUOTE_PATH
from capgap.market.calendar import market_session, sessions_between, trading_day
from capgap.market.fomc import default_schedule
from capgap.market.universe import Universe, load_universe
from capgap.market.zq import default_naming
from capgap.settings.model import FeedsSettings, PollSettings, ProviderSettings, Settings

#: A regular full session (no holiday, no early close), mid-session: the intraday charts then
#: hold half a day of minute bars, the average over a trading day.
START = datetime(2025, 12, 9, 12, 45, tzinfo=NEW_YORK).astimezone(UTC)
STEADY_STEP_S = PollSettings().open_s  # the default cadence while open
COOKIE_PATH = "/cookie"
CHART_PREFIX = "/v8/finance/chart/"
CRUMB = "Qz5wLk7hPbe"
INTRADAY_CHARTS = 2

ENDPOINTS = (
    ("cookie", "cookie (fc.yahoo.com)"),
    ("crumb", "getcrumb"),
    ("quote", "v7 quote (batch)"),
    ("intraday", "v8 chart 1d/1m"),
    ("daily", "v8 chart 1y/1d"),
    ("contracts", "v8 chart 1y/1d, ZQ months"),
    ("effr", "NY Fed EFFR"),
)

# The response headers Yahoo's API front sends with a JSON body (names and typical values).
YAHOO_HEADERS = (
    ("Cache-Control", "public, max-age=1, stale-while-revalidate=9"),
    ("Vary", "Origin,Accept-Encoding"),
    ("Referrer-Policy", "no-referrer-when-downgrade"),
    ("Strict-Transport-Security", "max-age=31536000"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "SAMEORIGIN"),
    ("X-XSS-Protection", "1; mode=block"),
    ("X-Envoy-Upstream-Service-Time", "4"),
    ("Server", "ATS"),
    ("Age", "0"),
)
NYFED_HEADERS = (
    ("Cache-Control", "no-cache"),
    ("Server", "Apache"),
    ("X-Content-Type-Options", "nosniff"),
)


# --------------------------------------------------------------------------- market model


def kind_of(symbol: str, equities: frozenset[str]) -> str:
    """Return Yahoo's quoteType for a symbol of the default universe."""
    if symbol.startswith("^"):
        return "INDEX"
    if symbol.endswith(".CBT") or symbol.endswith("=F"):
        return "FUTURE"
    return "EQUITY" if symbol in equities else "ETF"


def _base_price(symbol: str, kind: str) -> float:
    fixed = {"^GSPC": 6850.0, "^RUT": 2520.0, "^VIX": 16.5, "^TNX": 4.12}
    if symbol in fixed:
        return fixed[symbol]
    rng = random.Random(f"base:{symbol}")
    if kind == "FUTURE":
        return rng.uniform(96.0, 96.6)
    return rng.uniform(20.0, 600.0)


def price_at(symbol: str, kind: str, epoch: int) -> float:
    """Return the served price of ``symbol`` at ``epoch`` (deterministic, two decimals)."""
    phase = random.Random(f"phase:{symbol}").uniform(0, 2 * math.pi)
    swing = 0.0005 if kind == "FUTURE" else 0.004
    return round(_base_price(symbol, kind) * (1 + swing * math.sin(epoch / 900 + phase)), 2)


def prev_close_of(symbol: str, kind: str) -> float:
    """Return the served previous close of ``symbol``."""
    offset = random.Random(f"prev:{symbol}").uniform(-0.012, 0.012)
    return round(_base_price(symbol, kind) * (1 + offset), 2)


def _f32(value: float) -> float:
    # Yahoo's quote fields are single precision, written with the shortest repr (8 digits).
    return float(f"{value:.8g}")


def _bar(value: float) -> float:
    # Chart arrays are single precision widened to double: 225.4199981689453, not 225.42.
    return float(np.float32(value))


# --------------------------------------------------------------------------- bodies


@dataclass(frozen=True)
class Day:
    """The session the clock is in, as epochs: pre-market, open, close, post-market end."""

    pre: int
    open: int
    close: int
    post: int


def day_of(now: datetime) -> Day:
    """Return the epochs of the session on the clock's New York day."""
    session = trading_day(now.astimezone(NEW_YORK).date())
    assert session is not None, "the bench clock must be on a trading day"
    open_, close = int(session.open.timestamp()), int(session.close.timestamp())
    return Day(open_ - 5 * 3600 - 1800, open_, close, close + 4 * 3600)


def quote_result(symbol: str, kind: str, now: int, name: str) -> dict[str, Any]:
    """One quoteResponse.result entry with the keys Yahoo sends for this quoteType."""
    rng = random.Random(f"quote:{symbol}")
    last = price_at(symbol, kind, now)
    prev = prev_close_of(symbol, kind)
    change = last - prev
    low, high = round(min(last, prev) * 0.994, 2), round(max(last, prev) * 1.006, 2)
    low52, high52 = round(last * rng.uniform(0.6, 0.9), 2), round(last * rng.uniform(1.02, 1.3), 2)
    exchange, full_exchange = {
        "INDEX": ("SNP", "SNP"),
        "FUTURE": ("CBT", "CBOT"),
        "ETF": ("PCX", "NYSEArca"),
        "EQUITY": ("NMS", "NasdaqGS"),
    }[kind]
    entry: dict[str, Any] = {
        "language": "en-US",
        "region": "US",
        "quoteType": kind,
        "typeDisp": {"ETF": "ETF"}.get(kind, kind.title()),
        "quoteSourceName": "Delayed Quote" if kind in ("INDEX", "FUTURE") else "Nasdaq Real Time",
        "triggerable": kind != "FUTURE",
        "customPriceAlertConfidence": "HIGH",
        "currency": "USD",
        "shortName": name[:32],
        "longName": name,
        "regularMarketChangePercent": _f32(change / prev * 100),
        "regularMarketPrice": last,
        "hasPrePostMarketData": kind in ("EQUITY", "ETF"),
        "priceHint": 2 if kind != "FUTURE" else 4,
        "regularMarketChange": _f32(change),
        "regularMarketDayHigh": high,
        "regularMarketDayRange": f"{low} - {high}",
        "regularMarketDayLow": low,
        "regularMarketVolume": 0 if kind == "INDEX" else rng.randint(10_000, 90_000_000),
        "regularMarketPreviousClose": prev,
        "bid": round(last - 0.01, 2),
        "ask": round(last + 0.01, 2),
        "bidSize": rng.randint(1, 40),
        "askSize": rng.randint(1, 40),
        "fullExchangeName": full_exchange,
        "regularMarketOpen": round(prev * (1 + rng.uniform(-0.004, 0.004)), 2),
        "fiftyTwoWeekLowChange": _f32(last - low52),
        "fiftyTwoWeekRange": f"{low52} - {high52}",
        "fiftyTwoWeekHighChange": _f32(last - high52),
        "fiftyTwoWeekLow": low52,
        "fiftyTwoWeekHigh": high52,
        "sourceInterval": 15,
        "exchangeDataDelayedBy": 10 if kind == "FUTURE" else 0,
        "tradeable": False,
        "cryptoTradeable": False,
        "regularMarketTime": now - rng.randint(0, 3),
        "marketState": "REGULAR",
        "exchange": exchange,
        "messageBoardId": f"finmb_{rng.randint(10_000, 99_999_999)}",
        "exchangeTimezoneName": "America/New_York",
        "exchangeTimezoneShortName": "EST",
        "gmtOffSetMilliseconds": -18000000,
        "market": "us_market" if kind != "FUTURE" else "us24_market",
        "esgPopulated": False,
        "symbol": symbol,
    }
    if kind == "FUTURE":
        expiry = now + rng.randint(20, 400) * 86400
        entry |= {
            "openInterest": rng.randint(1_000, 400_000),
            "contractSymbol": False,
            "headSymbolAsString": "ZQ=F",
            "underlyingSymbol": "ZQ=F" if symbol != "ZQ=F" else "ZQF26.CBT",
            "expireDate": expiry,
            "expireIsoDate": datetime.fromtimestamp(expiry, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "firstTradeDateMilliseconds": 1_000 * (expiry - 3 * 365 * 86400),
            "fiftyDayAverage": _f32(last * 0.999),
            "fiftyDayAverageChange": _f32(last * 0.001),
            "fiftyDayAverageChangePercent": _f32(0.001),
            "twoHundredDayAverage": _f32(last * 0.997),
            "twoHundredDayAverageChange": _f32(last * 0.003),
            "twoHundredDayAverageChangePercent": _f32(0.003),
            "averageDailyVolume3Month": rng.randint(1_000, 200_000),
            "averageDailyVolume10Day": rng.randint(1_000, 200_000),
        }
    if kind in ("EQUITY", "ETF"):
        shares = rng.randint(50_000_000, 15_000_000_000)
        entry |= {
            "firstTradeDateMilliseconds": rng.randint(300_000_000, 1_500_000_000) * 1000,
            "postMarketChangePercent": _f32(rng.uniform(-0.3, 0.3)),
            "postMarketPrice": round(last * (1 + rng.uniform(-0.003, 0.003)), 2),
            "postMarketChange": _f32(rng.uniform(-0.5, 0.5)),
            "postMarketTime": now - 70_000,
            "financialCurrency": "USD",
            "averageDailyVolume3Month": rng.randint(100_000, 90_000_000),
            "averageDailyVolume10Day": rng.randint(100_000, 90_000_000),
            "fiftyTwoWeekLowChangePercent": _f32((last - low52) / low52),
            "fiftyTwoWeekHighChangePercent": _f32((last - high52) / high52),
            "fiftyTwoWeekChangePercent": _f32(rng.uniform(-30, 60)),
            "trailingAnnualDividendRate": _f32(rng.uniform(0, 4)),
            "trailingPE": _f32(rng.uniform(8, 60)),
            "trailingAnnualDividendYield": _f32(rng.uniform(0, 0.04)),
            "dividendYield": _f32(rng.uniform(0, 4)),
            "epsTrailingTwelveMonths": _f32(rng.uniform(0.5, 20)),
            "sharesOutstanding": shares,
            "bookValue": _f32(rng.uniform(2, 200)),
            "fiftyDayAverage": _f32(last * rng.uniform(0.95, 1.05)),
            "fiftyDayAverageChange": _f32(rng.uniform(-5, 5)),
            "fiftyDayAverageChangePercent": _f32(rng.uniform(-0.05, 0.05)),
            "twoHundredDayAverage": _f32(last * rng.uniform(0.85, 1.1)),
            "twoHundredDayAverageChange": _f32(rng.uniform(-20, 20)),
            "twoHundredDayAverageChangePercent": _f32(rng.uniform(-0.1, 0.1)),
            "marketCap": int(shares * last),
            "priceToBook": _f32(rng.uniform(1, 50)),
            "corporateActions": [],
        }
    if kind == "EQUITY":
        entry |= {
            "dividendDate": now - rng.randint(1, 90) * 86400,
            "earningsTimestamp": now - rng.randint(1, 90) * 86400,
            "earningsTimestampStart": now + rng.randint(30, 120) * 86400,
            "earningsTimestampEnd": now + rng.randint(30, 120) * 86400,
            "earningsCallTimestampStart": now - rng.randint(1, 90) * 86400,
            "earningsCallTimestampEnd": now - rng.randint(1, 90) * 86400,
            "isEarningsDateEstimate": True,
            "dividendRate": _f32(rng.uniform(0, 4)),
            "epsForward": _f32(rng.uniform(0.5, 25)),
            "epsCurrentYear": _f32(rng.uniform(0.5, 22)),
            "priceEpsCurrentYear": _f32(rng.uniform(8, 60)),
            "forwardPE": _f32(rng.uniform(8, 45)),
            "averageAnalystRating": "2.1 - Buy",
            "displayName": name.split()[0],
        }
    if kind == "ETF":
        entry |= {
            "ytdReturn": _f32(rng.uniform(-10, 25)),
            "trailingThreeMonthReturns": _f32(rng.uniform(-8, 12)),
            "trailingThreeMonthNavReturns": _f32(rng.uniform(-8, 12)),
            "netAssets": rng.randint(100_000_000, 600_000_000_000),
            "netExpenseRatio": round(rng.uniform(0.03, 0.6), 2),
            "forwardPE": _f32(rng.uniform(14, 26)),
        }
    return entry


def _period(start: int, end: int) -> dict[str, Any]:
    return {"timezone": "EST", "start": start, "end": end, "gmtoffset": -18000}


def chart_body(symbol: str, kind: str, name: str, now: int, span: str, interval: str) -> Any:
    """A v8 chart body: today's minute bars (1d/1m) or a year of sessions (1y/1d)."""
    day = day_of(datetime.fromtimestamp(now, UTC))
    last = price_at(symbol, kind, now)
    prev = prev_close_of(symbol, kind)
    if interval == "1m":
        stamps = list(range(day.open, min(now, day.close) // 60 * 60 + 1, 60))
    else:
        today = datetime.fromtimestamp(now, UTC).astimezone(NEW_YORK).date()
        sessions = sessions_between(date(today.year - 1, today.month, today.day), today)
        stamps = [int(session.open.timestamp()) for session in sessions]
    closes = [price_at(symbol, kind, stamp + 59) for stamp in stamps]
    rng = np.random.default_rng(zlib.crc32(f"{symbol}:{span}".encode()))
    opens = [close * (1 + rng.normal(0, 0.0004)) for close in closes]
    pairs = list(zip(opens, closes, strict=True))
    highs = [max(o, c) * (1 + abs(rng.normal(0, 0.0003))) for o, c in pairs]
    lows = [min(o, c) * (1 - abs(rng.normal(0, 0.0003))) for o, c in pairs]
    volume_scale = 3e7 if interval == "1d" else 1e5
    volumes = [int(v) for v in rng.uniform(0.2, 1.8, len(stamps)) * volume_scale]
    meta: dict[str, Any] = {
        "currency": "USD",
        "symbol": symbol,
        "exchangeName": "SNP" if kind == "INDEX" else "NMS",
        "fullExchangeName": "SNP" if kind == "INDEX" else "NasdaqGS",
        "instrumentType": kind,
        "firstTradeDate": -1325583000 if kind == "INDEX" else 345479400,
        "regularMarketTime": now,
        "hasPrePostMarketData": kind in ("EQUITY", "ETF"),
        "gmtoffset": -18000,
        "timezone": "EST",
        "exchangeTimezoneName": "America/New_York",
        "regularMarketPrice": last,
        "fiftyTwoWeekHigh": round(last * 1.12, 2),
        "fiftyTwoWeekLow": round(last * 0.78, 2),
        "regularMarketDayHigh": round(max(last, prev) * 1.006, 2),
        "regularMarketDayLow": round(min(last, prev) * 0.994, 2),
        "regularMarketVolume": int(sum(volumes)) if interval == "1m" else 0,
        "longName": name,
        "shortName": name[:32],
        "chartPreviousClose": prev if interval == "1m" else round(closes[0] * 0.99, 2),
        "priceHint": 2,
        "currentTradingPeriod": {
            "pre": _period(day.pre, day.open),
            "regular": _period(day.open, day.close),
            "post": _period(day.close, day.post),
        },
        "dataGranularity": interval,
        "range": span,
        "validRanges": ["1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max"],
    }
    if interval == "1m":
        meta |= {
            "previousClose": prev,
            "scale": 3,
            "tradingPeriods": [[_period(day.open, day.close)]],
        }
    quote = {
        "open": [_bar(v) for v in opens],
        "high": [_bar(v) for v in highs],
        "low": [_bar(v) for v in lows],
        "close": [_bar(v) for v in closes],
        "volume": volumes,
    }
    indicators: dict[str, Any] = {"quote": [quote]}
    if interval == "1d":
        indicators["adjclose"] = [{"adjclose": quote["close"]}]
    result = {"meta": meta, "timestamp": stamps, "indicators": indicators}
    return {"chart": {"result": [result], "error": None}}


def effr_body(now: datetime) -> Any:
    """The NY Fed's latest EFFR, with the fields its API sends."""
    day = (now.astimezone(NEW_YORK) - timedelta(days=1)).date().isoformat()
    return {
        "refRates": [
            {
                "effectiveDate": day,
                "type": "EFFR",
                "percentRate": 3.89,
                "percentPercentile1": 3.86,
                "percentPercentile25": 3.87,
                "percentPercentile75": 3.9,
                "percentPercentile99": 3.95,
                "volumeInBillions": 102,
                "targetRateFrom": 3.75,
                "targetRateTo": 4.0,
                "revisionIndicator": "",
            }
        ]
    }


# --------------------------------------------------------------------------- the server


@dataclass(frozen=True)
class Served:
    """One exchange as the server saw it: endpoint, status and bytes each way."""

    endpoint: str
    status: int
    body: int
    head: int
    body_gzip: int
    request: int


class Provider:
    """The local Yahoo + NY Fed: builds every reply from the clock and logs what it sent."""

    def __init__(self, clock: Clock, universe: Universe) -> None:
        self.clock = clock
        names = universe.constituents.select("symbol", "name").iter_rows()
        self.names: dict[str, str] = {str(symbol): str(name) for symbol, name in names}
        self.equities = frozenset(self.names)
        self.members = frozenset(universe.member_symbols())
        self.asked_quotes: set[str] = set()
        #: The last price served per symbol by the quote endpoint.
        self.last_price: dict[str, float] = {}
        self._log: list[Served] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def kind(self, symbol: str) -> str:
        """Return the quoteType the server gives ``symbol``."""
        return kind_of(symbol, self.equities)

    def name(self, symbol: str) -> str:
        """Return the long name the server gives ``symbol``."""
        return self.names.get(symbol, f"{symbol} {self.kind(symbol).title()}")

    def take(self) -> list[Served]:
        """Return and forget everything served since the last call."""
        with self._lock:
            taken, self._log = self._log, []
        return taken

    def __enter__(self) -> Provider:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def reply(self, path: str, query: dict[str, list[str]], cookie: str) -> tuple[Any, ...]:
        """Return (endpoint, status, content type, body, extra headers) for one request."""
        now = int(self.clock.now().timestamp())
        has_session = "A3=" in cookie
        if path == COOKIE_PATH:
            # fc.yahoo.com answers 404 and sets the session cookie anyway.
            value = "d=AQABBKvcsWcCEIGLkyl67hr2YX7XekV46j4FEgABCAErs2fZZ_bPb2UB9qMAAAcIq9yxZ63aZoI"
            set_cookie = f"A3={value}&S=AQAAAtFJa; Max-Age=31557600; Path=/; SameSite=None"
            body = b"<html><body>Not Found</body></html>"
            return "cookie", 404, "text/html", body, (("Set-Cookie", set_cookie),)
        if path == CRUMB_PATH:
            if not has_session:
                return "crumb", 401, "text/plain", b"Unauthorized", ()
            return "crumb", 200, "text/plain;charset=utf-8", CRUMB.encode(), YAHOO_HEADERS
        if path == QUOTE_PATH:
            if not has_session or query.get("crumb") != [CRUMB]:
                error = {"finance": {"result": None, "error": {"code": "Unauthorized"}}}
                return "quote", 401, "application/json", _json(error), YAHOO_HEADERS
            symbols = query.get("symbols", [""])[0].split(",")
            with self._lock:
                self.asked_quotes.update(symbols)
            results = [quote_result(s, self.kind(s), now, self.name(s)) for s in symbols if s]
            with self._lock:
                self.last_price.update((r["symbol"], r["regularMarketPrice"]) for r in results)
            payload = {"quoteResponse": {"result": results, "error": None}}
            return "quote", 200, "application/json;charset=utf-8", _json(payload), YAHOO_HEADERS
        if path.startswith(CHART_PREFIX):
            symbol = unquote(path.removeprefix(CHART_PREFIX))
            span = query.get("range", ["1d"])[0]
            interval = query.get("interval", ["1m"])[0]
            endpoint = "intraday" if interval == "1m" else "daily"
            if interval == "1d" and symbol in self.members:
                endpoint = "history"  # a member's daily closes: the background fetch
            elif interval == "1d" and default_naming().month_of(symbol) is not None:
                endpoint = "contracts"  # a ZQ month's closes: once a day, a few a poll
            payload = chart_body(symbol, self.kind(symbol), self.name(symbol), now, span, interval)
            return endpoint, 200, "application/json;charset=utf-8", _json(payload), YAHOO_HEADERS
        if path == EFFR_PATH:
            payload = effr_body(self.clock.now())
            return "effr", 200, "application/json", _json(payload), NYFED_HEADERS
        return "other", 404, "text/plain", b"Not Found", ()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                request_bytes = len(self.requestline) + 2 + len(str(self.headers))
                endpoint, status, content_type, body, extra = provider.reply(
                    parts.path, parse_qs(parts.query), self.headers.get("Cookie", "")
                )
                lines = [
                    f"HTTP/1.1 {status} {self.responses[status][0]}",
                    f"Date: {self.date_time_string()}",
                    f"Content-Type: {content_type}",
                    f"Content-Length: {len(body)}",
                    *(f"{name}: {value}" for name, value in extra),
                ]
                head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
                self.wfile.write(head + body)
                self.wfile.flush()
                served = Served(
                    endpoint, status, len(body), len(head), len(gzip.compress(body)), request_bytes
                )
                with provider._lock:
                    provider._log.append(served)

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler


def _json(payload: Any) -> bytes:
    # Yahoo writes compact JSON: no spaces after separators.
    return json.dumps(payload, separators=(",", ":")).encode()


# --------------------------------------------------------------------------- measuring


@dataclass
class Poll:
    """What one engine refresh cost on the wire, and how long it waited for request tokens."""

    served: list[Served]
    throttled_s: float = 0.0

    def count(self, endpoint: str) -> int:
        """Requests to ``endpoint``."""
        return sum(1 for s in self.served if s.endpoint == endpoint)

    def body(self, endpoint: str | None = None) -> int:
        """Response body bytes (of ``endpoint``, or all)."""
        return sum(s.body for s in self.served if endpoint in (None, s.endpoint))

    def gzip(self, endpoint: str | None = None) -> int:
        """Response body bytes had they been gzipped (httpx asks for gzip)."""
        return sum(s.body_gzip for s in self.served if endpoint in (None, s.endpoint))

    @property
    def head(self) -> int:
        """Response header bytes."""
        return sum(s.head for s in self.served)

    @property
    def request(self) -> int:
        """Request line and header bytes sent by the client."""
        return sum(s.request for s in self.served)


def budgeted_engine(provider: Provider, clock: ManualClock) -> Any:
    """Return the live engine on ``clock`` against the local ``provider``, its budget simulated."""
    base = provider.base_url
    settings = Settings(
        feeds=FeedsSettings(
            yahoo=ProviderSettings(base, base + COOKIE_PATH), nyfed=ProviderSettings(base)
        )
    )
    engine = live_engine(settings, clock=clock)
    simulated_budget(engine, clock)
    return engine


def simulated_budget(engine: Any, clock: ManualClock) -> None:
    """Give the engine's Yahoo client the same token bucket, waiting in clock time.

    The live feed's bucket sleeps in wall time while refilling from the clock: on a manual
    clock that never moves, a request short of tokens would wait forever. Here the wait moves
    the clock instead, so a poll that runs out of tokens costs clock seconds, as it would live.
    """

    async def sleep(seconds: float) -> None:
        target = clock.monotonic() + seconds
        # Requests that start waiting together wait together, not one after another.
        await asyncio.sleep(0)
        if target > clock.monotonic():
            clock.advance(target - clock.monotonic())

    bucket = TokenBucket(YAHOO_BURST, YAHOO_REQUESTS_PER_S, clock)
    # Private by design (the feed owns its clients); this bench is the one place to reach in.
    history = engine.feed.member_history
    engine.feed._yahoo_client.event_hooks = {
        "request": [budget_hook(bucket, sleep), history.log.hook]
    }
    # The members' history reads the same bucket it spends (its reserve is the polls').
    history._bucket = bucket


async def run(polls: int, sample: int) -> tuple[Poll, list[Poll], list[Served], list[str], Any]:
    """Poll the local provider with the live engine; then fetch the reference sample."""
    clock = ManualClock(START)
    universe = load_universe()
    symbols = universe.symbols() + futures_symbols(START, default_schedule(), default_naming())
    with Provider(clock, universe) as provider:
        engine = budgeted_engine(provider, clock)
        history: list[Poll] = []
        try:
            for index in range(polls + 1):
                if index:
                    # The engine sleeps its cadence (5 s while open) from the end of each poll.
                    assert engine.next_delay_s == STEADY_STEP_S, engine.next_delay_s
                    clock.advance(STEADY_STEP_S)
                before = clock.monotonic()
                try:
                    snapshot = await asyncio.wait_for(engine.refresh(), timeout=60)
                except TimeoutError:
                    raise SystemExit(f"poll {index} did not finish within 60 s") from None
                history.append(Poll(provider.take(), clock.monotonic() - before))
                _check(snapshot, engine, provider)
        finally:
            await engine.aclose()
        asked = sorted(provider.asked_quotes)
        if asked != sorted(symbols):
            raise SystemExit(f"quotes asked ({len(asked)}) != universe ({len(symbols)})")
        # The reference: a chart-only client, one 1d/1m chart per symbol; a stratified sample.
        picks = [symbols[round(i * (len(symbols) - 1) / (sample - 1))] for i in range(sample)]
        async with make_client(yahoo_module.CLIENT_SETTINGS, trust_env=False) as client:
            chart = YahooChart(client, provider.base_url, clock=clock)
            for symbol in picks:
                frame = await chart.quote(symbol)
                served = price_at(symbol, provider.kind(symbol), int(clock.now().timestamp()))
                assert frame.height == 1 and frame.item(0, "last") == served, symbol
        reference = provider.take()
    return history[0], history[1:], reference, symbols, picks


#: The session states measured: a clock in each on the bench's trading day, and its span.
STATES = (
    ("pre-market", datetime(2025, 12, 9, 7, 0, tzinfo=NEW_YORK), 1.0),
    ("open", datetime(2025, 12, 9, 11, 0, tzinfo=NEW_YORK), 1.0),
    ("after hours", datetime(2025, 12, 9, 16, 30, tzinfo=NEW_YORK), 1.0),
    ("closed (overnight)", datetime(2025, 12, 9, 20, 30, tzinfo=NEW_YORK), 6.0),
)


@dataclass
class StateFigures:
    """One session state's measurement: cadence, requests a minute, sweep, reference."""

    label: str
    cadence_s: float
    minutes: float
    per_minute: float
    worst_minute: int
    sweep_s: float | None
    naive_per_minute: float


async def measure_state(label: str, start: datetime, minutes: float) -> StateFigures:
    """Poll the whole universe in one session state for ``minutes`` simulated minutes."""
    from capgap.feeds.providers.yahoo_quote import YahooQuotes

    start = start.astimezone(UTC)
    clock = ManualClock(start)
    universe = load_universe()
    members = set(universe.member_symbols())
    with Provider(clock, universe) as provider:
        engine = budgeted_engine(provider, clock)
        times: list[tuple[float, int]] = []
        seen: set[str] = set()
        sweep_s: float | None = None
        cadence = 0.0
        try:
            await engine.refresh()  # the cold start: session, daily histories
            provider.take()
            with provider._lock:
                provider.asked_quotes.clear()
            first = clock.now()
            while (clock.now() - first).total_seconds() < minutes * 60:
                cadence = engine.next_delay_s
                clock.advance(cadence)
                await engine.refresh()
                at = (clock.now() - first).total_seconds()
                # The members' history is measured apart (measure_history).
                yahoo = [s for s in provider.take() if s.endpoint not in ("effr", "history")]
                times.append((at, len(yahoo)))
                with provider._lock:
                    seen |= provider.asked_quotes
                if sweep_s is None and members <= seen:
                    sweep_s = at
            # The reference: the whole universe on every poll, through the same quote client.
            async with make_client(yahoo_module.CLIENT_SETTINGS, trust_env=False) as client:
                quotes = YahooQuotes(
                    client,
                    provider.base_url,
                    cookie_url=provider.base_url + COOKIE_PATH,
                    clock=clock,
                )
                symbols = universe.symbols() + futures_symbols(
                    clock.now(), default_schedule(), default_naming()
                )
                await quotes.fetch(symbols)
                naive = sum(1 for s in provider.take() if s.endpoint == "quote")
        finally:
            await engine.aclose()
    span_min = times[-1][0] / 60 if times else 1.0
    total = sum(count for _, count in times)
    worst = max((sum(c for when, c in times if at <= when < at + 60) for at, _ in times), default=0)
    return StateFigures(
        label, cadence, span_min, total / span_min, worst, sweep_s, naive * 60 / cadence
    )


def print_states(figures: list[StateFigures]) -> bool:
    """Print the per-state table and the verdict; return True when every state is in budget."""
    budget = YAHOO_REQUESTS_PER_S * 60
    print(f"whole universe, by session state (budget {budget:g} Yahoo requests a minute):")
    print(
        f"{'state':20}{'cadence':>9}{'req/min':>9}{'worst min':>11}{'sweep':>9}"
        f"{'naive req/min':>15}{'ratio':>8}"
    )
    ok = True
    for f in figures:
        sweep = f"{f.sweep_s:.0f} s" if f.sweep_s is not None else "-"
        ok &= f.worst_minute <= budget
        print(
            f"{f.label:20}{f.cadence_s:8g}s{f.per_minute:9.1f}{f.worst_minute:11d}{sweep:>9}"
            f"{f.naive_per_minute:15.0f}{f.naive_per_minute / f.per_minute:7.1f}x"
        )
    print(
        f"{'PASS' if ok else 'FAIL'}: every simulated minute within {budget:g} requests "
        "(quotes, charts; the cold start's histories excluded)"
    )
    return ok


@dataclass
class HistoryFigures:
    """The members' history in one session state: its rate, the total's, and the first fill."""

    label: str
    cadence_s: float
    members: int
    history_per_minute: float
    total_per_minute: float
    worst_minute: int
    fill_s: float | None
    polls_waited_s: float


async def _history_settles(fetcher: Any, clock: ManualClock) -> None:
    """Let the history's task run until it waits for tokens (or has nothing left to fetch)."""
    for _ in range(100_000):
        # It has looked at the budget at this very second of the clock.
        if not fetcher.running or fetcher.waiting_since == clock.monotonic():
            return
        await asyncio.sleep(HISTORY_NAP_S / 2)
    raise SystemExit("the members' history never settled")


#: The history task's nap in this bench (real seconds; see _history_settles).
HISTORY_NAP_S = 0.0005


async def measure_history(
    label: str, start: datetime, minutes: float, fill: bool
) -> HistoryFigures:
    """Fetch the members' history from a cold start in one session state (see the docstring)."""
    from capgap.feeds import member_history

    # The clock moves a second at a time here: the task need not nap a real second.
    member_history.MAX_NAP_S = HISTORY_NAP_S
    start = start.astimezone(UTC)
    clock = ManualClock(start)
    universe = load_universe()
    with Provider(clock, universe) as provider:
        engine = budgeted_engine(provider, clock)
        feed = engine.feed
        assert isinstance(feed, YahooLiveFeed)
        fetcher = feed.member_history
        times: list[tuple[float, int, int]] = []
        fill_s: float | None = None
        waited = 0.0
        cadence = 0.0
        try:
            await engine.refresh()  # the cold start: session, daily histories
            await engine.refresh()  # the history starts after the first snapshot
            await _history_settles(fetcher, clock)
            provider.take()
            first = clock.now()
            symbols = list(provider.members)
            while True:
                at = (clock.now() - first).total_seconds()
                if fill_s is not None or (at >= minutes * 60 and not fill):
                    break
                cadence = engine.next_delay_s
                for _ in range(math.ceil(cadence)):
                    clock.advance(min(1.0, cadence))
                    await _history_settles(fetcher, clock)
                    # Each second's requests at their own second (the worst minute is exact).
                    step = [s for s in provider.take() if s.endpoint != "effr"]
                    second = (clock.now() - first).total_seconds()
                    count = sum(1 for s in step if s.endpoint == "history")
                    times.append((second, count, len(step)))
                before = clock.monotonic()
                await engine.refresh()
                waited = max(waited, clock.monotonic() - before)
                await _history_settles(fetcher, clock)
                at = (clock.now() - first).total_seconds()
                served = [s for s in provider.take() if s.endpoint != "effr"]
                history = sum(1 for s in served if s.endpoint == "history")
                times.append((at, history, len(served)))
                if fetcher.settled(symbols) == len(symbols):
                    fill_s = at
        finally:
            await engine.aclose()
    span_min = times[-1][0] / 60 if times else 1.0
    history_rate = sum(h for _, h, _ in times) / span_min
    total_rate = sum(t for _, _, t in times) / span_min
    worst = max((sum(t for w, _, t in times if at <= w < at + 60) for at, _, _ in times), default=0)
    if fill_s is None and history_rate > 0:
        fill_s = len(provider.members) / history_rate * 60
    return HistoryFigures(
        label, cadence, len(provider.members), history_rate, total_rate, worst, fill_s, waited
    )


def print_history(figures: list[HistoryFigures], fill: bool) -> bool:
    """Print the history's table and the verdict; True when every state kept the bucket."""
    budget = YAHOO_REQUESTS_PER_S * 60
    print(
        f"members' history from a cold start, by session state ({figures[0].members} members; "
        f"{'measured' if fill else 'extrapolated'} first fill):"
    )
    print(
        f"{'state':20}{'cadence':>9}{'history/min':>13}{'total/min':>11}{'worst min':>11}"
        f"{'first fill':>12}{'poll waited':>13}"
    )
    ok = True
    for f in figures:
        fill_text = f"{f.fill_s / 60:.0f} min" if f.fill_s is not None else "-"
        # The bucket allows its burst on top of a minute's refill; the polls never wait.
        ok &= f.worst_minute <= budget + YAHOO_BURST and f.polls_waited_s == 0
        print(
            f"{f.label:20}{f.cadence_s:8g}s{f.history_per_minute:13.1f}{f.total_per_minute:11.1f}"
            f"{f.worst_minute:11d}{fill_text:>12}{f.polls_waited_s:12.1f}s"
        )
    print(
        f"{'PASS' if ok else 'FAIL'}: no poll waited for a token, every simulated minute within "
        f"the bucket ({budget:g} a minute, burst {YAHOO_BURST})"
    )
    return ok


def _check(snapshot: Any, engine: Any, provider: Provider) -> None:
    """Fail loudly unless the poll worked: a failed poll makes fewer requests, not better ones."""
    status = snapshot.feeds[0]
    if status.state != "ok":
        raise SystemExit(f"poll failed: {status.error}")
    if engine.feed.problems:
        raise SystemExit(f"symbol problems: {engine.feed.problems}")
    large = snapshot.spread.large
    assert large.last == provider.last_price[large.symbol], "the served price did not arrive"
    assert snapshot.fed.target_range == (3.75, 4.0), "the NY Fed range did not arrive"


# --------------------------------------------------------------------------- report


def _kb(n: float) -> str:
    return f"{n / 1024:9.1f}"


def main(argv: list[str] | None = None) -> int:
    """Measure, print the table, the budget verdict and the ratios to the naive client."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--polls", type=int, default=20, help="steady polls (default 20)")
    parser.add_argument("--sample", type=int, default=12, help="reference charts (default 12)")
    parser.add_argument(
        "--minutes", type=float, default=10, help="simulated minutes per state (default 10)"
    )
    parser.add_argument(
        "--history-minutes",
        type=float,
        default=10,
        help="simulated minutes of the members' history per state (default 10)",
    )
    parser.add_argument(
        "--fill", action="store_true", help="run each state until the history's first fill"
    )
    parser.add_argument(
        "--history-only", action="store_true", help="measure the members' history alone"
    )
    args = parser.parse_args(argv)
    # Loopback only: a proxy from the environment must not see these requests.
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

    if args.history_only:
        return 0 if history_table(args) else 1
    first, steady, reference, symbols, picks = asyncio.run(run(args.polls, max(2, args.sample)))
    n = len(symbols)
    kinds = Counter(kind_of(s, frozenset()) for s in symbols)

    print(
        f"poll budget: {n} symbols (default universe + ZQ strip: {kinds['INDEX']} indices, "
        f"{kinds['FUTURE']} futures, {n - kinds['INDEX'] - kinds['FUTURE']} stocks and funds), "
        f"clock {START.astimezone(NEW_YORK):%Y-%m-%d %H:%M} New York "
        f"({market_session(START).state}), {len(steady)} steady polls {STEADY_STEP_S:g} s apart"
    )
    print()
    header = f"{'endpoint':24}{'first poll':>22}{'steady poll (mean)':>32}"
    print(header)
    print(f"{'':24}{'req':>6}{'body KB':>9}{'gzip KB':>9}  {'req':>6}{'body KB':>9}{'gzip KB':>9}")
    mean = statistics.fmean
    for key, label in ENDPOINTS:
        print(
            f"{label:24}{first.count(key):6d}{_kb(first.body(key))}{_kb(first.gzip(key))}  "
            f"{mean(p.count(key) for p in steady):6.1f}"
            f"{_kb(mean(p.body(key) for p in steady))}{_kb(mean(p.gzip(key) for p in steady))}"
        )
    total_first = len(first.served)
    total_steady = mean(len(p.served) - p.count("history") for p in steady)
    body_steady = mean(p.body() for p in steady)
    print(
        f"{'total':24}{total_first:6d}{_kb(first.body())}{_kb(first.gzip())}  "
        f"{total_steady:6.1f}{_kb(body_steady)}{_kb(mean(p.gzip() for p in steady))}"
    )
    print(
        f"{'+ response headers':24}{'':6}{_kb(first.head)}{'':9}  {'':6}"
        f"{_kb(mean(p.head for p in steady))}"
    )
    print(
        f"{'+ request lines+headers':24}{'':6}{_kb(first.request)}{'':9}  {'':6}"
        f"{_kb(mean(p.request for p in steady))}   (upload)"
    )
    waits = [p.throttled_s for p in steady]
    settled = mean(waits[-5:])
    period = STEADY_STEP_S + settled
    yahoo_steady = total_steady - mean(p.count("effr") for p in steady)
    print(
        f"steady download: {body_steady / STEADY_STEP_S / 1024:.1f} KB/s of bodies at one poll "
        f"per {STEADY_STEP_S:g} s ({body_steady / period / 1024:.1f} KB/s at the throttled "
        f"period below); the EFFR adds 1 request every "
        f"{REFERENCE_EVERY.total_seconds() / 60:g} min, daily history "
        f"{first.count('daily')} charts once a day"
    )
    print(
        f"request budget of the Yahoo client (burst {YAHOO_BURST}, {YAHOO_REQUESTS_PER_S:g}/s): "
        f"first poll waited {first.throttled_s:.1f} s for tokens; steady polls waited "
        f"{min(waits):.1f}..{max(waits):.1f} s (last 5: {settled:.1f} s each)"
    )
    print(
        f"  so a poll starts every {period:.1f} s, not {STEADY_STEP_S:g} s: "
        f"{yahoo_steady:.0f} Yahoo requests per poll at {STEADY_STEP_S:g} s would be "
        f"{yahoo_steady * 60 / STEADY_STEP_S:.0f}/min against a budget of "
        f"{YAHOO_REQUESTS_PER_S * 60:.0f}/min"
    )
    print()

    quote_budget = math.ceil(n / MAX_BATCH)
    quote_max = max(p.count("quote") for p in steady)
    chart_max = max(p.count("intraday") for p in steady)
    contracts = [p.count("contracts") for p in steady]
    others = sum(
        len(p.served)
        - p.count("quote")
        - p.count("intraday")
        - p.count("history")
        - p.count("contracts")
        for p in steady
    )
    # The ZQ months' daily closes come once a day after the first figures, in the headroom
    # left for one-off requests: HEADROOM x 60 a minute, so one a poll at 10 s.
    contracts_ok = max(contracts, default=0) <= max(1, math.floor(0.1 * 60 * STEADY_STEP_S / 60))
    ok = quote_max <= quote_budget and chart_max <= INTRADAY_CHARTS and others == 0
    ok = ok and contracts_ok
    print(
        f"{'PASS' if ok else 'MISS'}: steady polls made at most {quote_max} quote requests "
        f"(budget ceil({n}/{MAX_BATCH}) = {quote_budget}) + {chart_max} intraday charts "
        f"(budget {INTRADAY_CHARTS}); other requests in steady polls: {others}; the ZQ months' "
        f"daily closes (once a day): {sum(contracts)} over {sum(1 for c in contracts if c)} "
        f"polls, at most {max(contracts, default=0)} a poll"
    )

    chart_mean = mean(s.body for s in reference)
    chart_gzip = mean(s.body_gzip for s in reference)
    naive_bytes = chart_mean * n
    print(
        f"reference (chart-only client, one 1d/1m chart per symbol per poll): {n} requests, "
        f"{_kb(naive_bytes).strip()} KB bodies ({_kb(chart_gzip * n).strip()} KB gzip) per poll"
    )
    print(
        f"  from {len(reference)} charts of the same server ({', '.join(picks)}): "
        f"mean {chart_mean / 1024:.1f} KB per chart"
    )
    print(
        f"ratio naive/capgap per steady poll: requests {n / total_steady:.1f}x, "
        f"body bytes {naive_bytes / body_steady:.1f}x, "
        f"gzip bytes {chart_gzip * n / mean(p.gzip() for p in steady):.1f}x"
    )
    print()
    figures = [
        asyncio.run(measure_state(label, start, args.minutes * scale))
        for label, start, scale in STATES
    ]
    ok = print_states(figures) and ok
    print()
    ok = history_table(args) and ok
    return 0 if ok else 1


def history_table(args: argparse.Namespace) -> bool:
    """Measure the members' history in each session state and print its table."""
    figures = [
        asyncio.run(measure_history(label, start, args.history_minutes * scale, args.fill))
        for label, start, scale in STATES
    ]
    return print_history(figures, args.fill)


if __name__ == "__main__":
    raise SystemExit(main())
