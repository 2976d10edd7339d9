"""The live feeds: Yahoo (no key) or Finnhub (a key) for quotes; the NY Fed or FRED for rates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import polars as pl

from capgap.core.clock import Clock
from capgap.core.schemas import BARS, DAILY, empty
from capgap.core.snapshot import SESSION_PROBLEM
from capgap.feeds.base import FeedError, ReferenceData, SymbolError
from capgap.feeds.disk_cache import (
    DiskCache,
    dailies_from_json,
    daily_to_json,
    history_expiry,
    rates_expiry,
)
from capgap.feeds.fanout import fan_out
from capgap.feeds.http import make_client
from capgap.feeds.member_history import (
    CLOSES_FILE,
    ClosesCache,
    MemberHistoryFetcher,
    RequestLog,
    request_hooks,
)
from capgap.feeds.poller import TokenBucket
from capgap.feeds.providers import nyfed as nyfed_module
from capgap.feeds.providers import yahoo as yahoo_module
from capgap.feeds.providers.nyfed import NewYorkFed
from capgap.feeds.providers.yahoo import YahooChart
from capgap.feeds.providers.yahoo_quote import MAX_BATCH, YahooQuotes
from capgap.feeds.rotation import HostBudget
from capgap.feeds.session_store import SessionStore
from capgap.feeds.values import clock_now
from capgap.market.universe import Benchmarks, vars_in_order
from capgap.settings.model import FeedsSettings

if TYPE_CHECKING:
    import httpx

    # Loaded where used: a run the New York Fed answers (the tmux line) asks FRED nothing.
    from capgap.feeds.providers.fred import Fred
    from capgap.feeds.providers.fred_csv import FredCsv

#: Yahoo's budget: a burst of 30 requests, then one a second (60 a minute) on average.
YAHOO_BURST = 30
YAHOO_REQUESTS_PER_S = 1.0
#: What the members' rolling refresh paces itself by (see capgap.feeds.rotation).
YAHOO_QUOTE_BUDGET = HostBudget(YAHOO_REQUESTS_PER_S * 60, MAX_BATCH)
#: The New York Fed publishes once a day: a trickle is plenty.
NYFED_REQUESTS_PER_S = 0.2
#: The name of the rates feed in the status line and in `feeds[]`.
RATES_FEED = "nyfed"
#: Finnhub's free tier: about 60 requests a minute.
FINNHUB_BURST = 10
FINNHUB_REQUESTS_PER_S = 0.9
#: Charts in flight at once: Yahoo throttles bursts, and charts are one symbol per request.
CHART_CONCURRENCY = 2
#: The disk cache's entry of the rates (see RatesSource).
RATES_ENTRY = "rates"
#: The problems' key of the members' history as a whole (a damaged cache, a rate limit).
MEMBER_HISTORY_PROBLEM = "(members' history)"
#: The disk cache's entry of a stand-in's rates (FRED's), read only while the NY Fed fails.
STAND_IN_ENTRY = "rates-stand-in"


@dataclass(frozen=True, slots=True)
class KeptRates:
    """Rates as read from one source: the range, the EFFR, its label, and what it lacked.

    ``notes`` are the source's own problems (a series without today's value): said again
    whenever the figures are used.
    """

    target: tuple[float, float]
    effr: float | None
    label: str
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Return the figures as the disk cache stores them."""
        return {
            "target": list(self.target),
            "effr": self.effr,
            "label": self.label,
            "notes": list(self.notes),
        }

    @classmethod
    def from_json(cls, data: Any) -> KeptRates | None:
        """Return the figures to_json stored, or None when they are damaged."""
        if not isinstance(data, dict):
            return None
        try:
            low, high = (float(value) for value in data["target"])
            effr = data["effr"]
            notes = tuple(str(note) for note in data.get("notes", ()))
            return cls(
                (low, high), None if effr is None else float(effr), str(data["label"]), notes
            )
        except (TypeError, ValueError, KeyError):
            return None


def history_entry(symbol: str) -> str:
    """Return the disk cache's entry of one symbol's daily history."""
    return f"daily-{symbol}"


def no_history_entry(symbol: str) -> str:
    """Return the disk cache's entry saying Yahoo had no daily history of one symbol, and why."""
    return f"nodaily-{symbol}"


