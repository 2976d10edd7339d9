"""The one-line tmux status of `capgap snapshot --format tmux`, checked against hand-made lines."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import pytest
from builders import blank_quote, sparse_snapshot
from capgap.cli.report import format_tmux
from capgap.core import records
from capgap.core.format import compact_countdown, fmt_signed, index_label
from capgap.core.market_types import FomcDecision
from capgap.core.snapshot import (
    FeedStatus,
    Snapshot,
)
from capgap.market.fomc import next_decision, recent_decision
from hypothesis import given, settings
from hypothesis import strategies as st

# Fri 5 Dec 2025 11:00 New York; the next statement is Wed 10 Dec 14:00 EST (19:00 UTC).
AS_OF = datetime(2025, 12, 5, 16, 0, tzinfo=UTC)
DEC_10 = FomcDecision(date(2025, 12, 10), datetime(2025, 12, 10, 19, 0, tzinfo=UTC), 0, False)
JAN_28 = FomcDecision(date(2026, 1, 28), datetime(2026, 1, 28, 19, 0, tzinfo=UTC), 0, False)


def snap(
    as_of: datetime = AS_OF,
    *,
    large: tuple[str, float | None] = ("^GSPC", 0.1937),
    small: tuple[str, float | None] = ("^RUT", -0.3824),
    gap: float | None = -0.5761,
    demo: bool = False,
    feeds: tuple[FeedStatus, ...] = (),
    decision: FomcDecision | None = DEC_10,
    last: FomcDecision | None = None,
) -> Snapshot:
    """Build a snapshot with the figures the tmux line shows."""
    return sparse_snapshot(
        as_of,
        large=blank_quote(large[0], change_pct=large[1]),
        small=blank_quote(small[0], change_pct=small[1]),
        gap=gap,
        demo=demo,
        feeds=feeds,
        decision=decision,
        last_decision=last,
    )


def feed(state: str = "ok", *, stale: bool = False) -> FeedStatus:
    return FeedStatus("yahoo", state, AS_OF, 1.0, None, stale=stale)  # type: ignore[arg-type]


def test_the_basic_line():
    # 10 Dec 19:00 - 5 Dec 16:00 UTC = 5 days 3 hours.
    assert format_tmux(snap()) == "SPX +0.19% RUT -0.38% gap -0.58pp FOMC 5d03h"


def test_demo_data_says_so_first():
    assert format_tmux(snap(demo=True)) == "DEMO SPX +0.19% RUT -0.38% gap -0.58pp FOMC 5d03h"


@pytest.mark.parametrize(
    ("feeds", "suffix"),
    [
        ((feed("ok"),), ""),
        ((feed("degraded"),), ""),
        ((feed("ok", stale=True),), " stale"),
        ((feed("down"),), " stale"),
        ((feed("ok"), feed("down", stale=True)), " stale"),
        ((), ""),
    ],
)
def test_a_stale_or_down_feed_marks_the_line(feeds, suffix):
    assert format_tmux(snap(feeds=feeds)) == "SPX +0.19% RUT -0.38% gap -0.58pp FOMC 5d03h" + suffix


def test_missing_figures_show_n_a():
    line = format_tmux(snap(small=("^RUT", None), gap=None, decision=None))
    assert line == "SPX +0.19% RUT n/a gap n/a FOMC n/a"
    assert format_tmux(snap(large=("^GSPC", float("nan")))).startswith("SPX n/a RUT")


def test_other_symbols_keep_their_names_cut_to_four_characters():
    # Four: with DEMO, 100+ days to the FOMC and "stale", five would make 61 columns.
    line = format_tmux(snap(large=("SPY", 0.2), small=("IWMXYZW", -0.1)))
    assert line == "SPY +0.20% IWMX -0.10% gap -0.58pp FOMC 5d03h"
    assert (index_label("^GSPC"), index_label("^RUT"), index_label("^NDX")) == (
        "SPX",
        "RUT",
        "^NDX",
    )


def test_signs_and_decimals():
    # No sign on a figure that shows as zero; fewer decimals as a figure grows.
    line = format_tmux(snap(large=("^GSPC", -0.004), small=("^RUT", 12.345), gap=-123.4))
    assert line == "SPX 0.00% RUT +12.3% gap -123pp FOMC 5d03h"
    assert [fmt_signed(v) for v in (0.19, -0.575, 0.0, -0.0, None)] == [
        "+0.19",
        "-0.57",  # -0.575 is -0.57499... in binary
        "0.00",
        "0.00",
        "n/a",
    ]
    assert fmt_signed(9.996, 2, "%") == "+10.00%"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (4 * 86_400 + 22 * 3_600 + 59 * 60 + 59, "4d22h"),
        (2 * 86_400 + 5 * 3_600, "2d05h"),
        (86_400, "1d00h"),
        (86_399, "23h59m"),
        (5 * 3_600 + 12 * 60, "5h12m"),
        (3_600 + 2 * 60, "1h02m"),
        (3_600, "1h00m"),
        (3_599, "59m"),
        (38 * 60 + 30, "38m"),
        (60, "1m"),
        (59, "<1m"),
        (0, "<1m"),
        (-30, "<1m"),
    ],
)
def test_compact_countdown_across_unit_boundaries(seconds, text):
    assert compact_countdown(seconds) == text


@pytest.mark.parametrize(
    ("before", "text"),
    [
        (timedelta(days=1), "1d00h"),
        (timedelta(days=1) - timedelta(seconds=1), "23h59m"),
        (timedelta(hours=1), "1h00m"),
        (timedelta(minutes=59, seconds=59), "59m"),
        (timedelta(minutes=38), "38m"),
        (timedelta(seconds=20), "<1m"),
        (timedelta(0), "<1m"),
    ],
)
def test_the_fomc_countdown_moves_with_the_snapshot_time(before, text):
    line = format_tmux(snap(DEC_10.statement_at - before))
    assert line == f"SPX +0.19% RUT -0.38% gap -0.58pp FOMC {text}"


def test_fomc_out_on_the_day_of_the_decision_only():
    def fomc(as_of: datetime) -> str:
        # Built with the library's schedule: the last decision is kept while it is the nearer one.
        return format_tmux(
            snap(as_of, decision=next_decision(as_of), last=recent_decision(as_of))
        ).split(" FOMC ")[1]

    assert fomc(datetime(2025, 12, 10, 18, 59, tzinfo=UTC)) == "1m"
    assert fomc(datetime(2025, 12, 10, 19, 30, tzinfo=UTC)) == "out"
    # 8 pm in New York is already the 11th in UTC: still the decision's day.
    assert fomc(datetime(2025, 12, 11, 1, 0, tzinfo=UTC)) == "out"
    # The next morning counts down to 28 Jan 2026 14:00 EST: 48 days 4 hours from 15:00 UTC.
    assert recent_decision(datetime(2025, 12, 11, 15, 0, tzinfo=UTC)) is not None
    assert fomc(datetime(2025, 12, 11, 15, 0, tzinfo=UTC)) == "48d04h"
    # The same with hand-made decisions.
    at = datetime(2025, 12, 10, 20, 0, tzinfo=UTC)
    assert format_tmux(snap(at, decision=JAN_28, last=DEC_10)).endswith("FOMC out")


def test_the_line_is_ascii_without_a_newline():
    line = format_tmux(snap(demo=True, feeds=(feed("down"),), small=("^RUT", None)))
    assert line.isascii() and "\n" not in line


_figures = st.one_of(st.none(), st.floats(-999.0, 999.0, allow_nan=False))


@settings(max_examples=300, deadline=None)
@given(
    large=st.tuples(st.text("ABCDEFGHIJ^.=", min_size=1, max_size=10), _figures),
    small=st.tuples(st.text("ABCDEFGHIJ^.=", min_size=1, max_size=10), _figures),
    gap=_figures,
    left=st.integers(0, 999 * 86_400),
    demo=st.booleans(),
    down=st.booleans(),
)
def test_the_line_fits_60_columns(large, small, gap, left, demo, down):
    decision = records.replace(DEC_10, statement_at=AS_OF + timedelta(seconds=left))
    feeds = (feed("down"),) if down else ()
    line = format_tmux(
        snap(large=large, small=small, gap=gap, demo=demo, feeds=feeds, decision=decision)
    )
    assert len(line) <= 60, line
    assert line.isascii()


def test_the_longest_realistic_line_is_within_60():
    line = format_tmux(
        snap(
            large=("^GSPC", -12.34),
            small=("^RUT", -15.67),
            gap=-3.33,
            demo=True,
            feeds=(feed("down"),),
            decision=records.replace(DEC_10, statement_at=AS_OF + timedelta(days=48)),
        )
    )
    assert line == "DEMO SPX -12.3% RUT -15.7% gap -3.33pp FOMC 48d00h stale"
    assert len(line) == 56


def _capgap(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "capgap", *args], capture_output=True, text=True, timeout=120
    )


def test_the_cli_prints_the_line_of_the_sample_session():
    tmux = _capgap("snapshot", "--demo", "--at", "14:00", "--format", "tmux")
    assert tmux.returncode == 0, tmux.stderr
    data = json.loads(_capgap("snapshot", "--demo", "--at", "14:00", "--format", "json").stdout)
    spread = data["spread"]
    # Hand-made from the JSON figures: 5 Dec 14:00 to 10 Dec 14:00 is five days.
    expected = (
        f"DEMO SPX {spread['large']['change_pct']:+.2f}% "
        f"RUT {spread['small']['change_pct']:+.2f}% "
        f"gap {spread['relative_pp']['1d']:+.2f}pp FOMC 5d00h"
    )
    assert tmux.stdout.strip() == expected


async def test_the_sample_session_at_the_close_gives_the_documented_line():
    from capgap.core.clock import ManualClock
    from capgap.core.market_types import NEW_YORK
    from capgap.engine.sources import demo_engine

    engine = demo_engine(ManualClock(datetime(2025, 12, 5, 16, 0, tzinfo=NEW_YORK)))
    try:
        snapshot = await engine.refresh()
    finally:
        await engine.aclose()
    # The published closes: SPX 6857.12 -> 6870.40 (+0.19 %), RUT 2531.16 -> 2521.48 (-0.38 %);
    # the gap is -0.38 - 0.19 = -0.58 pp (unrounded); 16:00 to 10 Dec 14:00 is 4 days 22 hours.
    spx = (6870.40 / 6857.12 - 1) * 100
    rut = (2521.48 / 2531.16 - 1) * 100
    expected = f"DEMO SPX {spx:+.2f}% RUT {rut:+.2f}% gap {rut - spx:+.2f}pp FOMC 4d22h"
    assert expected == "DEMO SPX +0.19% RUT -0.38% gap -0.58pp FOMC 4d22h"
    assert format_tmux(snapshot) == expected


@pytest.mark.parametrize(
    ("value", "figure"),
    [
        (0.1937, "+0.19%"),
        (9.994, "+9.99%"),
        (9.996, "+10.0%"),  # rounds to 10.00: one decimal less, as 10.004 gets
        (-9.996, "-10.0%"),
        (12.345, "+12.3%"),
        (99.96, "+100%"),  # rounds to 100.0: no decimal, as 100.04 gets
        (-123.4, "-123%"),
        (-0.004, "0.00%"),
    ],
)
def test_the_screen_and_the_tmux_line_write_a_change_alike(value, figure):
    # The spread panel and the tmux line show an index's change at the precision its size
    # allows; the size is that of the figure as rounded, so 9.996 is "+10.0" on both.
    from capgap.ui.format import fit_decimals as screen_decimals
    from capgap.ui.format import fmt_signed as screen_signed

    line = format_tmux(snap(large=("^GSPC", value)))
    assert line.split(" ")[1] == figure
    assert screen_signed(value, screen_decimals(value), "%") == figure
