"""`capgap calendar`: the session, the next decision and coming events, at a given instant."""

from __future__ import annotations

import json

import pytest
from capgap.cli.main import main


def calendar(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    assert main(["calendar", *args, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_on_thanksgiving_the_market_is_closed_and_the_early_close_is_next(capsys):
    data = calendar(capsys, "--at", "2025-11-27T12:00", "--days", "30")
    assert data["market"] == {
        "state": "holiday",
        "holiday": "Thanksgiving Day",
        "early_close": False,
        "next_open": "2025-11-28T14:30:00+00:00",
        "next_close": "2025-11-28T18:00:00+00:00",  # 13:00 New York
    }
    decision = data["fed"]["next_decision"]
    assert decision["date"] == "2025-12-10" and decision["sep"] is True
    # Thu 12:00 to Wed 10 Dec 14:00 New York: 13 days 2 hours.
    assert decision["seconds_until"] == 13 * 86_400 + 2 * 3_600
    assert [(e["date"], e["kind"]) for e in data["upcoming"]] == [
        ("2025-11-27", "holiday"),
        ("2025-11-28", "early_close"),
        ("2025-12-10", "fomc"),
        ("2025-12-24", "early_close"),
        ("2025-12-25", "holiday"),
    ]
    assert data["upcoming"][3]["at"] == "2025-12-24T18:00:00+00:00"


def test_on_an_early_close_day_the_session_says_so(capsys):
    data = calendar(capsys, "--at", "2026-11-27T10:00-05:00", "--days", "1")
    assert data["market"]["state"] == "open"
    assert data["market"]["early_close"] is True
    assert data["market"]["next_close"] == "2026-11-27T18:00:00+00:00"


def test_summer_statement_time_is_1800_utc(capsys):
    data = calendar(capsys, "--at", "2026-07-01T09:00", "--days", "60")
    fomc = [e for e in data["upcoming"] if e["kind"] == "fomc"]
    assert fomc == [
        {
            "date": "2026-07-29",
            "kind": "fomc",
            "name": "FOMC decision",
            "at": "2026-07-29T18:00:00+00:00",
            "sep": False,
        }
    ]
    assert data["upcoming"][0] == {
        "date": "2026-07-03",
        "kind": "holiday",
        "name": "Independence Day (observed)",
        "at": None,
    }


def test_table_format(capsys):
    assert main(["calendar", "--at", "2025-12-24T09:00", "--format", "table"]) == 0
    out = capsys.readouterr().out
    assert "Christmas Eve 13:00 ET" in out and "next FOMC" in out


@pytest.mark.parametrize("argv", [["--at", "yesterday"], ["--days", "0"], ["--format", "csv"]])
def test_bad_calendar_flags_exit_2(argv, capsys):
    code: object = None
    try:
        code = main(["calendar", *argv])
    except SystemExit as exit_:
        code = exit_.code
    assert code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