class RatesSource:
    """The target range and EFFR: the New York Fed, then FRED's API (with a key), then its CSV.

    The New York Fed publishes both figures in one reply and is asked first every time, so it
    is used again as soon as it recovers. The keyed API comes before the keyless download: a
    user who set a key chose it, and its JSON says more plainly what went wrong.

    A stand-in's answer is kept (in memory, and with a ``cache`` on disk) as long as the New
    York Fed's would be (see rates_expiry): while the New York Fed stays down each retry asks
    it alone, and FRED is not downloaded again before its figures could have changed. With a
    ``cache`` the New York Fed's own figures are kept on disk too: a run within that asks
    nothing.
    """

    def __init__(self, feeds: FeedsSettings, clock: Clock, cache: DiskCache | None = None) -> None:
        self._nyfed_client = make_client(
            nyfed_module.CLIENT_SETTINGS, budget=TokenBucket(5, NYFED_REQUESTS_PER_S, clock)
        )
        self._nyfed = NewYorkFed(self._nyfed_client, feeds.nyfed.base_url, clock=clock)
        self._feeds = feeds
        #: The stand-ins and their clients, made when first asked (see _fallbacks).
        self._stand_ins: list[tuple[str, Fred | FredCsv]] | None = None
        self._stand_in_clients: list[httpx.AsyncClient] = []
        self._clock = clock
        self._cache = cache
        #: The last stand-in's answer and when it expires (the disk keeps it across runs).
        self._stand_in: tuple[KeptRates, datetime] | None = None
        #: Why the figures are missing or second-hand ("...; FRED CSV stands in"), for the UI
        #: (None when the NY Fed worked).
        self.problem: str | None = None

    async def rates(self) -> tuple[tuple[float, float] | None, float | None, str | None]:
        """Return (target range, EFFR, label); a failure gives Nones and sets ``problem``."""
        cached = self._read(RATES_ENTRY)
        if cached is not None:
            self.problem = None
            return cached.target, cached.effr, cached.label
        found = await self._fetch()
        target, effr, label = found
        # Only the New York Fed's own figures go under RATES_ENTRY, read without asking it: a
        # stand-in's would hide its failure (its state and error) for hours.
        if self._cache is not None and self.problem is None and target and effr is not None:
            now = clock_now(self._clock)
            kept = KeptRates(target, effr, label or nyfed_module.PROVIDER)
            self._cache.write(RATES_ENTRY, kept.to_json(), rates_expiry(now))
        return found

    def _read(self, entry: str) -> KeptRates | None:
        """Return the rates kept on disk under ``entry``, if fresh and whole."""
        if self._cache is None:
            return None
        return KeptRates.from_json(self._cache.read(entry, clock_now(self._clock)))

    def _kept_stand_in(self) -> KeptRates | None:
        """Return the last stand-in's answer while it is fresh: this run's, else the disk's."""
        now = clock_now(self._clock)
        if self._stand_in is not None:
            kept, expires = self._stand_in
            if now < expires:
                return kept
            self._stand_in = None
        return self._read(STAND_IN_ENTRY)

    def _keep_stand_in(self, kept: KeptRates) -> None:
        """Keep a stand-in's answer until the rates could have changed (see rates_expiry)."""
        expires = rates_expiry(clock_now(self._clock))
        self._stand_in = (kept, expires)
        if self._cache is not None:
            self._cache.write(STAND_IN_ENTRY, kept.to_json(), expires)

    async def _fetch(self) -> tuple[tuple[float, float] | None, float | None, str | None]:
        """Ask the New York Fed, then use a kept stand-in's answer or ask each stand-in.

        A stand-in counts only with a target range. The label names the range's source.
        """
        try:
            observation = await self._nyfed.effr()
        except FeedError as exc:
            nyfed_problem = str(exc)
        else:
            self.problem = None
            return (
                (observation.target_from, observation.target_to),
                observation.effr,
                nyfed_module.PROVIDER,
            )
        kept = self._kept_stand_in()
        if kept is None:
            failures: list[str] = []
            kept = await self._ask_stand_ins(failures)
            if kept is None:
                self.problem = "; ".join([nyfed_problem, *failures])
                return None, None, None
            self._keep_stand_in(kept)
        # The New York Fed's failure stays the feed's state; the figures are second-hand.
        self.problem = "; ".join([nyfed_problem, *kept.notes, f"{kept.label} stands in"])
        return kept.target, kept.effr, kept.label

    def _fallbacks(self) -> list[tuple[str, Fred | FredCsv]]:
        """Return the stand-ins, in order, each with the label its figures are shown under.

        Made when first asked, after the New York Fed failed: a run it answers, or whose
        rates are on disk (the tmux line), loads no FRED module and opens no client of theirs.
        """
        if self._stand_ins is None:
            from capgap.feeds.providers import fred as fred_module
            from capgap.feeds.providers import fred_csv as fred_csv_module
            from capgap.feeds.providers.fred import Fred
            from capgap.feeds.providers.fred_csv import FredCsv

            feeds, clock = self._feeds, self._clock
            fred_client = make_client(fred_module.CLIENT_SETTINGS)
            csv_client = make_client(fred_csv_module.CLIENT_SETTINGS)
            self._stand_in_clients = [fred_client, csv_client]
            key = feeds.fred.api_key
            fred = Fred(fred_client, feeds.fred.base_url, api_key=key, clock=clock)
            csv = FredCsv(csv_client, feeds.fred.csv_base_url, clock=clock)
            self._stand_ins = [
                *([(fred_module.PROVIDER, fred)] if key else []),
                (fred_csv_module.PROVIDER, csv),
            ]
        return self._stand_ins

    async def _ask_stand_ins(self, problems: list[str]) -> KeptRates | None:
        """Return the first stand-in's answer with a target range; add why others failed.

        The answer's notes hold what the stand-ins before it said too: the figures, used
        again, say the same as when they were read.
        """
        from capgap.feeds.providers.fred import TWO_YEAR_SERIES

        for label, provider in self._fallbacks():
            try:
                found = await provider.rates()
            except FeedError as exc:
                problems.append(str(exc))
                continue
            # A missing figure is said, whether or not the stand-in is used (the 2-year
            # yield the API also reads is no figure of the rates).
            notes = [
                problem for series, problem in found.problems.items() if series != TWO_YEAR_SERIES
            ]
            if found.target_range is None:
                problems.extend(notes)
                if not found.problems:
                    problems.append(f"{label} gave no target range")
                continue
            return KeptRates(found.target_range, found.effr, label, (*problems, *notes))
        return None

    async def aclose(self) -> None:
        """Close the clients."""
        await self._nyfed_client.aclose()
        for client in self._stand_in_clients:
            await client.aclose()


