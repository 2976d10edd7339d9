"""The sector screen's table on the largest sector: sort, filter and a tick, against a rebuild.

A SectorDetail of 483 members (the size of the Russell 2000's and the S&P 500's Financials
together) is built by the app tests' builder and shown in a ConstituentsTable, 120x40,
headless. Each operation is timed with the repaint of the rows on screen it causes:
- sort: `s` (the next column of the cycle);
- filter: typing one character of the filter ("1": about a fifth of the rows stay), then
  clearing it (all rows back);
- tick: a new snapshot in which a tenth of the members moved.
The reference, measured the same way in the same run, is a plain DataTable that rebuilds
itself for each operation (clear, then every row added in the wanted order): what a table
without keyed updates costs. Budget: each operation median <= 100 ms (instant to a person;
most of it is repainting the ~38 visible rows, which every sort must do) and no slower than
the reference.

Run: python bench/sector_table.py [--runs 30]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from capgap.core.records import replace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "app"))

from app_support import make_sector_detail  # noqa: E402
from capgap.core.snapshot import ConstituentRow  # noqa: E402
from capgap.ui.widgets.constituents_table import ConstituentsTable, matches  # noqa: E402
from textual.app import App, ComposeResult  # noqa: E402
from textual.widgets import DataTable  # noqa: E402

MEMBERS = 483
BUDGET_MS = 100.0
FILTER = "1"


class Bench(App[None]):
    """The table under test beside the reference table (one shown at a time)."""

    def compose(self) -> ComposeResult:
        """The keyed table and the plain one."""
        yield ConstituentsTable(id="keyed")
        yield DataTable(id="plain")


def moved(rows: tuple[ConstituentRow, ...], step: int) -> tuple[ConstituentRow, ...]:
    """Return ``rows`` with every tenth member's change moved (a tick's worth)."""
    return tuple(
        replace(row, change_pct=(row.change_pct or 0.0) + 0.01 * step)
        if index % 10 == step % 10
        else row
        for index, row in enumerate(rows)
    )


def plain_cells(row: ConstituentRow) -> tuple[str, ...]:
    """Return the reference table's cells (formatted as plainly as possible)."""
    return (
        row.symbol,
        row.name,
        row.bucket or "",
        f"{row.last or 0.0:.2f}",
        f"{row.change_pct or 0.0:+.2f}",
        f"{row.weight_pct or 0.0:.2f}",
        f"{row.contribution_pp or 0.0:+.3f}",
        f"{row.forward_pe or 0.0:.1f}",
        f"{row.above_50d}{row.above_200d}",
        f"{row.vs_etf_pp or 0.0:+.2f}",
    )


def rebuild(table: DataTable[Any], rows: list[ConstituentRow]) -> None:
    """Rebuild the reference table: clear it and add every row."""
    table.clear()
    table.add_rows([plain_cells(row) for row in rows])


def timed(action: Callable[[], None], table: DataTable[Any]) -> float:
    """Run ``action`` and render the table's visible rows; return the milliseconds taken."""
    start = time.perf_counter()
    action()
    table.render_lines(table.region.reset_offset)
    return (time.perf_counter() - start) * 1000.0


async def measure(runs: int) -> dict[str, tuple[list[float], list[float]]]:
    """Return each operation's timings for the keyed table and the reference."""
    detail = make_sector_detail("Financials", MEMBERS)
    rows = detail.constituents
    by_change = sorted(rows, key=lambda r: (r.change_pct is None, -(r.change_pct or 0.0)))
    app = Bench()
    results: dict[str, tuple[list[float], list[float]]] = {
        name: ([], []) for name in ("sort", "filter", "tick")
    }
    async with app.run_test(size=(120, 40)) as pilot:
        keyed = app.query_one(ConstituentsTable)
        plain: DataTable[Any] = app.query_one("#plain", DataTable)
        plain.add_columns(*(label for _key, label, _w, _r in ConstituentsTable.COLUMNS))
        plain.display = False
        keyed.apply(rows)
        await pilot.pause()
        assert keyed.row_count == MEMBERS
        current = rows
        for run in range(runs):
            keyed_ms, plain_ms = results["sort"]
            keyed_ms.append(timed(keyed.cycle_sort, keyed))
            keyed_f, plain_f = results["filter"]
            keyed_f.append(timed(lambda: keyed.set_filter(FILTER), keyed))
            assert keyed.row_count == sum(matches(row, FILTER) for row in rows)
            keyed_f.append(timed(lambda: keyed.set_filter(""), keyed))
            assert keyed.row_count == MEMBERS
            keyed_t, plain_t = results["tick"]
            current = moved(current, run)
            keyed_t.append(timed(partial(keyed.apply, current), keyed))
            await pilot.pause()
            # The reference, shown in the keyed table's place.
            keyed.display, plain.display = False, True
            await pilot.pause()
            order = list(reversed(by_change)) if run % 2 else by_change
            plain_ms.append(timed(partial(rebuild, plain, order), plain))
            filtered = [row for row in by_change if matches(row, FILTER)]
            plain_f.append(timed(partial(rebuild, plain, filtered), plain))
            plain_f.append(timed(lambda: rebuild(plain, by_change), plain))
            plain_t.append(timed(lambda: rebuild(plain, by_change), plain))
            keyed.display, plain.display = True, False
            await pilot.pause()
    return results


def main() -> int:
    """Measure, print the medians and ratios, and say whether the budget holds."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    results = asyncio.run(measure(args.runs))
    verdict = "PASS"
    print(f"sector table, {MEMBERS} members, 120x40, {args.runs} runs (median per operation)")
    for name, (keyed_ms, plain_ms) in results.items():
        keyed_median = statistics.median(keyed_ms)
        plain_median = statistics.median(plain_ms)
        ratio = plain_median / keyed_median
        print(
            f"{name:<7} keyed {keyed_median:7.2f} ms   DataTable rebuild {plain_median:7.2f} ms"
            f"   ratio rebuild/keyed {ratio:5.1f}x"
        )
        if keyed_median > BUDGET_MS or ratio < 1.0:
            verdict = "MISS"
    print(f"{verdict}: budget median <= {BUDGET_MS:g} ms per operation, no slower than a rebuild")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
