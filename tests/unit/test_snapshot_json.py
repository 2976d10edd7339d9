"""The snapshot JSON's stable names (issue 16, item 8): no duplicate key, every name typed.

`capgap snapshot --demo --format json` is parsed with a hook that refuses a key given twice
in any object at any depth (json.loads would keep the last one silently). Each name the issue
lists must be there with its type, and its percentages in percent: checked against figures
worked out a second way from the same session's quotes (a share of 23 % is 23.0, not 0.23).
"""

from __future__ import annotations

import asyncio
import json
import math
from datetime import date
from typing import Any

import polars as pl
import pytest
from capgap.cli.main import main
from capgap.cli.report import render_json
from capgap.core.clock import ManualClock
from capgap.core.snapshot import Snapshot
from capgap.engine.sources import demo_engine
from capgap.engine.startup import demo_window
from capgap.market.universe import load_universe

#: The names issue 16 fixes, with their JSON types (None: null is allowed for that name).
VALUATION: dict[str, tuple[type, ...]] = {
    "large_forward_pe": (float,),
    "small_forward_pe": (float,),
    "small_discount_pct": (float,),
    "large_forward_pe_incl_negative": (float,),
    "small_forward_pe_incl_negative": (float,),
    "large_unprofitable_pct": (float,),
    "small_unprofitable_pct": (float,),
    "large_coverage_pct": (float,),
    "small_coverage_pct": (float,),
    "source": (str,),
}
BREADTH: dict[str, tuple[type, ...]] = {
    "members": (int,),
    "up_pct": (float,),
    "above_50d_pct": (float,),
    "above_200d_pct": (float,),
    "new_highs": (int,),
    "new_lows": (int,),
}
SECTOR_LEG: dict[str, tuple[type, ...]] = {
    "change_pct": (float,),
    "weight_pct": (float,),
    "members": (int,),
    "forward_pe": (float,),
    "breadth_pct": (float,),
    # A sector without a fund of its size (the S&P 600 has no Communication Services or Real
    # Estate fund) has neither.
    "etf_symbol": (str, type(None)),
    "etf_change_pct": (float, type(None)),
}
UNIVERSE: dict[str, tuple[type, ...]] = {"source": (str,), "as_of": (str,), "members": (int,)}
#: Issue 18's sector windows: the demo's history reaches every window's base, so none is null.
SECTOR_WINDOW: dict[str, tuple[type, ...]] = {
    "large_pct": (float,),
    "small_pct": (float,),
    "spread_pp": (float,),
}


class DuplicateKey(ValueError):
    """A JSON object named the same key twice."""


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """json's object_pairs_hook: every object's pairs, refused when a key comes twice."""
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise DuplicateKey(f"key {key!r} given twice in one object")
        seen[key] = value
    return seen


def strict_loads(text: str) -> Any:
    """Parse JSON refusing duplicate keys at any depth, and NaN or Infinity (not JSON)."""

    def no_constant(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, object_pairs_hook=unique_keys, parse_constant=no_constant)


def test_the_duplicate_key_check_finds_a_key_given_twice_at_any_depth():
    # The hook must see nested objects too, inside lists: what json.loads would silently drop.
    assert strict_loads('{"a": [{"b": {"c": 1, "d": 2}}]}') == {"a": [{"b": {"c": 1, "d": 2}}]}
    for text in (
        '{"a": 1, "a": 2}',
        '{"x": [{"y": {"c": 1, "c": 1}}]}',
        '[{"s": {"t": 0, "t": 0}}]',
    ):
        with pytest.raises(DuplicateKey):
            strict_loads(text)
    with pytest.raises(ValueError, match="NaN"):
        strict_loads('{"a": NaN}')


def typed(value: Any, types: tuple[type, ...]) -> bool:
    """Whether a JSON value has one of ``types`` (a bool is no int; an int no float)."""
    if isinstance(value, bool):
        return bool in types
    return type(value) in types


def check_names(obj: dict[str, Any], names: dict[str, tuple[type, ...]], where: str) -> None:
    for name, types in names.items():
        assert name in obj, f"{where}.{name} is missing"
        assert typed(obj[name], types), f"{where}.{name} is {obj[name]!r}, not {types}"


@pytest.fixture(scope="module")
def demo_close() -> tuple[Snapshot, pl.DataFrame]:
    """The sample session's snapshot at its close, and the quotes it was built from."""
    engine = demo_engine(ManualClock(demo_window()[1]), universe=load_universe())
    snapshot = asyncio.run(engine.refresh())
    return snapshot, engine.store.quotes