class YahooLiveFeed:
    """Live market data through the Feed interface, from Yahoo (no key) and the New York Fed.

    Per poll: batch quote requests of 50 symbols, plus one chart per index for today's bars
    once a minute. ``quote_budget`` tells the engine to quote the index members in a rolling
    refresh within Yahoo's budget. Daily history and the reference figures come on the
    engine's slower cadence.
    """

    name = "yahoo"
    demo = False
    rates_feed = RATES_FEED
    quote_budget = YAHOO_QUOTE_BUDGET

    def __init__(
        self,
        feeds: FeedsSettings,
        clock: Clock,
        benchmarks: Benchmarks,
        *,
        cache: DiskCache | None = None,
        session_store: SessionStore | None = None,
        members_history: bool = True,
    ) -> None:
        """Poll Yahoo and the rates sources of ``feeds``.

        ``cache`` keeps daily history and the rates on disk between runs, ``session_store``
        Yahoo's cookie and crumb (see capgap.feeds.session_store). ``members_history`` False
        (a headline, which shows no sector) leaves the members' closes kept in ``cache`` unread.
        """
        # One request budget per host: Yahoo rate-limits after a few dozen requests a minute.
        bucket = TokenBucket(YAHOO_BURST, YAHOO_REQUESTS_PER_S, clock)
        self._yahoo_client = make_client(
            yahoo_module.CLIENT_SETTINGS, budget=bucket, kind=feeds.yahoo.transport
        )
        self._rates = RatesSource(feeds, clock, cache)
        self._cache = cache
        self._clock = clock
        yahoo = feeds.yahoo
        self._quotes = YahooQuotes(
            self._yahoo_client,
            yahoo.base_url,
            cookie_url=yahoo.cookie_url,
            clock=clock,
            # The benchmarks are never retired: the spread is meaningless without them.
            protected=vars_in_order(benchmarks),
            store=session_store,
        )
        self._chart = YahooChart(self._yahoo_client, yahoo.base_url, clock=clock)
        # The members' closes come in the bucket's spare tokens (see member_history).
        # A monitor keeps a year of every member's closes there: reading it would cost the
        # tmux line tens of milliseconds for nothing it shows.
        closes_path = cache.folder / CLOSES_FILE if cache is not None and members_history else None
        log = RequestLog(clock)
        request_hooks(self._yahoo_client).append(log.hook)
        #: The members' closes for the sectors' windows (see member_closes).
        self.member_history = MemberHistoryFetcher(
            self._chart, ClosesCache(closes_path), bucket, clock, log=log
        )
        #: Per-symbol problems of the last poll (unknown symbols, bad prices), for the UI.
        self.problems: dict[str, str] = {}

    async def quotes(self, symbols: Sequence[str]) -> pl.DataFrame:
        """Return the latest quotes (QUOTES); symbols Yahoo does not know are left out."""
        batch = await self._quotes.fetch(symbols)
        # A session that could not be stored costs the next start two requests: said first,
        # beside the quotes, which are fine (the feed stays ok).
        stored = self._quotes.store_problem
        problems = {SESSION_PROBLEM: stored} if stored else {}
        problems.update(batch.problems)
        # A member Yahoo does not know is asked only on its turn, and then not at all: it
        # stays listed, once, until its status lapses.
        for symbol in sorted(self._quotes.unknown_symbols - problems.keys()):
            problems[symbol] = f"{yahoo_module.PROVIDER} does not know {symbol}"
        self._history_problems(problems)
        self.problems = problems
        return batch.quotes

    def _history_problems(self, problems: dict[str, str]) -> None:
        """Add the members' history's problems (a member listed once, beside its quote's)."""
        history = self.member_history
        for symbol, problem in history.problems.items():
            problems.setdefault(symbol, problem)
        for whole in (history.cache.warning, history.error):
            if whole is not None:
                problems.setdefault(MEMBER_HISTORY_PROBLEM, whole)

    def member_closes(self, symbols: Sequence[str], since: date) -> pl.LazyFrame:
        """Return the members' closes cached so far; fetch the missing ones in the background.

        ``symbols`` come heaviest first: the legs pass the coverage bar early. The frame
        grows as the fetch goes on (see members_loaded).
        """
        self.member_history.want(symbols, since)
        return self.member_history.cache.closes(symbols, since)

    def members_loaded(self, symbols: Sequence[str]) -> int:
        """Return how many of ``symbols`` are done for today (closes in, or known to lack them)."""
        return self.member_history.settled(symbols)

    async def _charts(self, symbols: Sequence[str], daily: bool) -> list[pl.DataFrame]:
        """Fetch one chart per symbol; a provider failure stops the rest at once."""
        fetch = self._chart.daily if daily else self._chart.bars
        if not symbols:
            return []
        # The first chart goes alone: during an outage a poll then costs one request, not a
        # burst of them.
        first = await fan_out(symbols[:1], fetch, concurrency=1, item_errors=(SymbolError,))
        rest = await fan_out(
            symbols[1:], fetch, concurrency=CHART_CONCURRENCY, item_errors=(SymbolError,)
        )
        frames: list[pl.DataFrame] = []
        for symbol, outcome in (first | rest).items():
            if isinstance(outcome, str):
                # One bad symbol must not cost the others their charts.
                self.problems[symbol] = outcome
            else:
                frames.append(outcome)
        return frames

    async def intraday(self, symbols: Sequence[str]) -> pl.DataFrame:
        """Return today's one-minute bars of ``symbols`` (one chart request each)."""
        frames = await self._charts(symbols, daily=False)
        return pl.concat(frames) if frames else empty(BARS)

    async def daily(self, symbols: Sequence[str]) -> pl.DataFrame:
        """Return a year of daily bars of ``symbols`` (one chart request each).

        With a disk cache, a symbol's history fetched since the last session close comes
        from disk, and what is fetched is kept there until the next close. So is the answer
        that Yahoo has no history of a symbol (an unknown ZQ month, say): it is not asked again
        before the next close, and its problem is listed as when it was asked.
        """
        cache = self._cache
        if cache is None:
            frames = await self._charts(symbols, daily=True)
            return pl.concat(frames) if frames else empty(DAILY)
        now = clock_now(self._clock)
        # Every kept history read in one pass (the tmux line reads 14 at each run).
        kept, whole = dailies_from_json([cache.read(history_entry(s), now) for s in symbols])
        missing: list[str] = []
        for symbol, in_cache in zip(symbols, whole, strict=True):
            if in_cache:
                continue
            problem = cache.read(no_history_entry(symbol), now)
            if isinstance(problem, str):
                self.problems[symbol] = problem
            else:
                missing.append(symbol)
        fetched = await self._charts(missing, daily=True)
        expires = history_expiry(now)
        found: set[str] = set()
        for frame in fetched:
            if frame.height:
                symbol = frame.get_column("symbol")[0]
                found.add(symbol)
                cache.write(history_entry(symbol), daily_to_json(frame), expires)
        for symbol in missing:
            # Reached only when every chart answered (a provider failure raises): what came
            # back without bars is Yahoo not knowing the symbol, or having no history of it.
            if symbol not in found:
                problem = self.problems.get(symbol, f"{yahoo_module.PROVIDER}: no daily history")
                cache.write(no_history_entry(symbol), problem, expires)
        return pl.concat([kept, *fetched]) if fetched else kept

    async def reference(self) -> ReferenceData:
        """Return the EFFR and target range (the valuation is built from the members' quotes).

        A failing rates source does not fail the poll: ``rates_error`` says why, and the
        engine keeps the last rates it had.
        """
        target, effr, label = await self._rates.rates()
        return ReferenceData(
            target_range=target, effr=effr, label=label, rates_error=self._rates.problem
        )

    async def aclose(self) -> None:
        """Stop the members' history (keeping what arrived) and close the HTTP clients."""
        await self.member_history.aclose()
        await self._yahoo_client.aclose()
        await self._rates.aclose()


