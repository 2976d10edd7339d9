"""`capgap snapshot` end to end on the sample session, and one-line errors for bad flags."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from capgap.cli.main import main

# Published closes (market-facts notes) the sample session is calibrated to.
SPX_2024_12_31, SPX_2025_12_04, SPX_2025_12_05 = 5881.63, 6857.12, 6870.40
RUT_2024_12_31, RUT_2025_12_04, RUT_2025_12_05 = 2230.16, 2531.16, 2521.48
GICS_SECTORS = {
    "Information Technology", "Financials", "Industrials", "Materials", "Energy",
    "Consumer Discretionary", "Communication Services", "Real Estate", "Consumer Staples",
    "Health Care", "Utilities",
}  # fmt: skip


def snapshot_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    assert main(["snapshot", "--demo", *args, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_snapshot_at_the_close_matches_the_published_closes(capsys):
    snap = snapshot_json(capsys, "--at", "16:00")
    assert snap["as_of"] == "2025-12-05T21:00:00+00:00"
    assert snap["source"] == "demo" and snap["demo"] is True
    large, small = snap["spread"]["large"], snap["spread"]["small"]
    assert (large["symbol"], large["last"]) == ("^GSPC", SPX_2025_12_05)
    assert (small["symbol"], small["last"]) == ("^RUT", RUT_2025_12_05)
    assert large["change_pct"] == pytest.approx(
        (SPX_2025_12_05 / SPX_2025_12_04 - 1) * 100, abs=1e-3
    )
    assert small["change_pct"] == pytest.approx(
        (RUT_2025_12_05 / RUT_2025_12_04 - 1) * 100, abs=1e-3
    )
    assert round(large["change_pct"], 2) == 0.19 and round(small["change_pct"], 2) == -0.38
    rel = snap["spread"]["relative_pp"]
    ytd = ((RUT_2025_12_05 / RUT_2024_12_31) - (SPX_2025_12_05 / SPX_2024_12_31)) * 100
    assert rel["ytd"] == pytest.approx(ytd, abs=1e-3)  # about -3.7 pp
    assert rel["1d"] == pytest.approx(small["change_pct"] - large["change_pct"], abs=1e-3)
    assert set(rel) == {"1d", "5d", "1m", "3m", "ytd", "1y"}
    assert snap["spread"]["ratio"] == pytest.approx(RUT_2025_12_05 / SPX_2025_12_05, abs=1e-6)
    assert 1.1 <= snap["spread"]["beta_60d"] <= 1.3
    assert 0.8 <= snap["spread"]["corr_60d"] <= 0.9
    valuation = snap["spread"]["valuation"]
    # Bottom-up from the sample's members, calibrated to the published aggregates: the S&P 500
    # near 23x forward earnings, small caps about 20 % cheaper on the same method.
    large_pe, small_pe = valuation["large_forward_pe"], valuation["small_forward_pe"]
    assert 22.0 <= large_pe <= 24.0 and 17.0 <= small_pe <= 20.0
    assert valuation["small_discount_pct"] == pytest.approx(
        (1 - small_pe / large_pe) * 100, abs=0.05
    )
    assert 18.0 <= valuation["small_discount_pct"] <= 22.0
    assert valuation["small_unprofitable_pct"] > 30 > 10 > valuation["large_unprofitable_pct"]
    assert valuation["source"] == "demo"
    assert {row["sector"] for row in snap["sectors"]} == GICS_SECTORS
    for row in snap["sectors"]:
        assert row["spread_pp"] == pytest.approx(
            row["small"]["change_pct"] - row["large"]["change_pct"], abs=1e-3
        )
        assert 0 <= row["breadth_pct"] <= 100
        assert len(row["leaders"]) == 3 and len(row["laggards"]) == 3
        # The small side's S&P 600 funds stay as a reference where one exists.
        no_fund = row["sector"] in {"Communication Services", "Real Estate"}
        assert (row["small"]["etf_symbol"] is None) is no_fund
        assert row["large"]["members"] > 0 and row["small"]["members"] > 0
    style = snap["style"]
    assert set(style) == {"large_value_minus_growth_pp", "small_value_minus_growth_pp"}
    fed = snap["fed"]
    assert fed["next_decision"] == {
        "date": "2025-12-10",
        "statement_at": "2025-12-10T19:00:00+00:00",
        "seconds_until": 4 * 86_400 + 22 * 3_600,  # Fri 16:00 to Wed 14:00
        "sep": True,
    }
    assert fed["target_range"] == [3.75, 4.0]
    market = snap["market"]
    assert market["state"] == "post"
    assert market["next_open"] == "2025-12-08T14:30:00+00:00"
    assert snap["feeds"][0]["name"] == "demo" and snap["feeds"][0]["state"] == "ok"


def test_snapshot_before_the_open_shows_the_previous_close(capsys):
    snap = snapshot_json(capsys, "--at", "2025-12-05T09:00:00-05:00")
    assert snap["market"]["state"] == "pre"
    assert snap["spread"]["large"]["last"] == SPX_2025_12_04
    assert snap["spread"]["large"]["change_pct"] == 0


def test_table_format_is_labelled_demo(capsys):
    assert main(["snapshot", "--demo", "--at", "11:00", "--format", "table"]) == 0
    out = capsys.readouterr().out
    assert "DEMO" in out and "S&P 500" in out and "Information Technology" in out


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["snapshot", "--demo", "--at", "25:99"], "--at"),
        (["snapshot", "--demo", "--at", "2025-12-06T12:00"], "outside the sample session"),
        (["--demo", "--speed", "0"], "--speed"),
        (["--demo", "--speed", "fast"], "--speed"),
        (["snapshot", "--demo", "--format", "xml"], "--format"),
        (["snapshot", "--at", "10:00"], "--at replays the sample session"),
        (["--at", "10:00"], "--at replays the sample session"),
        (["--source", "stooq"], "--source"),
        (["--bogus"], "unrecognized"),
    ],
)
def test_bad_flags_get_one_line_and_exit_2(argv, needle):
    result = subprocess.run(
        [sys.executable, "-m", "capgap", *argv], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert needle in lines[0] and "Traceback" not in result.stderr


def test_snapshot_fed_odds_at_the_close(capsys):
    snap = snapshot_json(capsys, "--at", "2025-12-05T16:00:00-05:00")
    fed = snap["fed"]
    assert fed["effr"] == 3.89
    assert fed["futures_source"] == "sample ZQ"
    first = fed["probabilities"][0]
    assert set(first) == {
        "meeting", "cut_pct", "hold_pct", "hike_pct", "outcomes", "implied_rate",
        "start_rate", "anchor", "move_bp", "total_bp", "history",
    }  # fmt: skip
    # The sample's ZQ closes reach back three months: each horizon has its session.
    assert {h: first["history"][h]["date"] for h in ("1d", "1w", "1m")} == {
        "1d": "2025-12-04",
        "1w": "2025-11-28",
        "1m": "2025-11-05",
    }
    assert len(fed["cut_odds_history"]) == 64 and fed["history_note"] is None
    # November has no meeting and is quoted; January holds one: November gives the start.
    assert first["anchor"] == "previous_month"
    assert first["start_rate"] == 3.89
    assert first["meeting"] == "2025-12-10"
    assert first["cut_pct"] == pytest.approx(87, abs=1.0)
    assert first["cut_pct"] + first["hold_pct"] + first["hike_pct"] == pytest.approx(100)
    ranges = {tuple(o["target_range"]): o["probability_pct"] for o in first["outcomes"]}
    assert set(ranges) == {(3.5, 3.75), (3.75, 4.0)}
    assert ranges[(3.5, 3.75)] == pytest.approx(first["cut_pct"])
    # Later meetings: cumulative odds, so the chance of a lower range never falls.
    cuts = [entry["cut_pct"] for entry in fed["probabilities"]]
    assert cuts == sorted(cuts)
    assert [entry["meeting"] for entry in fed["probabilities"]][:5] == [
        "2025-12-10", "2026-01-28", "2026-03-18", "2026-04-29", "2026-06-17",
    ]  # fmt: skip


def test_fedwatch_uses_the_sample_prices_with_demo(capsys):
    assert main(["fedwatch", "--demo", "--at", "16:00", "--format", "json"]) == 0
    meetings = json.loads(capsys.readouterr().out)["meetings"]
    assert meetings[0]["date"] == "2025-12-10"
    assert meetings[0]["cut_pct"] == pytest.approx(87, abs=1.0)


def _offline_config(tmp_path) -> str:
    """A config whose providers sit on a closed local port: nothing can reach the internet."""
    path = tmp_path / "offline.toml"
    path.write_text(
        '[feeds.yahoo]\nbase_url = "http://127.0.0.1:9"\ncookie_url = "http://127.0.0.1:9/c"\n'
        '[feeds.nyfed]\nbase_url = "http://127.0.0.1:9"\n'
        '[feeds.fred]\ncsv_base_url = "http://127.0.0.1:9"\n'
        '[feeds.finnhub]\nbase_url = "http://127.0.0.1:9"\napi_key = "k"\n'
    )
    path.chmod(0o600)
    return str(path)


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        # Flags of the monitor given before a command's name were taken and then ignored.
        (["--speed", "5", "snapshot", "--demo"], "--speed"),
        (["--refresh", "2", "snapshot", "--demo"], "--refresh"),
        (["--theme", "capgap-dark", "calendar"], "--theme"),
        (["--record", "REC", "snapshot", "--demo"], "--record"),
        (["--replay", "REC", "snapshot", "--demo"], "--replay"),
        (["--no-mouse", "check"], "--mouse"),
        # Source flags of commands that record a live source, or read no source at all.
        (["--demo", "record", "--out", "REC"], "--demo: recording needs a live source"),
        (["--source", "demo", "record", "--out", "REC"], "recording needs a live source"),
        (["--at", "10:00", "record", "--out", "REC"], "--at"),
        (["--demo", "check"], "--demo"),
        (["--demo", "calendar"], "--demo"),
        # Two sources at once: one of them was dropped without a word.
        (["snapshot", "--demo", "--source", "yahoo"], "--demo"),
        # fedwatch: --futures gives the prices, so there is no source or time to read them at;
        # live it reads Yahoo's ZQ futures now, whatever --at or --source finnhub say.
        (["fedwatch", "--futures", "2015-08=99.8675,2015-09=99.805", "--demo"], "--futures"),
        (["fedwatch", "--futures", "2015-08=99.8675,2015-09=99.805", "--at", "10:00"], "--at"),
        (["fedwatch", "--at", "10:00"], "--at"),
        (["fedwatch", "--source", "finnhub"], "--source finnhub"),
        # Range checks.
        (["calendar", "--days", "100000000"], "--days"),
    ],
)
def test_flags_that_mean_nothing_for_the_command_exit_2_with_one_line(tmp_path, argv, needle):
    argv = [str(tmp_path / "rec") if arg == "REC" else arg for arg in argv]
    result = subprocess.run(
        [sys.executable, "-m", "capgap", *argv, "--config", _offline_config(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert needle in lines[0] and "Traceback" not in result.stderr
    assert not (tmp_path / "rec").exists()


def test_calendar_at_before_the_command_name_counts_as_after_it(capsys):
    assert main(["calendar", "--at", "2025-11-27T12:00", "--format", "json"]) == 0
    after = json.loads(capsys.readouterr().out)
    assert main(["--at", "2025-11-27T12:00", "calendar", "--format", "json"]) == 0
    before = json.loads(capsys.readouterr().out)
    assert after["market"]["state"] == "holiday"  # Thanksgiving 2025
    assert before == after


def test_record_takes_a_live_source_and_checks_its_key_first(tmp_path):
    config = tmp_path / "nokey.toml"
    config.write_text('[feeds.finnhub]\nbase_url = "http://127.0.0.1:9"\n')
    out = tmp_path / "rec"
    argv = ["record", "--source", "finnhub", "--out", str(out), "--config", str(config)]
    result = subprocess.run(
        [sys.executable, "-m", "capgap", *argv],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == (
        "capgap: error: --source finnhub needs an API key: [feeds.finnhub] api_key or "
        "FINNHUB_API_KEY"
    )
    assert not out.exists()
