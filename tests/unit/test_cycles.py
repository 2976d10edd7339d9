"""The cutting cycles' event study against hand-computed gaps and a plain-Python reference."""

from __future__ import annotations

import random
import statistics
from datetime import date, timedelta

import polars as pl
import pytest
from capgap.analytics.cycles import cycle_study, event_path, index_closes
from capgap.core.cycles import AFTER, BEFORE, HORIZONS
from capgap.core.schemas import DAILY
from capgap.market.cycles import CURRENT_CYCLE, FIRST_CUTS, CurrentCycle, FirstCut

START = date(2000, 1, 3)  # a Monday
ROWS = 1200


def weekdays(count: int) -> list[date]:
    """Return ``count`` weekdays from START (the study needs no exchange calendar)."""
    days: list[date] = []
    day = START
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


DAYS = weekdays(ROWS)


def linear_closes() -> pl.DataFrame:
    """The S&P 500 flat at 100, the Russell 2000 at 100 + row: gap(N) = 100 (N+1) / (99+z).

    With day 0 on row z, the base is row z-1: RUT_N / RUT_base - 1 = (N + 1) / (99 + z).
    """
    return pl.DataFrame(
        {
            "date": DAYS,
            "large": [100.0] * ROWS,
            "small": [100.0 + row for row in range(ROWS)],
        }
    )


def hand(n: int, zero: int) -> float:
    return 100.0 * (n + 1) / (99 + zero)


def test_horizons_hand_computed_with_a_weekend_cut_and_a_recent_cycle() -> None:
    # A: day 0 on row 1 (base row 0). B: a Saturday decision, day 0 the Monday (row 5) and
    # the base the Friday (row 4). C: day 0 on row 1100, too recent for 126 and 252 sessions.
    # D: the current cycle (row 600), resumed on row 900. E: before the history: no base.
    saturday = DAYS[4] + timedelta(days=1)
    assert saturday.weekday() == 5
    cuts = (
        FirstCut(date(1999, 12, 1), "E"),
        FirstCut(DAYS[1], "A"),
        FirstCut(saturday, "B"),
        FirstCut(DAYS[1100], "C"),
        FirstCut(DAYS[600], "D"),
    )
    report = cycle_study(linear_closes(), cuts, CurrentCycle(DAYS[600], DAYS[900]))
    rows = {row.note: row for row in report.cycles}
    assert rows["E"].base is None and rows["E"].after == (None, None, None, None)
    assert rows["A"].base == DAYS[0]
    assert rows["A"].after == pytest.approx((22.0, 64.0, 127.0, 253.0))
    assert rows["B"].base == DAYS[4]
    assert rows["B"].after == pytest.approx([hand(n, 5) for n in HORIZONS])
    assert rows["C"].after[:2] == pytest.approx((hand(21, 1100), hand(63, 1100)))
    assert rows["C"].after[2:] == (None, None)
    assert rows["D"].current and not rows["A"].current
    # The median over A, B and C (D is the current cycle): C only where it has data.
    assert report.median[0] == pytest.approx(hand(21, 5))  # middle of 22, 21.15, 1.83
    assert report.median[1] == pytest.approx(hand(63, 5))
    assert report.median[2] == pytest.approx((127.0 + hand(126, 5)) / 2)
    assert report.median[3] == pytest.approx((253.0 + hand(252, 5)) / 2)
    # The current cycle at the last close (row 1199): 599 sessions after day 0.
    assert report.current is not None and report.resumed is not None
    assert report.current.sessions_since == ROWS - 1 - 600
    assert report.current.gap_pp == pytest.approx(100.0 * 600 / 699)
    assert report.resumed.sessions_since == ROWS - 1 - 900
    assert report.resumed.gap_pp == pytest.approx(100.0 * 300 / 999)
    assert report.as_of == DAYS[-1]


