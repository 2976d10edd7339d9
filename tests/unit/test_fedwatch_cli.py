"""`capgap fedwatch` reproduces CME's worked examples and refuses bad input in one line."""

from __future__ import annotations

import json

import pytest
from capgap.cli.main import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        code = main(["fedwatch", *args])
    except SystemExit as exit_:  # argparse errors
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_worked_example_a_as_json(capsys):
    code, out, _ = run(
        capsys, "--futures", "2015-08=99.8675,2015-09=99.805", "--meetings", "2015-09-17",
        "--format", "json",
    )  # fmt: skip
    assert code == 0
    (meeting,) = json.loads(out)["meetings"]
    assert set(meeting) == {
        "date", "start_rate", "end_rate", "expected_change_bp", "outcomes", "cumulative", "anchor",
    }  # fmt: skip
    assert meeting["anchor"] == "previous_month"
    assert meeting["date"] == "2015-09-17"
    assert meeting["start_rate"] == pytest.approx(0.1325)
    # end = 30/14 * (0.195 - 16/30 * 0.1325) = 0.26643
    assert meeting["end_rate"] == pytest.approx(0.26643, abs=1e-5)
    outcomes = {o["change_bp"]: o["probability_pct"] for o in meeting["outcomes"]}
    assert outcomes == pytest.approx({0: 46.4, 25: 53.6}, abs=0.05)
    assert meeting["cumulative"] == meeting["outcomes"]


def test_two_meetings_with_a_range_give_cut_hold_hike(capsys):
    # Dec 2025 (meeting on the 10th, N=31, M=9) after a meeting-free Nov at the EFFR 3.89:
    # an 87 % chance of a 25 bp cut means end = 3.89 - 0.87 * 0.25 = 3.6725, and
    # avg(Dec) = 9/31 * 3.89 + 22/31 * 3.6725.
    dec_avg = 9 / 31 * 3.89 + 22 / 31 * 3.6725
    futures = f"2025-11={100 - 3.89},2025-12={100 - dec_avg},2026-01={100 - 3.6725}"
    code, out, _ = run(capsys, "--futures", futures, "--range", "3.75-4.00", "--format", "json")
    assert code == 0
    december, january = json.loads(out)["meetings"]  # the scheduled decisions in quoted months
    assert (december["date"], january["date"]) == ("2025-12-10", "2026-01-28")
    # January's average equals December's end rate: no move priced at the January meeting,
    # so the totals by January are December's.
    assert january["outcomes"] == [{"change_bp": 0, "probability_pct": 100.0}]
    assert january["cut_pct"] == pytest.approx(87.0, abs=0.01)
    assert december["cut_pct"] == pytest.approx(87.0, abs=0.01)
    assert december["hold_pct"] == pytest.approx(13.0, abs=0.01)
    assert december["target_ranges"] == [
        {"target_range": [3.5, 3.75], "probability_pct": pytest.approx(87.0, abs=0.01)},
        {"target_range": [3.75, 4.0], "probability_pct": pytest.approx(13.0, abs=0.01)},
    ]


def test_table_format(capsys):
    code, out, _ = run(
        capsys, "--futures", "2015-08=99.8675,2015-09=99.805", "--meetings", "2015-09-17",
        "--format", "table",
    )  # fmt: skip
    assert code == 0
    assert "+25 bp 53.6%" in out and "+0 bp 46.4%" in out


@pytest.mark.parametrize(
    ("futures", "meetings", "needle"),
    [
        ("2015-13=99.8", "2015-09-17", "13 is not a month"),
        ("2015-08=99.8675,2015-09=100.5", "2015-09-17", "(0, 100]"),
        ("2015-08=abc", "2015-09-17", "not a number"),
        ("2015-08=99.8675", "2015-09-17", "no ZQ contract for Sep 2015"),
        ("2015-08=99.8675,2015-09=99.805", "2015-09-31", "not a date"),
        ("2015-08=99.8675,2015-09=99.805", None, "give --meetings"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, futures, meetings, needle):
    args = ["--futures", futures] + (["--meetings", meetings] if meetings else [])
    code, out, err = run(capsys, *args)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and needle in err


def test_the_april_meeting_is_priced_from_may_not_from_the_effr(capsys):
    # Issue 13's command: a 1 bp gap between the EFFR (3.64) and the futures once read as 80 %.
    code, out, _ = run(
        capsys, "--futures", "2026-04=96.373333,2026-05=96.42", "--meetings", "2026-04-29",
        "--effr", "3.64", "--range", "3.50-3.75", "--format", "json",
    )  # fmt: skip
    assert code == 0
    (meeting,) = json.loads(out)["meetings"]
    assert meeting["start_rate"] == pytest.approx(3.63, abs=1e-5)
    assert meeting["end_rate"] == pytest.approx(3.58, abs=1e-9)
    assert meeting["cut_pct"] == pytest.approx(20.0, abs=0.01)
    assert meeting["hold_pct"] == pytest.approx(80.0, abs=0.01)
