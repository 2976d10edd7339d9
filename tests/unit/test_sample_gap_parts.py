"""The sample's RSP and ^SP600 (issue 18, item 3), recomputed with numpy from the committed files.

RSP must be the S&P 500 members' equal-weighted move: each session's return the plain mean of
the members' returns in members_daily.parquet, and at each 5-minute mark of the session day the
members' mean move since their previous close (members_intraday.parquet). ^SP600 tracks ^RUT.
The demo's snapshot JSON then has every window of the gap's three parts filled.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from capgap.cli.main import main
from capgap.market.universe import load_universe

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
WINDOWS = ("1d", "5d", "1m", "3m", "ytd", "1y")
PARTS = ("concentration_pp", "size_pp", "quality_pp", "total_pp")


@pytest.fixture(scope="module")
def daily() -> pl.DataFrame:
    return pl.read_parquet(SAMPLE / "daily.parquet")


@pytest.fixture(scope="module")
def large_members() -> list[str]:
    constituents = load_universe().constituents
    return constituents.filter(pl.col("bucket") == "large").get_column("symbol").to_list()


def closes(frame: pl.DataFrame, symbol: str) -> np.ndarray:
    return frame.filter(pl.col("symbol") == symbol).sort("date").get_column("close").to_numpy()


def test_rsp_is_the_members_mean_daily_return(daily, large_members):
    members = pl.read_parquet(SAMPLE / "members_daily.parquet").filter(
        pl.col("symbol").is_in(large_members)
    )
    # A (date x member) matrix of closes: numpy's mean over members, session by session.
    wide = members.pivot(on="symbol", index="date", values="close").sort("date")
    matrix = wide.drop("date").to_numpy()
    assert matrix.shape[1] >= 500 and not np.isnan(matrix).any()
    expected = (matrix[1:] / matrix[:-1] - 1.0).mean(axis=1)
    rsp = closes(daily, "RSP")
    assert wide.get_column("date").to_list() == (
        daily.filter(pl.col("symbol") == "RSP").sort("date").get_column("date").to_list()
    )
    # RSP is written to the cent (about 190): its returns carry up to 0.01 / 190 each side.
    np.testing.assert_allclose(rsp[1:] / rsp[:-1] - 1.0, expected, rtol=0, atol=6e-5)
    assert rsp[-1] == 190.0


def test_rsp_minutes_meet_the_members_mean_at_every_5_minute_mark(large_members):
    intraday = pl.read_parquet(SAMPLE / "intraday.parquet")
    bars = pl.read_parquet(SAMPLE / "members_intraday.parquet").filter(
        pl.col("symbol").is_in(large_members)
    )
    history = pl.read_parquet(SAMPLE / "members_history.parquet")
    prev = dict(history.select("symbol", "prev_close").iter_rows())
    moves = bars.with_columns(
        move=pl.col("close") / pl.col("symbol").replace_strict(prev, return_dtype=pl.Float64)
    )
    wide = moves.pivot(on="symbol", index="time", values="move").sort("time")
    mean_move = wide.drop("time").to_numpy().mean(axis=1)
    rsp = intraday.filter(pl.col("symbol") == "RSP").sort("time")
    assert rsp.height == 390
    # A 5-minute bar starting at t closes with the minute bar starting at t + 4 minutes.
    marks = rsp.get_column("close").to_numpy()[4::5]
    assert marks.size == mean_move.size == 78
    np.testing.assert_allclose(marks, 190.0 * mean_move, rtol=0, atol=0.0051)


def test_sp600_tracks_the_russell_near_1400(daily):
    sp600, rut = closes(daily, "^SP600"), closes(daily, "^RUT")
    assert sp600.size == rut.size == 253
    assert 1300 < sp600[-1] < 1500
    own = np.diff(np.log(sp600)) - np.diff(np.log(rut))
    # The own part: a deviation of 0.25 % a session around a small drift (rounding aside).
    assert 0.0015 < own.std() < 0.0035
    assert np.corrcoef(np.diff(np.log(sp600)), np.diff(np.log(rut)))[0, 1] > 0.95
    for symbol in ("RSP", "^SP600"):
        bars = daily.filter(pl.col("symbol") == symbol)
        assert bars.filter(
            (pl.col("high") < pl.max_horizontal("open", "close"))
            | (pl.col("low") > pl.min_horizontal("open", "close"))
        ).is_empty()


def test_the_demo_json_fills_every_window_of_the_three_parts(capsys):
    assert main(["snapshot", "--demo", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    parts = data["decomposition"]
    assert list(parts) == list(WINDOWS)
    for window in WINDOWS:
        figures = parts[window]
        assert list(figures) == list(PARTS)
        assert all(isinstance(figures[name], float) for name in PARTS), (window, figures)
        assert figures["total_pp"] == data["spread"]["relative_pp"][window]
        # Four figures rounded to 4 places: the parts add up to the total within 2e-4.
        split = figures["concentration_pp"] + figures["size_pp"] + figures["quality_pp"]
        assert split == pytest.approx(figures["total_pp"], abs=2e-4)
