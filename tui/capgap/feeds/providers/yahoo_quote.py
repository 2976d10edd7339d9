"""Yahoo Finance's v7 quote endpoint: up to 50 symbols per request, behind a cookie + crumb."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import polars as pl

from capgap.core.clock import Clock
from capgap.core.schemas import QUOTE_DETAILS, QUOTES, empty
from capgap.feeds.base import FeedError, SymbolError
from capgap.feeds.http import HttpProvider, RawReply, decode_json, endpoint_label, fetch
from capgap.feeds.providers.yahoo import DEFAULT_BASE_URL, PROVIDER
from capgap.feeds.session_store import SessionStore, restore
from capgap.feeds.unknown import UnknownSymbols
from capgap.feeds.values import (
    MAX_PRICE,
    clock_now,
    epoch,
    latest_epoch,
    number,
    quote_row,
    quote_time,
    valid_price,
)
from capgap.settings.model import YAHOO_COOKIE_URL

QUOTE_PATH = "/v7/finance/quote"
CRUMB_PATH = "/v1/test/getcrumb"
DEFAULT_COOKIE_URL = YAHOO_COOKIE_URL
#: Larger batches are answered with HTTP 429 by Yahoo.
MAX_BATCH = 50

# Statuses that say the cookie or crumb went bad; the session is renewed once on them.
_REFUSED = (401, 403)
# A crumb is a short token (11 characters in every capture); anything long is a page.
_MAX_CRUMB_CHARS = 64
_CRUMB_FORBIDDEN = frozenset('<>"{}')
# Yahoo sends 0 for "unknown" where a volume makes no sense.
_NO_VOLUME_TYPES = frozenset({"INDEX", "CURRENCY"})
# Each request's failures name its endpoint: "Yahoo crumb: HTTP 500".
_CRUMB = endpoint_label(PROVIDER, "crumb")
_QUOTE = endpoint_label(PROVIDER, "quote")
#: No company is worth this much (the largest are a few trillion dollars): beyond it, a wrong
#: number.
MAX_MARKET_CAP = 1e14
# The fields capgap reads from a quote (`capgap check --contract` checks they are still sent).
#: The fields of a QUOTES row, read from every quote: a quote without one is refused.
SYMBOL_FIELD = "symbol"
PRICE_FIELD = "regularMarketPrice"
TIME_FIELD = "regularMarketTime"
PREVIOUS_CLOSE_FIELD = "regularMarketPreviousClose"
ROW_FIELDS = (SYMBOL_FIELD, PRICE_FIELD, TIME_FIELD, PREVIOUS_CLOSE_FIELD)
#: The volume, and the type that says whether a volume of 0 means "unknown".
VOLUME_FIELD = "regularMarketVolume"
TYPE_FIELD = "quoteType"
MARKET_CAP_FIELD = "marketCap"
# Yahoo's field behind each detail column, by the check it gets.
_PRICE_FIELDS = {
    "avg_50d": "fiftyDayAverage",
    "avg_200d": "twoHundredDayAverage",
    "high_52w": "fiftyTwoWeekHigh",
    "low_52w": "fiftyTwoWeekLow",
    "day_high": "regularMarketDayHigh",
    "day_low": "regularMarketDayLow",
    "pre_price": "preMarketPrice",
    "post_price": "postMarketPrice",
}
_EPS_FIELDS = {"eps_forward": "epsForward", "eps_trailing": "epsTrailingTwelveMonths"}
_TIME_FIELDS = {"pre_time": "preMarketTime", "post_time": "postMarketTime"}
#: Yahoo's field behind each QUOTE_DETAILS column.
DETAIL_FIELDS: Mapping[str, str] = {
    **_PRICE_FIELDS,
    "market_cap": MARKET_CAP_FIELD,
    **_EPS_FIELDS,
    **_TIME_FIELDS,
}
#: The details Yahoo sends only around an extended session, by that session (pre, post).
SESSION_DETAILS: Mapping[str, tuple[str, ...]] = {
    "pre": ("pre_price", "pre_time"),
    "post": ("post_price", "post_time"),
}


@dataclass(frozen=True, slots=True)
class QuoteBatch:
    """What one quote response (or one call over many batches) gave.

    ``quotes`` holds the symbols that worked (QUOTES, with the details Yahoo sent), ``problems``
    one message per symbol that did not work, ``omitted`` the symbols asked that the reply left
    out, ``unknown`` those counted as unknown (see UnknownSymbols), and ``empty`` whether the
    reply's result list was empty.
    """

    quotes: pl.DataFrame
    problems: Mapping[str, str] = field(default_factory=dict)
    unknown: frozenset[str] = frozenset()
    omitted: frozenset[str] = frozenset()
    empty: bool = False


def parse_crumb(raw: RawReply) -> str:
    """Return the crumb of a getcrumb reply (text/plain), or raise FeedError saying why not."""
    text = raw.body.decode("utf-8", errors="replace")
    if "html" in raw.content_type.lower() or text.lstrip().startswith("<"):
        raise FeedError(
            f"{PROVIDER} sent a web page instead of a crumb (a consent or challenge page?)"
        )
    if not text:
        raise FeedError(f"{PROVIDER} sent an empty crumb")
    usable = len(text) <= _MAX_CRUMB_CHARS and all(
        32 < ord(char) < 127 and char not in _CRUMB_FORBIDDEN for char in text
    )
    if not usable:
        # The crumb is a session token: describe it, never echo it.
        raise FeedError(f"{PROVIDER} sent an unusable crumb ({len(text)} characters)")
    return text


def parse_quotes(payload: Any, symbols: Sequence[str], *, now: datetime) -> QuoteBatch:
    """Parse a v7 quote body for the ``symbols`` asked (matched case-insensitively) at ``now``.

    Rows come in the order asked, under the spelling asked; a symbol the reply leaves out is
    ``omitted`` (whether that makes it unknown is the caller's count). Raises FeedError when
    the body is not a quote response or carries Yahoo's error object. A quote timed more than
    MAX_AHEAD after ``now`` is a problem, not a row. The details (QUOTE_DETAILS) come along;
    a missing or absurd one is null, and the price still counts (see quote_details).
    """
    results = _quote_results(payload)
    by_symbol: dict[str, Mapping[str, Any]] = {}
    for item in results:
        name = item.get(SYMBOL_FIELD) if isinstance(item, dict) else None
        if isinstance(name, str) and name.upper() not in by_symbol:
            by_symbol[name.upper()] = item
    rows: list[dict[str, Any]] = []
    problems: dict[str, str] = {}
    omitted: set[str] = set()
    for symbol in dict.fromkeys(symbols):
        item = by_symbol.get(symbol.upper())
        if item is None:
            omitted.add(symbol)
            problems[symbol] = f"{PROVIDER} sent no quote for {symbol}"
            continue
        try:
            rows.append(_row(item, symbol, now) | quote_details(item, now))
        except SymbolError as exc:
            problems[symbol] = str(exc)
    quotes = pl.DataFrame(rows, schema=QUOTES) if rows else empty(QUOTES)
    return QuoteBatch(quotes, problems, omitted=frozenset(omitted), empty=not results)


def quote_details(item: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """Return a quote's details (QUOTE_DETAILS) as Yahoo sent them; a bad one is None.

    Prices, averages and ranges must be finite, positive and below MAX_PRICE, the market cap
    below MAX_MARKET_CAP; EPS finite and below MAX_PRICE either way (losses are negative). A
    time is epoch seconds no later than MAX_AHEAD after ``now``. Each detail stands alone: one
    bad field nulls itself.
    """
    details: dict[str, Any] = {
        column: _positive(item.get(name), MAX_PRICE) for column, name in _PRICE_FIELDS.items()
    }
    details["market_cap"] = _positive(item.get(MARKET_CAP_FIELD), MAX_MARKET_CAP)
    for column, name in _EPS_FIELDS.items():
        eps = number(item.get(name))
        # No share earns (or loses) more than the dearest share costs: beyond that an EPS is
        # an overflow, and would make a leg's P/E read 0.0x.
        details[column] = eps if eps is not None and abs(eps) < MAX_PRICE else None
    for column, name in _TIME_FIELDS.items():
        moment = epoch(item.get(name))
        if moment is not None and moment <= latest_epoch(now):
            details[column] = datetime.fromtimestamp(moment, UTC)
        else:
            details[column] = None
    return {column: details[column] for column in QUOTE_DETAILS}


def _positive(value: Any, ceiling: float) -> float | None:
    """Return a finite number in (0, ``ceiling``), else None."""
    figure = number(value)
    if figure is None or not math.isfinite(figure) or not 0 < figure < ceiling:
        return None
    return figure


class YahooSession:
    """A Yahoo cookie (kept in the client's jar) and the crumb that goes with it.

    The crumb is fetched once and reused until ``refresh`` is called after a 401 or 403.
    With a ``store`` the session outlives the run: a stored one under a day old is used
    instead of opening one (unless ``reuse_stored`` is False: `capgap check` tries the cookie
    endpoint itself), and every session opened (a refusal's too) replaces it.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str | None = None,
        *,
        cookie_url: str | None = None,
        clock: Clock | None = None,
        store: SessionStore | None = None,
        reuse_stored: bool = True,
    ) -> None:
        """Use ``client`` (whose jar keeps the cookie) against ``base_url`` and ``cookie_url``."""
        self._client = client
        self._base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self._cookie_url = cookie_url or DEFAULT_COOKIE_URL
        self._clock = clock
        self._store = store
        self._reuse_stored = reuse_stored
        self._crumb: str | None = None
        #: Whether opening the session went through Yahoo's European consent flow.
        self.consent_given = False
        #: Why the session could not be stored (None when it was, or there is no store).
        self.store_problem: str | None = None
        # Concurrent callers that all saw a bad crumb renew the session once, not once each.
        self._lock = asyncio.Lock()

    async def crumb(self) -> str:
        """Return the current crumb: the run's, else a stored one, else a new session's."""
        async with self._lock:
            if self._crumb is None:
                self._crumb = await asyncio.to_thread(self._stored) or await self._renew()
            return self._crumb

    async def refresh(self, stale: str) -> str:
        """Renew the session because ``stale`` was refused; return the new crumb.

        If another caller already renewed it, its crumb is returned without a new request.
        """
        async with self._lock:
            if self._crumb is None or self._crumb == stale:
                self._crumb = None
                self._crumb = await self._renew()
            return self._crumb

    def _stored(self) -> str | None:
        """Return the stored session's crumb with its cookies put in the jar, if one is usable."""
        if self._store is None or not self._reuse_stored:
            return None
        stored = self._store.load(clock_now(self._clock))
        if stored is None:
            return None
        restore(stored, self._client.cookies)
        return stored.crumb

    async def _renew(self) -> str:
        """Open a new session and store it (replacing the stored one, which may be refused)."""
        if self._store is not None:
            # The jar may hold a refused stored cookie: the new session starts without it.
            self._client.cookies.clear()
        crumb = await self._open()
        if self._store is not None:
            self.store_problem = await asyncio.to_thread(
                self._store.save, crumb, self._client.cookies, clock_now(self._clock)
            )
        return crumb

    async def _open(self) -> str:
        # The cookie endpoint answers 404 (fc.yahoo.com) or a redirect and sets the cookie
        # anyway; in the EU it redirects into the consent flow, completed here.
        # Loaded here: a run on a stored session (the tmux line) needs no cookie, nor the
        # consent flow's HTML parser.
        from capgap.feeds.providers.yahoo_consent import carry_cookies, request_cookie

        crumb_url = self._base_url + CRUMB_PATH
        outcome = await request_cookie(self._client, self._cookie_url, clock=self._clock)
        carry_cookies(self._client, outcome.cookies, crumb_url)
        self.consent_given = outcome.consent_given
        raw = await fetch(
            self._client,
            _CRUMB,
            crumb_url,
            accept=(200, *_REFUSED),
            clock=self._clock,
        )
        if raw.status != 200:
            raise FeedError(f"{PROVIDER} refused a crumb (HTTP {raw.status}): no session cookie?")
        return parse_crumb(raw)


class YahooQuotes(HttpProvider):
    """Quotes from ``{base}/v7/finance/quote?symbols=...&crumb=...``, one request per batch."""

    name = "yahoo"
    default_base_url = DEFAULT_BASE_URL

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str | None = None,
        *,
        cookie_url: str | None = None,
        clock: Clock | None = None,
        batch_size: int = MAX_BATCH,
        session: YahooSession | None = None,
        protected: Iterable[str] = (),
        store: SessionStore | None = None,
    ) -> None:
        """Use ``client`` (shared, owned by the caller); batches of ``batch_size`` (1..50).

        ``protected`` symbols (the benchmarks) are asked every time, never counted unknown.
        ``store`` keeps the session between runs (see YahooSession).
        """
        super().__init__(client, base_url, clock=clock)
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be within 1..{MAX_BATCH}, got {batch_size}")
        self._batch_size = batch_size
        self._session = session or YahooSession(
            client, self._base_url, cookie_url=cookie_url, clock=clock, store=store
        )
        self._unknown = UnknownSymbols(protected)

    @property
    def store_problem(self) -> str | None:
        """Why the session opened last could not be stored (None when it was, or no store)."""
        return self._session.store_problem

    @property
    def unknown_symbols(self) -> frozenset[str]:
        """Symbols Yahoo keeps leaving out of its answers, not asked for a while (see fetch)."""
        return self._unknown.symbols(clock_now(self._clock))

    async def quotes(self, symbols: Sequence[str]) -> tuple[pl.DataFrame, dict[str, str]]:
        """Return the quotes that worked (QUOTES) and ``{symbol: problem}`` for the others."""
        batch = await self.fetch(symbols)
        return batch.quotes, dict(batch.problems)

    async def fetch(self, symbols: Sequence[str]) -> QuoteBatch:
        """Quote ``symbols`` in batches, one after the other; their details come along.

        Duplicates (in any letter case) are asked once. A symbol left out of
        OMISSIONS_BEFORE_UNKNOWN replies in a row counts as unknown: it is listed as a
        problem without being asked, until that lapses (UNKNOWN_FOR, or a new New York
        date); the benchmarks and indices are asked every time. A failure of the whole
        provider (rate limit, a refused session, HTML, a 5xx, an error object, an empty
        reply for symbols Yahoo has quoted today) raises FeedError at once and starts no
        further batch: batches run in sequence because Yahoo throttles bursts.
        """
        now = clock_now(self._clock)
        problems: dict[str, str] = {}
        wanted: list[str] = []
        seen: set[str] = set()
        for symbol in symbols:
            key = symbol.upper()
            if key in seen:
                continue
            seen.add(key)
            if not symbol or symbol != symbol.strip() or "," in symbol or " " in symbol:
                problems[symbol] = f"{PROVIDER}: {symbol!r} is not a symbol"
            elif self._unknown.is_unknown(symbol, now):
                problems[symbol] = f"{PROVIDER} does not know {symbol}"
            else:
                wanted.append(symbol)
        frames: list[pl.DataFrame] = []
        for start in range(0, len(wanted), self._batch_size):
            chunk = wanted[start : start + self._batch_size]
            parsed = parse_quotes(await self._request(chunk), chunk, now=now)
            if parsed.empty and any(self._unknown.vouched(symbol, now) for symbol in chunk):
                # Yahoo answers an unknown symbol with an empty result, but never a batch
                # holding a benchmark or a symbol it quoted today: that is the provider failing.
                raise FeedError(
                    f"{PROVIDER} sent an empty quote reply for {len(chunk)} symbol"
                    + ("" if len(chunk) == 1 else "s")
                )
            if parsed.quotes.height:
                frames.append(parsed.quotes)
            problems.update(parsed.problems)
            for symbol in chunk:
                if symbol not in parsed.omitted:
                    self._unknown.answered(symbol, now)
                elif self._unknown.omitted(symbol, now):
                    problems[symbol] = f"{PROVIDER} does not know {symbol}"
        quotes = pl.concat(frames) if frames else empty(QUOTES)
        # Problems in the order the symbols were asked, whatever step found them.
        ordered = {symbol: problems[symbol] for symbol in symbols if symbol in problems}
        unknown = frozenset(symbol for symbol in ordered if self._unknown.is_unknown(symbol, now))
        return QuoteBatch(quotes, ordered, unknown)

    async def reply(self, symbols: Sequence[str]) -> Any:
        """Return the reply to one batch of ``symbols`` as Yahoo sent it, decoded, unparsed."""
        if not 1 <= len(symbols) <= self._batch_size:
            raise ValueError(f"one batch holds 1..{self._batch_size} symbols, got {len(symbols)}")
        return await self._request(symbols)

    async def _request(self, chunk: Sequence[str]) -> Any:
        crumb = await self._session.crumb()
        raw = await self._get(chunk, crumb)
        if raw.status in _REFUSED:
            crumb = await self._session.refresh(crumb)
            raw = await self._get(chunk, crumb)
            if raw.status in _REFUSED:
                raise FeedError(f"{PROVIDER} refused the session (HTTP {raw.status})")
        return decode_json(_QUOTE, raw)

    async def _get(self, chunk: Sequence[str], crumb: str) -> RawReply:
        return await fetch(
            self._client,
            _QUOTE,
            self._base_url + QUOTE_PATH,
            params={"symbols": ",".join(chunk), "crumb": crumb},
            accept=(200, *_REFUSED),
            clock=self._clock,
        )


def _quote_results(payload: Any) -> list[Any]:
    if not isinstance(payload, dict):
        raise FeedError(f"{PROVIDER} sent something other than a quote response")
    # Errors come as {"finance": {"error": ...}} or inside quoteResponse itself.
    for key in ("quoteResponse", "finance"):
        section = payload.get(key)
        error = section.get("error") if isinstance(section, dict) else None
        if error is not None:
            raise FeedError(f"{PROVIDER} quote error: {_error_text(error)}")
    response = payload.get("quoteResponse")
    results = response.get("result") if isinstance(response, dict) else None
    if not isinstance(results, list):
        raise FeedError(f"{PROVIDER} sent something other than a quote response")
    return results


def _error_text(error: Any) -> str:
    if isinstance(error, dict):
        detail = error.get("description") or error.get("code")
        if detail:
            return str(detail)
    return str(error)


def _row(item: Mapping[str, Any], symbol: str, now: datetime) -> dict[str, Any]:
    raw_price = item.get(PRICE_FIELD)
    if raw_price is None:
        raise SymbolError(symbol, f"{PROVIDER} has no price for {symbol}")
    last = valid_price(raw_price, "last price", symbol, PROVIDER)
    moment = quote_time(item.get(TIME_FIELD), now, symbol, PROVIDER)
    raw_close = item.get(PREVIOUS_CLOSE_FIELD)
    if raw_close is None:
        raise SymbolError(symbol, f"{PROVIDER} sent no previous close for {symbol}")
    prev_close = valid_price(raw_close, "previous close", symbol, PROVIDER)
    return quote_row(symbol, moment, last, prev_close, _volume(item, symbol), PROVIDER)


def _volume(item: Mapping[str, Any], symbol: str) -> float | None:
    volume = number(item.get(VOLUME_FIELD))
    if volume is None or not math.isfinite(volume) or volume < 0:
        return None
    kind = item.get(TYPE_FIELD)
    # Without a type, Yahoo's "^" prefix still marks an index.
    no_volume = kind.upper() in _NO_VOLUME_TYPES if isinstance(kind, str) else symbol[:1] == "^"
    return None if volume == 0 and no_volume else volume