def test_paths_run_from_before_to_after_rebased_at_the_base() -> None:
    cuts = (FirstCut(DAYS[1], "A"), FirstCut(DAYS[300], "B"), FirstCut(DAYS[600], "now"))
    report = cycle_study(linear_closes(), cuts, CurrentCycle(DAYS[600], None))
    by_kind = {(path.kind, path.label): path for path in report.paths}
    full = by_kind[("past", DAYS[300].isoformat())]
    assert full.offsets == tuple(range(-BEFORE, AFTER + 1))
    gaps = dict(zip(full.offsets, full.gaps, strict=True))
    assert gaps[-1] == 0.0
    assert gaps[-BEFORE] == pytest.approx(100.0 * (-59) / 399)  # row 240 against row 299
    assert gaps[AFTER] == pytest.approx(hand(AFTER, 300))
    # A cycle at the start of the history has only its base before day 0.
    assert by_kind[("past", DAYS[1].isoformat())].offsets[0] == -1
    # The median path read at the horizons is the horizons' median, and the current cycle
    # is drawn on its own.
    median = by_kind[("median", "median")]
    at = dict(zip(median.offsets, median.gaps, strict=True))
    assert tuple(at[h] for h in HORIZONS) == pytest.approx(report.median)
    assert ("current", DAYS[600].isoformat()) in by_kind
    assert not any(path.kind == "resumed" for path in report.paths)


def test_gaps_match_a_plain_python_event_study_on_random_closes() -> None:
    rng = random.Random(7)
    large, small = [1000.0], [500.0]
    for _ in range(ROWS - 1):
        shock = rng.gauss(0, 0.01)
        large.append(large[-1] * (1 + shock))
        small.append(small[-1] * (1 + 1.2 * shock + rng.gauss(0, 0.008)))
    closes = pl.DataFrame({"date": DAYS, "large": large, "small": small})
    zeros = (70, 333, 700, 1000)
    cuts = tuple(FirstCut(DAYS[z], str(z)) for z in zeros)
    report = cycle_study(closes, cuts, CurrentCycle(date(2100, 1, 1), None))

    def gap(zero: int, n: int) -> float | None:
        if zero + n >= ROWS:
            return None
        b = zero - 1
        return 100 * (small[zero + n] / small[b] - large[zero + n] / large[b])

    for row, zero in zip(report.cycles, zeros, strict=True):
        expected = [gap(zero, n) for n in HORIZONS]
        assert [v is None for v in row.after] == [v is None for v in expected]
        assert [v for v in row.after if v is not None] == pytest.approx(
            [v for v in expected if v is not None]
        )
    for k, n in enumerate(HORIZONS):
        values = [v for v in (gap(z, n) for z in zeros) if v is not None]
        assert report.median[k] == pytest.approx(statistics.median(values))
    path = event_path(closes, DAYS[333])
    assert path.height == BEFORE + AFTER + 1
    assert path.get_column("gap").to_list() == pytest.approx(
        [100 * (small[r] / small[332] - large[r] / large[332]) for r in range(273, 586)]
    )


def test_index_closes_joins_valid_closes_and_keeps_the_last_of_a_repeated_date() -> None:
    def bar(symbol: str, day: date) -> dict[str, object]:
        return {"symbol": symbol, "date": day, "open": None, "high": None, "low": None}

    rows = [
        {**bar("^GSPC", DAYS[0]), "close": 10.0, "volume": 0.0},
        {**bar("^RUT", DAYS[0]), "close": 5.0, "volume": 0.0},
        {**bar("^GSPC", DAYS[1]), "close": 11.0, "volume": 0.0},
        {**bar("^RUT", DAYS[1]), "close": float("nan"), "volume": 0.0},
        {**bar("^GSPC", DAYS[2]), "close": 12.0, "volume": 0.0},
        {**bar("^RUT", DAYS[2]), "close": 6.0, "volume": 0.0},
        {**bar("^RUT", DAYS[2]), "close": 6.5, "volume": 0.0},
        {**bar("^RUT", DAYS[3]), "close": 7.0, "volume": 0.0},
    ]
    closes = index_closes(pl.DataFrame(rows, schema=DAILY))
    assert closes.to_dicts() == [
        {"date": DAYS[0], "large": 10.0, "small": 5.0},
        {"date": DAYS[2], "large": 12.0, "small": 6.5},
    ]


def test_no_history_gives_an_empty_study() -> None:
    empty = linear_closes().clear()
    report = cycle_study(empty)
    assert report.as_of is None and report.paths == ()
    assert report.median == (None, None, None, None)
    assert report.current is not None and report.current.sessions_since is None


def test_the_declared_cycles() -> None:
    # The dates of market-facts "Easing cycles", oldest first; the current one among them.
    assert [cut.day.isoformat() for cut in FIRST_CUTS] == [
        "1995-07-06", "1998-09-29", "2001-01-03", "2007-09-18", "2019-07-31", "2024-09-18",
    ]  # fmt: skip
    assert CURRENT_CYCLE.first_cut == FIRST_CUTS[-1].day
    assert CURRENT_CYCLE.resumed == date(2025, 9, 17)
    assert all(cut.source for cut in FIRST_CUTS)
