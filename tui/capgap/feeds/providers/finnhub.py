"""Finnhub's keyed quote endpoint, one symbol per request, with ETF proxies for the indices."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import httpx
import polars as pl

from capgap.core.clock import Clock
from capgap.core.schemas import QUOTES, empty
from capgap.feeds.base import FeedError, RateLimited, SymbolError, UnknownSymbol
from capgap.feeds.fanout import fan_out
from capgap.feeds.http import ClientSettings, KeyedProvider, get_json, scrubbed
from capgap.feeds.unknown import UnknownSymbols
from capgap.feeds.values import (
    clock_now,
    epoch,
    number,
    quote_row,
    quote_time,
    valid_price,
)
from capgap.settings.model import FINNHUB_BASE_URL

PROVIDER = "Finnhub"
# The default endpoint is kept with the other settings, where the config can replace it.
DEFAULT_BASE_URL = FINNHUB_BASE_URL
QUOTE_PATH = "/api/v1/quote"
CLIENT_SETTINGS = ClientSettings(provider=PROVIDER)
MISSING_KEY = "Finnhub needs an API key ([feeds.finnhub] api_key or FINNHUB_API_KEY)"

#: Indices are not on Finnhub's free tier: each is quoted through an ETF that tracks it, and
#: the row comes back under the index symbol with the proxy named (the UI labels it a proxy).
#: The ETF's price is not the index level; its change in percent is what tracks the index.
INDEX_PROXIES: Mapping[str, str] = {
    "^GSPC": "SPY",  # S&P 500 -> SPDR S&P 500 ETF Trust
    "^RUT": "IWM",  # Russell 2000 -> iShares Russell 2000 ETF
    "^SP600": "IJR",  # S&P SmallCap 600 -> iShares Core S&P Small-Cap ETF
}

#: Index symbols with no honest ETF proxy: VIX ETPs hold futures and TNX is a yield, not a
#: price. They are reported unsupported and never requested.
NO_PROXY: Mapping[str, str] = {
    "^VIX": "the VIX index",
    "^TNX": "the 10-year Treasury yield",
}

# Yahoo-style class shares (BRK-B) are written with a dot on Finnhub (BRK.B).
_CLASS_SHARE = re.compile(r"^([A-Z]{1,6})-([A-Z])$")


def finnhub_symbol(symbol: str) -> str:
    """Return the symbol Finnhub is asked for: the index's ETF proxy, or BRK.B for BRK-B."""
    proxy = INDEX_PROXIES.get(symbol)
    if proxy is not None:
        return proxy
    match = _CLASS_SHARE.match(symbol)
    return f"{match.group(1)}.{match.group(2)}" if match else symbol


def parse_quote(payload: Any, symbol: str, *, now: datetime) -> pl.DataFrame:
    """Parse ``{c, d, dp, h, l, o, pc, t}`` into one QUOTES row under ``symbol``, at ``now``.

    Raises UnknownSymbol when Finnhub answers with zeros (``c == 0`` and ``t == 0``),
    SymbolError naming the symbol for a missing, non-finite, zero or negative price or a bad
    time (or one more than MAX_AHEAD after ``now``), and FeedError for Finnhub's
    ``{"error": ...}`` object (a rate limit as RateLimited). Finnhub's quote carries no
    volume: the row's volume is null.
    """
    if not isinstance(payload, dict):
        raise SymbolError(symbol, f"{PROVIDER} sent something other than a quote for {symbol}")
    if "error" in payload:
        raise _body_error(payload.get("error"))
    raw_last, raw_time = payload.get("c"), payload.get("t")
    if number(raw_last) == 0 and number(raw_time) == 0:
        raise UnknownSymbol(symbol, f"{PROVIDER} does not know {symbol}")
    last = valid_price(raw_last, "last price", symbol, PROVIDER)
    prev_close = valid_price(payload.get("pc"), "previous close", symbol, PROVIDER)
    if epoch(raw_time) is None:
        raise SymbolError(symbol, f"{PROVIDER} sent no valid quote time for {symbol}: {raw_time!r}")
    moment = quote_time(raw_time, now, symbol, PROVIDER)
    return pl.DataFrame(
        [quote_row(symbol, moment, last, prev_close, None, PROVIDER)], schema=QUOTES
    )


