"""`capgap check --contract`: checks that the fields capgap reads are still in Yahoo's replies."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from capgap.cli.output import EXIT_FAILURE, EXIT_OK
from capgap.core.clock import Clock, SystemClock
from capgap.feeds.base import FeedError
from capgap.feeds.providers.yahoo_contract import Expected, Finding
from capgap.market.fomc import FomcMeeting
from capgap.settings.model import FeedsSettings

#: The quotes asked: the indices and funds capgap is about, and a company (EPS, market cap).
QUOTE_SYMBOLS = ("^GSPC", "^RUT", "SPY", "IWM", "AAPL")
#: The charts asked: an index and a fund (an index's chart has no volume).
CHART_SYMBOLS = ("^GSPC", "SPY")
#: Daily bars of the last days: a chart with bars whatever the hour or the day of the week.
CHART_SPAN = "5d"
CHART_INTERVAL = "1d"


@dataclass(frozen=True, slots=True)
class EndpointCheck:
    """One endpoint's verdict: the fields checked, what moved or vanished, or why it failed."""

    endpoint: str
    checked: int
    findings: tuple[Finding, ...] = ()
    error: str | None = None

    @property
    def holds(self) -> bool:
        """True when the endpoint answered and every field was where capgap reads it."""
        return self.error is None and not self.findings

    def lines(self) -> list[str]:
        """Return the report's lines for this endpoint (one, or one per finding)."""
        if self.error is not None:
            return [f"{self.endpoint}: not checked: {self.error}"]
        if self.findings:
            return [finding.line() for finding in self.findings]
        return [f"{self.endpoint}: ok, all {self.checked} fields present"]


async def run_contract(
    feeds: FeedsSettings, schedule: Sequence[FomcMeeting], clock: Clock
) -> list[EndpointCheck]:
    """Ask Yahoo for one quote batch, two charts and the ZQ strip; check each reply's fields."""
    from capgap.analytics.fed import futures_symbols
    from capgap.feeds.http import make_client
    from capgap.feeds.providers import yahoo as yahoo_module
    from capgap.feeds.providers import yahoo_contract as contract
    from capgap.feeds.providers.yahoo import YahooChart
    from capgap.feeds.providers.yahoo_quote import MAX_BATCH, YahooQuotes
    from capgap.market.calendar import market_session
    from capgap.market.zq import default_naming

    now = clock.now()
    # One batch: the strip is about fifteen contracts, a batch holds fifty.
    strip = futures_symbols(now, tuple(schedule), default_naming())[:MAX_BATCH]
    async with make_client(yahoo_module.CLIENT_SETTINGS) as client:
        yahoo = feeds.yahoo
        quotes = YahooQuotes(client, yahoo.base_url, cookie_url=yahoo.cookie_url, clock=clock)
        charts = YahooChart(client, yahoo.base_url, clock=clock)

        async def quote_findings(fields: list[Expected]) -> list[Finding]:
            return contract.check_quotes(contract.QUOTE, await quotes.reply(QUOTE_SYMBOLS), fields)

        async def chart_findings(fields: list[Expected]) -> list[Finding]:
            replies = [
                await charts.reply(symbol, span=CHART_SPAN, interval=CHART_INTERVAL)
                for symbol in CHART_SYMBOLS
            ]
            return contract.check_charts(replies, fields)

        async def futures_findings(fields: list[Expected]) -> list[Finding]:
            reply = await quotes.reply(strip)
            return contract.check_quotes(contract.FUTURES, reply, fields)

        # One after the other: the quote session opens once, and Yahoo throttles bursts.
        return [
            await _checked(
                contract.QUOTE, contract.quote_fields(market_session(now).state), quote_findings
            ),
            await _checked(contract.CHART, contract.chart_fields(), chart_findings),
            await _checked(contract.FUTURES, contract.futures_fields(), futures_findings),
        ]


async def _checked(
    endpoint: str,
    fields: list[Expected],
    check: Callable[[list[Expected]], Awaitable[list[Finding]]],
) -> EndpointCheck:
    try:
        findings = await check(fields)
    except FeedError as exc:
        return EndpointCheck(endpoint, len(fields), error=str(exc))
    return EndpointCheck(endpoint, len(fields), tuple(findings))


def render(checks: Sequence[EndpointCheck]) -> str:
    """Return the report: each endpoint's lines, then the verdict."""
    lines = [line for check in checks for line in check.lines()]
    broken = sum(len(check.findings) for check in checks)
    failed = sum(1 for check in checks if check.error is not None)
    if broken or failed:
        parts = []
        if broken:
            parts.append(f"{broken} field{'s' if broken != 1 else ''} moved or vanished")
        if failed:
            parts.append(f"{failed} endpoint{'s' if failed != 1 else ''} not checked")
        lines.append("contract broken: " + ", ".join(parts))
    else:
        lines.append("contract holds: every field capgap reads is where it reads it")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    """Check Yahoo's replies against the fields capgap reads; exit 0 when all hold, else 1."""
    checks = asyncio.run(run_contract(args.settings.feeds, args.schedule, SystemClock()))
    sys.stdout.write(render(checks))
    return EXIT_OK if all(check.holds for check in checks) else EXIT_FAILURE