class FinnhubLiveFeed:
    """Live quotes from Finnhub (an API key), indices through ETF proxies, rates as above.

    The free tier allows about 60 requests a minute and Finnhub quotes one symbol per
    request, so only the benchmarks and sector ETFs are polled: sector breadth, leaders and
    laggards (which need the constituents) stay empty on this source. There are no charts:
    the spread statistics that need history stay empty too.
    """

    name = "finnhub"
    demo = False
    rates_feed = RATES_FEED

    def __init__(
        self, feeds: FeedsSettings, clock: Clock, benchmarks: Benchmarks, polled: Sequence[str]
    ) -> None:
        from capgap.feeds.providers import finnhub as finnhub_module
        from capgap.feeds.providers.finnhub import Finnhub

        self._client = make_client(
            finnhub_module.CLIENT_SETTINGS,
            budget=TokenBucket(FINNHUB_BURST, FINNHUB_REQUESTS_PER_S, clock),
        )
        self._finnhub = Finnhub(
            self._client,
            feeds.finnhub.base_url,
            api_key=feeds.finnhub.api_key,
            clock=clock,
            protected=[finnhub_module.finnhub_symbol(s) for s in vars_in_order(benchmarks)],
        )
        self._rates = RatesSource(feeds, clock)
        self._polled = set(polled)
        self._benchmarks = benchmarks
        self.problems: dict[str, str] = {}
        #: {index: ETF} the indices were quoted through, so the screen can say so.
        self.proxies: dict[str, str] = {}

    async def quotes(self, symbols: Sequence[str]) -> pl.DataFrame:
        """Return quotes of the polled symbols among ``symbols`` (indices via their proxies)."""
        frame, problems, proxies = await self._finnhub.quotes(
            [symbol for symbol in symbols if symbol in self._polled]
        )
        self.problems = dict(problems)
        self.proxies = dict(proxies)
        return frame

    async def intraday(self, symbols: Sequence[str]) -> pl.DataFrame:
        """Finnhub's free tier has no intraday bars."""
        return empty(BARS)

    async def daily(self, symbols: Sequence[str]) -> pl.DataFrame:
        """Finnhub's free tier has no daily history."""
        return empty(DAILY)

    async def reference(self) -> ReferenceData:
        """Return the EFFR and target range (no valuation on this source)."""
        target, effr, label = await self._rates.rates()
        return ReferenceData(
            target_range=target, effr=effr, label=label, rates_error=self._rates.problem
        )

    async def aclose(self) -> None:
        """Close the HTTP clients."""
        await self._client.aclose()
        await self._rates.aclose()