def test_the_cli_json_has_no_duplicate_key_and_every_stable_name_typed(capsys):
    assert main(["snapshot", "--demo", "--format", "json"]) == 0
    data = strict_loads(capsys.readouterr().out)
    check_names(data["spread"]["valuation"], VALUATION, "spread.valuation")
    for bucket in ("large", "small"):
        check_names(data["breadth"][bucket], BREADTH, f"breadth.{bucket}")
        check_names(data["universe"][bucket], UNIVERSE, f"universe.{bucket}")
        assert date.fromisoformat(data["universe"][bucket]["as_of"])
    assert len(data["sectors"]) == 11
    for row in data["sectors"]:
        for bucket in ("large", "small"):
            leg = row[bucket]
            check_names(leg, SECTOR_LEG, f"sectors[{row['sector']}].{bucket}")
            assert (leg["etf_symbol"] is None) is (leg["etf_change_pct"] is None)
        assert list(row["windows"]) == ["1d", "5d", "1m", "3m", "ytd"]
        for window, figures in row["windows"].items():
            check_names(figures, SECTOR_WINDOW, f"sectors[{row['sector']}].windows.{window}")


def test_the_json_is_the_snapshot_with_percentages_in_percent(demo_close):
    snapshot, quotes = demo_close
    data = strict_loads(render_json(snapshot))
    members = load_universe().constituents
    by_symbol = {row["symbol"]: row for row in quotes.iter_rows(named=True)}

    for bucket, fund in (("large", "IVV"), ("small", "IWM")):
        symbols = members.filter(pl.col("fund") == fund).get_column("symbol").unique().to_list()
        rows = [by_symbol[symbol] for symbol in symbols if symbol in by_symbol]
        # Shares of the members, counted here one by one, in percent.
        up = sum(row["last"] > row["prev_close"] for row in rows) / len(rows) * 100
        known_50 = [row for row in rows if row["avg_50d"] is not None]
        above_50 = sum(row["last"] > row["avg_50d"] for row in known_50) / len(known_50) * 100
        known_ttm = [row for row in rows if row["eps_trailing"] is not None]
        losing = sum(row["eps_trailing"] < 0 for row in known_ttm) / len(known_ttm) * 100
        breadth = data["breadth"][bucket]
        assert breadth["members"] == len(symbols)
        assert breadth["up_pct"] == pytest.approx(up, abs=1e-4)
        assert breadth["above_50d_pct"] == pytest.approx(above_50, abs=1e-4)
        valuation = data["spread"]["valuation"]
        assert valuation[f"{bucket}_unprofitable_pct"] == pytest.approx(losing, abs=1e-4)
        # Every member is quoted at the close: a full coverage reads 100.0.
        assert valuation[f"{bucket}_coverage_pct"] == 100.0
        # The sectors' weights in their index add up to 100 (percent of the index).
        weights = [row[bucket]["weight_pct"] for row in data["sectors"]]
        assert sum(weights) == pytest.approx(100.0, abs=0.01)
        # Each fund's change, from its own quote.
        for row in data["sectors"]:
            leg = row[bucket]
            if leg["etf_symbol"] is not None:
                fund_quote = by_symbol[leg["etf_symbol"]]
                change = (fund_quote["last"] / fund_quote["prev_close"] - 1) * 100
                assert leg["etf_change_pct"] == pytest.approx(change, abs=1e-4)

    valuation = data["spread"]["valuation"]
    large_pe, small_pe = valuation["large_forward_pe"], valuation["small_forward_pe"]
    assert valuation["small_discount_pct"] == pytest.approx(
        (1 - small_pe / large_pe) * 100, abs=0.05
    )
    # The calibration's sizes (issue 16 item 9) read in percent, far from fractions.
    assert valuation["small_unprofitable_pct"] > 30 > 10 > valuation["large_unprofitable_pct"] > 1


def test_a_blank_figure_is_null_never_nan_or_zero(demo_close):
    # render_json refuses NaN (allow_nan=False): every non-finite figure must already be null.
    snapshot, _quotes = demo_close
    text = render_json(snapshot)
    assert "NaN" not in text and "Infinity" not in text

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, float):
            assert math.isfinite(value)

    walk(strict_loads(text))
