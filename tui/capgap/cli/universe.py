"""`capgap universe`: the index members in effect (show), and their update from the funds' files.

`update` downloads IVV's and IWM's holdings now (or imports files downloaded by hand with
--file FUND=PATH), validates them and writes them into the cache directory (or --into DIR);
`show` prints each leg's fund, as-of date, origin and members, by sector, as a table or JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from capgap.cli import config
from capgap.cli.output import EXIT_FAILURE, EXIT_OK, UsageError, output_format, say

if TYPE_CHECKING:
    from capgap.feeds.holdings import Attempt, Outcome
    from capgap.market.holdings import Fund
    from capgap.market.universe import Universe, UniverseSource
    from capgap.settings.model import Settings


def run(args: argparse.Namespace) -> int:
    """Run `universe update` or `universe show`."""
    if args.action == "update":
        return update(args)
    return show(args)


def _imports(args: argparse.Namespace) -> list[tuple[Fund, Path]]:
    """Return the --file FUND=PATH imports, checked (UsageError names the bad one)."""
    from capgap.market.holdings import fund_of

    imports: list[tuple[Fund, Path]] = []
    for given in args.file or ():
        ticker, sep, name = given.partition("=")
        if not sep or not name:
            raise UsageError(f"--file: {given!r} is not FUND=PATH (e.g. IWM=~/IWM_holdings.csv)")
        try:
            fund = fund_of(ticker)
        except ValueError as exc:
            raise UsageError(f"--file: {exc}") from None
        if any(fund == seen for seen, _ in imports):
            raise UsageError(f"--file: {fund.ticker} is given twice")
        path = Path(name).expanduser()
        if not path.is_file():
            raise UsageError(f"--file: {path}: no such file")
        imports.append((fund, path))
    return imports


def update(args: argparse.Namespace) -> int:
    """Download (or import) the holdings; one line per fund; exit 1 when one was refused."""
    import asyncio

    from capgap.core.clock import SystemClock
    from capgap.feeds.holdings import store_holdings, update_funds
    from capgap.market.holdings import FUNDS, cache_dir, fund_of

    if args.file and args.fund:
        raise UsageError("--fund picks the funds to download, --file imports files: not both")
    imports = _imports(args)
    folder: Path = args.into if args.into is not None else cache_dir()
    outcomes: list[Outcome]
    if imports:
        outcomes = []
        for fund, path in imports:
            try:
                body = path.read_bytes()
            except OSError as exc:
                raise UsageError(f"--file: {path}: cannot be read ({exc.strerror})") from None
            outcomes.append(store_holdings(body, fund, folder, source=path.name))
    else:
        funds = [fund_of(args.fund)] if args.fund else list(FUNDS)
        settings: Settings = args.settings
        outcomes = asyncio.run(
            update_funds(
                funds,
                settings.feeds.ishares.base_url,
                folder,
                SystemClock(),
                # A folder of the user's choosing is no cache: no note of the attempt there.
                remember=args.into is None,
            )
        )
    for outcome in outcomes:
        if outcome.ok:
            print(outcome.line)
        else:
            say(f"not updated: {outcome.line}")
    return EXIT_OK if all(outcome.ok for outcome in outcomes) else EXIT_FAILURE


def _sector_counts(universe: Universe, fund: str) -> dict[str, int]:
    """Return a fund's members by sector, the largest sector first."""
    import polars as pl

    counts = (
        universe.constituents.filter(pl.col("fund") == fund)
        .group_by("sector")
        .len()
        .sort(["len", "sector"], descending=[True, False])
    )
    return {str(sector): int(count) for sector, count in counts.iter_rows()}


def _attempt_dict(attempt: Attempt | None) -> dict[str, Any] | None:
    if attempt is None:
        return None
    return {"day": attempt.day.isoformat(), "ok": attempt.ok, "message": attempt.line}


def _leg(source: UniverseSource, universe: Universe, attempt: Attempt | None) -> dict[str, Any]:
    return {
        "index": source.index,
        "fund": source.fund,
        "as_of": source.as_of.isoformat(),
        "origin": source.origin,
        "path": str(source.path),
        "members": source.members,
        "sectors": _sector_counts(universe, source.fund),
        "problem": source.problem,
        "last_update": _attempt_dict(attempt),
    }


def universe_dict(settings: Settings, universe: Universe, folder: Path) -> dict[str, Any]:
    """Return the universe in effect as `universe show --format json` prints it."""
    from capgap.feeds.holdings import read_attempts

    attempts = read_attempts(folder)
    report: dict[str, Any] = {
        source.bucket: _leg(source, universe, attempts.get(source.fund))
        for source in universe.sources
    }
    report["cache_dir"] = str(folder)
    report["custom_sectors"] = [
        {
            "name": sector.name,
            "tag": sector.tag,
            "large": list(sector.large),
            "small": list(sector.small),
            "large_etf": sector.large_etf,
            "small_etf": sector.small_etf,
        }
        for sector in settings.universe.sectors
    ]
    report["watchlists"] = {
        name: list(symbols) for name, symbols in settings.universe.watchlists.items()
    }
    return report


def universe_table(report: dict[str, Any]) -> str:
    """Return the universe in effect as a table for people (the same figures as the JSON)."""
    legs = [report[bucket] for bucket in ("large", "small") if bucket in report]
    lines = [f"Universe in effect (downloads are cached in {report['cache_dir']})", ""]
    for leg in legs:
        lines.append(
            f"{leg['index']:<13} {leg['fund']}  as of {leg['as_of']}  {leg['members']:>5} members"
            f"  {leg['origin']}: {leg['path']}"
        )
        update = leg["last_update"]
        if update is not None:
            result = "ok" if update["ok"] else "failed"
            lines.append(f"  last update {update['day']}: {result}: {update['message']}")
        if leg["problem"]:
            lines.append(f"  passed over: {leg['problem']}")
    sectors = list(dict.fromkeys(name for leg in legs for name in leg["sectors"]))
    if sectors:
        width = max(len(name) for name in sectors)
        lines += ["", f"{'Sector':<{width}}" + "".join(f"  {leg['index']:>12}" for leg in legs)]
        for name in sectors:
            counts = "".join(f"  {leg['sectors'].get(name, 0):>12}" for leg in legs)
            lines.append(f"{name:<{width}}{counts}")
    if report["custom_sectors"]:
        lines += ["", "Custom sectors (config):"]
        for sector in report["custom_sectors"]:
            sides = [
                f"{side} {', '.join(sector[side]) or '-'}"
                + (f" (ETF {sector[side + '_etf']})" if sector[side + "_etf"] else "")
                for side in ("large", "small")
            ]
            lines.append(f"  {sector['name']}: {'; '.join(sides)}")
    if report["watchlists"]:
        lines += ["", "Watchlists (config):"]
        lines += [
            f"  {name}: {', '.join(symbols)}" for name, symbols in report["watchlists"].items()
        ]
    return "\n".join(lines) + "\n"


def show(args: argparse.Namespace) -> int:
    """Print the universe in effect: JSON when stdout is not a terminal, else a table."""
    from capgap.market.holdings import cache_dir

    settings: Settings = args.settings
    report = universe_dict(settings, config.universe(settings), cache_dir())
    fmt = output_format(args)
    if fmt == "json":
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    else:
        sys.stdout.write(universe_table(report))
    return EXIT_OK
