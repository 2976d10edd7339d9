"""`capgap check`: probe each configured provider once and say what works."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from capgap.cli.output import EXIT_FAILURE, EXIT_OK
from capgap.core.clock import Clock, SystemClock
from capgap.feeds.base import FeedError
from capgap.settings.model import FeedsSettings

#: The source capgap uses when none is chosen: the check's exit code depends on it alone.
DEFAULT_SOURCE = "yahoo"
#: The Yahoo cookie row's note when opening the session went through the EU consent flow
#: (beside it, why the session could not be stored for the next run, if it could not).
CONSENT_NOTE = "EU consent given"


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One probe: which provider and endpoint, whether it worked, how fast, what it saw."""

    provider: str
    endpoint: str
    ok: bool
    latency_s: float | None
    symbols_seen: int
    error: str | None
    #: What else a working probe saw ("EU consent given"), shown where an error would be.
    note: str | None = None


Probe = Callable[[], Awaitable[int]]


def _no_note() -> str | None:
    return None


async def _timed(
    provider: str,
    endpoint: str,
    probe: Probe,
    clock: Clock,
    note: Callable[[], str | None] = _no_note,
) -> CheckResult:
    started = clock.monotonic()
    try:
        seen = await probe()
    except FeedError as exc:
        return CheckResult(provider, endpoint, False, clock.monotonic() - started, 0, str(exc))
    return CheckResult(provider, endpoint, True, clock.monotonic() - started, seen, None, note())


async def run_checks(feeds: FeedsSettings, clock: Clock) -> list[CheckResult]:
    """Probe every configured provider concurrently, once each (keyed ones when keyed)."""
    from capgap.feeds.http import make_client
    from capgap.feeds.providers import finnhub as finnhub_module
    from capgap.feeds.providers import fred as fred_module
    from capgap.feeds.providers import fred_csv as fred_csv_module
    from capgap.feeds.providers import nyfed as nyfed_module
    from capgap.feeds.providers import yahoo as yahoo_module
    from capgap.feeds.providers.finnhub import Finnhub
    from capgap.feeds.providers.fred import EFFR_SERIES, Fred
    from capgap.feeds.providers.fred_csv import FredCsv
    from capgap.feeds.providers.nyfed import NewYorkFed
    from capgap.feeds.providers.yahoo import YahooChart
    from capgap.feeds.providers.yahoo_quote import YahooQuotes, YahooSession
    from capgap.feeds.session_store import SessionStore, session_path

    def all_seen(found: tuple[int, dict[str, str]]) -> int:
        seen, problems = found
        if problems:
            raise FeedError("; ".join(f"{s}: {p}" for s, p in sorted(problems.items())))
        return seen

    async with (
        make_client(yahoo_module.CLIENT_SETTINGS, kind=feeds.yahoo.transport) as yahoo_client,
        make_client(nyfed_module.CLIENT_SETTINGS) as nyfed_client,
        make_client(fred_module.CLIENT_SETTINGS) as fred_client,
        make_client(fred_csv_module.CLIENT_SETTINGS) as fred_csv_client,
        make_client(finnhub_module.CLIENT_SETTINGS) as finnhub_client,
    ):
        yahoo = feeds.yahoo
        chart = YahooChart(yahoo_client, yahoo.base_url, clock=clock)
        # One session for the cookie row and the quote probe: the cookie is asked once. It is
        # opened here, not read from the stored one (the row checks the cookie endpoint), and
        # stored for the next run: the row says when that failed.
        session = YahooSession(
            yahoo_client,
            yahoo.base_url,
            cookie_url=yahoo.cookie_url,
            clock=clock,
            store=SessionStore(session_path()),
            reuse_stored=False,
        )
        quotes = YahooQuotes(yahoo_client, yahoo.base_url, clock=clock, session=session)
        nyfed = NewYorkFed(nyfed_client, feeds.nyfed.base_url, clock=clock)
        fred_csv = FredCsv(fred_csv_client, feeds.fred.csv_base_url, clock=clock)

        async def chart_probe() -> int:
            frame, problems = await chart.quotes(["^GSPC", "^RUT"])
            return all_seen((frame.height, problems))

        async def quote_probe() -> int:
            frame, problems = await quotes.quotes(["^GSPC", "^RUT", "SPY", "IWM"])
            return all_seen((frame.height, problems))

        async def cookie_probe() -> int:
            await session.crumb()
            return 0

        def cookie_note() -> str | None:
            notes = [CONSENT_NOTE] if session.consent_given else []
            notes += [session.store_problem] if session.store_problem else []
            return "; ".join(notes) or None

        async def nyfed_probe() -> int:
            await nyfed.effr()
            return 1

        async def fred_csv_probe() -> int:
            # One series, one request: the keyless download the rates fall back to.
            await fred_csv.latest(EFFR_SERIES)
            return 1

        probes = [
            _timed("yahoo", "cookie", cookie_probe, clock, cookie_note),
            _timed("yahoo", "v8 chart", chart_probe, clock),
            _timed("yahoo", "v7 quote", quote_probe, clock),
            _timed("nyfed", "EFFR", nyfed_probe, clock),
            _timed("fred", "CSV", fred_csv_probe, clock),
        ]
        if feeds.fred.api_key:
            fred = Fred(fred_client, feeds.fred.base_url, api_key=feeds.fred.api_key, clock=clock)

            async def fred_probe() -> int:
                rates = await fred.rates()
                if rates.effr is None:
                    raise FeedError("FRED gave no EFFR: " + "; ".join(rates.problems.values()))
                return 1

            probes.append(_timed("fred", "series", fred_probe, clock))
        if feeds.finnhub.api_key:
            finnhub = Finnhub(
                finnhub_client, feeds.finnhub.base_url, api_key=feeds.finnhub.api_key, clock=clock
            )

            async def finnhub_probe() -> int:
                frame, problems, _proxies = await finnhub.quotes(["^GSPC", "^RUT"])
                return all_seen((frame.height, problems))

            probes.append(_timed("finnhub", "quote", finnhub_probe, clock))
        return list(await asyncio.gather(*probes))


