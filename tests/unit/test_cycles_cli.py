"""`capgap cycles --demo`: the study of the sample's synthetic history, as a table and as JSON."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
from capgap.cli.main import main

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


def closes(symbol: str) -> dict[date, float]:
    """The sample's closes of ``symbol``: the long history, then the sample year."""
    long = pl.read_parquet(SAMPLE / "long_history.parquet").filter(pl.col("symbol") == symbol)
    year = pl.read_parquet(SAMPLE / "daily.parquet").filter(pl.col("symbol") == symbol)
    both = dict(zip(long["date"].to_list(), long["close"].to_list(), strict=True))
    both.update(zip(year["date"].to_list(), year["close"].to_list(), strict=True))
    return both


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["cycles", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_demo_json_matches_a_plain_python_event_study(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--demo", "--format", "json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert data["demo"] is True
    assert data["as_of"] == "2025-12-04"  # the sample's last daily close
    spx, rut = closes("^GSPC"), closes("^RUT")
    days = sorted(spx.keys() & rut.keys())

    def gap(cut: date, n: int) -> float:
        zero = next(i for i, day in enumerate(days) if day >= cut)
        base, end = days[zero - 1], days[zero + n]
        return 100 * (rut[end] / rut[base] - spx[end] / spx[base])

    rows = {row["first_cut"]: row for row in data["cycles"]}
    assert list(rows) == [
        "1995-07-06", "1998-09-29", "2001-01-03", "2007-09-18", "2019-07-31", "2024-09-18",
    ]  # fmt: skip
    for cut in ("1995-07-06", "2007-09-18"):
        for n in (21, 63, 126, 252):
            assert rows[cut]["after"][str(n)] == round(gap(date.fromisoformat(cut), n), 2)
    assert rows["2001-01-03"]["base"] == "2001-01-02"
    assert rows["2024-09-18"]["current"] is True
    current = data["current"]
    assert current["first_cut"] == "2024-09-18"
    zero = days.index(date(2024, 9, 18))
    assert current["sessions_since"] == len(days) - 1 - zero
    last, base = days[-1], days[zero - 1]
    assert current["gap_pp"] == round(100 * (rut[last] / rut[base] - spx[last] / spx[base]), 2)
    assert current["resumed"]["date"] == "2025-09-17"
    assert set(data["median"]) == {"21", "63", "126", "252"}


def test_demo_table_is_labelled_and_lists_every_cycle(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--demo", "--format", "table")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("DEMO")
    assert any(line.startswith("2024-09-18*") for line in lines)
    assert any(line.startswith("median") for line in lines)
    assert any("since it resumed 2025-09-17" in line for line in lines)
    assert max(len(line) for line in lines) <= 100


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--demo", "--at", "10:00"), "--at"),
        (("--source", "finnhub"), "finnhub"),
        (("--format", "tmux"), "--format"),
        (("--bogus",), "--bogus"),
    ],
)
def test_bad_flags_get_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], needle: str
) -> None:
    try:
        code = main(["cycles", *args])
    except SystemExit as exit:  # argparse's own refusals exit from inside main
        code = int(exit.code or 0)
    out, err = capsys.readouterr()
    assert code == 2
    assert out == "" and err.count("\n") == 1 and needle in err


async def test_the_demo_starts_without_the_long_history(tmp_path: Path) -> None:
    # The sample without long_history.parquet: the demo's session (members' history included)
    # still plays, so nothing on its start-up path reads the long history; only the cycles do.
    from capgap.core.clock import ManualClock
    from capgap.core.cycles import HistoryUnavailable
    from capgap.core.market_types import NEW_YORK
    from capgap.engine.cycles import load_cycles
    from capgap.engine.sources import demo_engine

    for path in SAMPLE.iterdir():
        if path.name != "long_history.parquet":
            (tmp_path / path.name).symlink_to(path)
    clock = ManualClock(datetime(2025, 12, 5, 11, 0, tzinfo=NEW_YORK))
    engine = demo_engine(clock, folder=tmp_path)
    try:
        snapshot = await engine.refresh_with_history()
    finally:
        await engine.aclose()
    assert snapshot.demo and snapshot.spread.relative_pp.d1 is not None
    with pytest.raises(HistoryUnavailable, match=r"long_history\.parquet"):
        await load_cycles(demo=True, clock=clock, sample=tmp_path)


def test_an_old_history_is_said_in_the_table_and_the_json() -> None:
    # What load_cycles gives when Yahoo failed and yesterday's history stood in.
    from capgap.cli.cycles import render_json, render_table
    from capgap.core.cycles import CyclesReport
    from capgap.core.records import replace

    report = CyclesReport((), (None,) * 4, None, None, (), date(2025, 12, 4), demo=False)
    note = "^GSPC: Yahoo chart: HTTP 503; the history kept on disk, through 2025-12-04"
    old = replace(report, stale=note)
    assert "Not current" not in render_table(report)
    assert f"Not current: {note}." in " ".join(render_table(old).split())
    assert json.loads(render_json(report))["stale"] is None
    assert json.loads(render_json(old))["stale"] == note
