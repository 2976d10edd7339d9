"""The Feed interface every data source implements: replay of recordings and live providers."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    # Only for annotations: importing base must stay cheap (it is on the start-up path).
    import polars as pl


class FeedError(Exception):
    """A feed could not deliver; the message is shown to the user as it is."""


_URL_QUERY = re.compile(r"(\w+://[^\s?#'\"<>]*)\?[^\s#'\"<>]*")


def without_queries(text: str) -> str:
    """Return ``text`` with every URL's query string removed (a query may hold a key)."""
    return _URL_QUERY.sub(r"\1", text)


def describe_exception(exc: BaseException) -> str:
    """Name an unexpected exception and give its words: "OverflowError: port must be ...".

    A group of one exception (a task group's) is described by what it holds; URL query
    strings are dropped, as they may carry a key.
    """
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    if isinstance(exc, BaseExceptionGroup):
        inner = "; ".join(describe_exception(item) for item in exc.exceptions)
        return f"{type(exc).__name__}: {inner}"
    # One line of printable characters: the message goes to the status line as it is.
    words = "".join(char if char.isprintable() else " " for char in str(exc))
    text = without_queries(" ".join(words.split()))
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class RateLimited(FeedError):
    """The provider said "too many requests"; ``retry_after_s`` is its wait, when it gave one."""

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        """Keep the human message and the provider's requested wait in seconds."""
        super().__init__(message)
        self.retry_after_s = retry_after_s


class SymbolError(FeedError):
    """The provider answered, but not with a usable quote for this one symbol."""

    def __init__(self, symbol: str, message: str) -> None:
        """Keep the symbol the message is about."""
        super().__init__(message)
        self.symbol = symbol


class UnknownSymbol(SymbolError):
    """The provider does not know the symbol: remember it, do not ask again every tick."""


@dataclass(frozen=True, slots=True)
class ReferenceData:
    """Slow-moving figures a source may supply: the Fed's target range and valuation.

    ``label`` says where they come from ("sample" for the bundled session). ``rates_error`` is
    why the source's own rates feed (the New York Fed) failed this time, None when it answered
    or the source has none.
    """

    target_range: tuple[float, float] | None = None
    effr: float | None = None
    label: str | None = None
    rates_error: str | None = None


def keep_known(new: ReferenceData, old: ReferenceData | None) -> ReferenceData:
    """Return ``new`` with each figure it lacks taken from ``old``: nothing known is lost.

    A failed rates feed or a reply without a forward P/E gives None for a figure; the last
    real value then stays (its feed's state and age say how old it is). The label goes with
    the rates: it stays ``old``'s while ``new`` has none of them. ``rates_error`` is ``new``'s.
    """
    if old is None:
        return new
    has_rates = new.target_range is not None or new.effr is not None
    return ReferenceData(
        target_range=new.target_range if new.target_range is not None else old.target_range,
        effr=new.effr if new.effr is not None else old.effr,
        label=new.label if has_rates or old.label is None else old.label,
        rates_error=new.rates_error,
    )


@runtime_checkable
class Feed(Protocol):
    """A source of market data. Every method returns frames in the schemas of analytics.schemas.

    Methods raise FeedError (never anything else) when the source fails.
    """

    @property
    def name(self) -> str:
        """Short name shown in the status line and in `feeds[]` ("demo", "yahoo", ...)."""
        ...

    @property
    def demo(self) -> bool:
        """True when the data is not live market data (the UI then shows DEMO)."""
        ...

    async def quotes(self, symbols: Sequence[str]) -> pl.DataFrame:
        """Return the latest quote per symbol (QUOTES schema); unknown symbols are left out."""
        ...

    async def intraday(self, symbols: Sequence[str]) -> pl.DataFrame:
        """Return today's one-minute bars so far (BARS schema)."""
        ...

    async def daily(self, symbols: Sequence[str]) -> pl.DataFrame:
        """Return about one year of completed daily bars, before today (DAILY schema)."""
        ...

    async def reference(self) -> ReferenceData:
        """Return the slow reference figures this source knows."""
        ...

    async def aclose(self) -> None:
        """Release connections and files."""
        ...


@runtime_checkable
class MemberHistory(Protocol):
    """A source of the index members' daily closes: read once a day for the sectors' windows."""

    def member_closes(self, symbols: Sequence[str], since: date) -> pl.LazyFrame:
        """Return the closes (symbol, date, close) of ``symbols`` from ``since`` until before today.

        A lazy frame: the reader reduces it to the sector legs' levels (off the event loop)
        without holding every member's row at once. Reading it may raise FeedError or a
        polars error; an unknown symbol is left out.
        """
        ...


@runtime_checkable
class GrowingMemberHistory(MemberHistory, Protocol):
    """A members' history fetched while the app runs: member_closes returns what came so far."""

    def members_loaded(self, symbols: Sequence[str]) -> int:
        """Return how many of ``symbols`` are done for today (closes in, or known to lack them)."""
        ...