def render_table(results: list[CheckResult]) -> str:
    """Return the results as a plain table, one provider per line."""
    lines = [f"{'provider':<9}{'endpoint':<11}{'status':<8}{'latency':>9}{'symbols':>9}  error"]
    for result in results:
        latency = f"{result.latency_s * 1000:.0f} ms" if result.latency_s is not None else "-"
        lines.append(
            f"{result.provider:<9}{result.endpoint:<11}{'ok' if result.ok else 'FAIL':<8}"
            f"{latency:>9}{result.symbols_seen:>9}  {_last_column(result)}".rstrip()
        )
    return "\n".join(lines) + "\n"


def _last_column(result: CheckResult) -> str:
    if result.error:
        return result.error
    return f"({result.note})" if result.note else ""


def default_source_works(results: list[CheckResult]) -> bool:
    """Return True when every probe of the default source worked."""
    mine = [result for result in results if result.provider == DEFAULT_SOURCE]
    return bool(mine) and all(result.ok for result in mine)


def transport_line(feeds: FeedsSettings) -> str:
    """Return the line naming how capgap speaks to Yahoo: httpx, or curl_cffi as Chrome."""
    if feeds.yahoo.transport == "impersonate":
        from importlib.metadata import version

        return (
            f"Yahoo is reached through curl_cffi {version('curl_cffi')} impersonating Chrome "
            '(transport = "impersonate")\n'
        )
    return 'Yahoo is reached through httpx (transport = "httpx")\n'


def run(args: argparse.Namespace) -> int:
    """Probe the configured providers, print the table; exit 1 unless the default source works."""
    if args.contract:
        from capgap.cli import contract

        return contract.run(args)
    results = asyncio.run(run_checks(args.settings.feeds, SystemClock()))
    sys.stdout.write(render_table(results))
    sys.stdout.write(transport_line(args.settings.feeds))
    return EXIT_OK if default_source_works(results) else EXIT_FAILURE