class Finnhub(KeyedProvider):
    """Quotes from ``{base}/api/v1/quote?symbol=X&token=K`` (a free API key is needed)."""

    name = "finnhub"
    default_base_url = DEFAULT_BASE_URL
    missing_key_message = MISSING_KEY

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str | None = None,
        *,
        api_key: str | None = None,
        clock: Clock | None = None,
        protected: Iterable[str] = (),
    ) -> None:
        """Use ``client`` (shared, owned by the caller) against ``base_url`` with ``api_key``.

        ``protected`` symbols (as asked of Finnhub: the benchmarks' ETFs) are never retired.
        """
        super().__init__(client, base_url, api_key=api_key, clock=clock)
        self._unknown = UnknownSymbols(protected)

    @property
    def unknown_symbols(self) -> frozenset[str]:
        """Symbols (as asked of Finnhub) it answered with zeros for, not asked for a while."""
        return self._unknown.symbols(clock_now(self._clock))

    async def quote(self, symbol: str) -> pl.DataFrame:
        """Fetch one symbol exactly as Finnhub spells it (one request): one QUOTES row."""
        key = self._require_key()
        if not symbol or symbol != symbol.strip():
            raise SymbolError(symbol, f"{PROVIDER}: {symbol!r} is not a symbol")
        try:
            reply = await get_json(
                self._client,
                PROVIDER,
                self._base_url + QUOTE_PATH,
                params={"symbol": symbol, "token": key},
                accept=(200, 401, 403),
                clock=self._clock,
            )
        except FeedError as exc:
            raise scrubbed(exc, key) from None
        try:
            if reply.status in (401, 403):
                raise _key_error(reply.status, reply.body)
            return parse_quote(reply.body, symbol, now=clock_now(self._clock))
        except UnknownSymbol:
            # Zeros are Finnhub's explicit "not found": retired until that lapses.
            self._unknown.not_found(symbol, clock_now(self._clock))
            raise
        except FeedError as exc:
            raise scrubbed(exc, key) from None

    async def quotes(
        self, symbols: Sequence[str], concurrency: int = 4
    ) -> tuple[pl.DataFrame, dict[str, str], dict[str, str]]:
        """Quote many symbols, at most ``concurrency`` requests at a time.

        Returns the quotes that worked (QUOTES, in the order asked), ``{symbol: message}`` for
        the symbols that did not, and ``{index: etf}`` for the rows quoted through a proxy.
        Each Finnhub symbol is asked once per call (an index and its ETF share one request);
        symbols known to be unknown and indices without a proxy are not asked at all. A failure
        of the whole provider (no key, bad key, rate limit, network, HTML, a 5xx) raises
        FeedError at once and starts no further request.
        """
        self._require_key()
        wanted = list(dict.fromkeys(symbols))
        problems: dict[str, str] = {}
        asked: dict[str, str] = {}
        for symbol in wanted:
            reason = self._not_asked(symbol)
            if reason is None:
                asked[symbol] = finnhub_symbol(symbol)
            else:
                problems[symbol] = reason
        outcomes = await self._gather(list(dict.fromkeys(asked.values())), concurrency)
        rows: list[pl.DataFrame] = []
        proxies: dict[str, str] = {}
        for symbol in wanted:
            target = asked.get(symbol)
            if target is None:
                continue
            outcome = outcomes[target]
            if isinstance(outcome, str):
                problems[symbol] = outcome if target == symbol else f"{outcome} (for {symbol})"
                continue
            rows.append(outcome.with_columns(pl.lit(symbol, pl.String()).alias("symbol")))
            if symbol in INDEX_PROXIES:
                proxies[symbol] = target
        frame = pl.concat(rows) if rows else empty(QUOTES)
        return frame, {symbol: problems[symbol] for symbol in wanted if symbol in problems}, proxies

    def _not_asked(self, symbol: str) -> str | None:
        if not symbol or symbol != symbol.strip():
            return f"{PROVIDER}: {symbol!r} is not a symbol"
        if symbol in NO_PROXY:
            return f"{PROVIDER} has no quote for {symbol} ({NO_PROXY[symbol]}) and no ETF proxy"
        if symbol.startswith("^") and symbol not in INDEX_PROXIES:
            return f"{PROVIDER} has no index quotes on the free tier and no proxy for {symbol}"
        target = finnhub_symbol(symbol)
        if self._unknown.is_unknown(target, clock_now(self._clock)):
            return f"{PROVIDER} does not know {target}" + (
                "" if target == symbol else f" (for {symbol})"
            )
        return None

    async def _gather(
        self, targets: Sequence[str], concurrency: int
    ) -> dict[str, pl.DataFrame | str]:
        return await fan_out(
            targets, self.quote, concurrency=concurrency, item_errors=(SymbolError,)
        )


def _body_error(value: Any) -> FeedError:
    text = _one_line(value) or "unspecified error"
    # Finnhub's limit message comes in a 200 body as well as with HTTP 429.
    if "limit" in text.lower():
        return RateLimited(f"{PROVIDER} rate limit: {text}")
    return FeedError(f"{PROVIDER} error: {text}")


def _key_error(status: int, body: Any) -> FeedError:
    detail = _one_line(body.get("error")) if isinstance(body, dict) else ""
    suffix = f": {detail}" if detail else ""
    if status == 401:
        return FeedError(f"{PROVIDER} rejected the API key (HTTP 401){suffix}")
    return FeedError(f"{PROVIDER} refused access (HTTP 403){suffix}; check the API key and plan")


def _one_line(value: Any) -> str:
    if value is None:
        return ""
    # Not cut here: it may echo the key, which scrubbed masks first and then cuts.
    return " ".join(str(value).split())
