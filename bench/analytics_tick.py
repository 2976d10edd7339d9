"""Benchmark of one analytics tick over the whole universe, against a pandas reference.

The universe is the shipped one (``load_universe()``): the S&P 500 and Russell 2000 members
from the funds' holdings, plus the benchmarks and sector funds. A tick applies a fresh quotes
frame to the store, then builds the full Snapshot: both index legs (change, bottom-up forward
P/E with and without the negative earners, unprofitable share, breadth, coverage), the
valuation, the sector rows (each index's own members, weights, movers, and their windows
over made-up legs' levels: the pandas reference has none, the windows are a few
multiplications a sector), the spread and style panels. Quotes carry the details Yahoo sends
(market cap, forward and trailing EPS, 50/200-day averages consistent with the synthetic
history, 52-week and day ranges; some EPS negative, some fields missing, a few members never
quoted at all).

Two tick shapes are timed, each with its own store: "full", every symbol in every frame (the
demo), and "rolling", the live refresh: the core symbols plus the next slice of ~200 members
per poll, the others keeping their values. The daily caches are warmed first. The pandas
reference implements the same per-tick semantics with idiomatic vectorised pandas (quote
upsert, the legs' sums and ratios, coverage, sector rows, index legs, valuation, spread); the
two are checked to agree on the same input before and after the timing. The sector screen's
build (``sector_detail`` on the largest sector) is timed apart: a second store runs the same
ticks and builds the screen after each, as the app does while that screen is open.

Run: python bench/analytics_tick.py [--ticks N] [--slice N]
Budget (DESIGN.md): polars median <= 3 ms and >= 3x faster than pandas, same run, each shape.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tui"))

from capgap.cli.polars_env import tune_polars

# Polars' allocator and threads as the app sets them, before polars loads: the tick is
# measured as the monitor runs it (its allocator once made the app's tick 40 % slower than
# a bench without it).
tune_polars(os.environ)

import holidays  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import polars as pl  # noqa: E402
from capgap.analytics.build import build_snapshot  # noqa: E402
from capgap.analytics.drilldown import sector_detail  # noqa: E402
from capgap.analytics.legs import QUOTE_COLUMNS, SUM_COLUMNS  # noqa: E402
from capgap.analytics.spread import daily_basis  # noqa: E402
from capgap.analytics.store import MarketStore  # noqa: E402
from capgap.core.market_types import MarketSession  # noqa: E402
from capgap.core.schemas import DAILY, LEG_LEVELS, QUOTE_DETAILS, QUOTES  # noqa: E402
from capgap.core.snapshot import COVERAGE_MIN_PCT, FedSnapshot, LegStats, SectorDetail, Snapshot  # noqa: E402
from capgap.market.calendar import sessions_between  # noqa: E402
from capgap.market.universe import Universe, load_universe, vars_in_order  # noqa: E402

BUDGET_MS = 3.0
BUDGET_RATIO = 3.0
SESSION_DAY = date(2025, 12, 5)
TICK_START = datetime(2025, 12, 5, 15, 0, tzinfo=UTC)
#: Members Yahoo reports unknown: listed once and never quoted (about 0.5 %).
UNKNOWN_SHARE = 0.005
#: The share of rows whose fundamentals are missing from one poll's answer (kept from before).
PARTIAL_SHARE = 0.01

# --------------------------------------------------------------------------- synthetic data

#: The details that hold for the day (a poll may still leave them out).
_STATIC_DETAILS = (
    "eps_forward",
    "eps_trailing",
    "avg_50d",
    "avg_200d",
    "high_52w",
    "low_52w",
)


@dataclass(frozen=True)
class Market:
    """A synthetic session over the universe: history, previous closes and fundamentals."""

    symbols: list[str]  # every symbol: the core ones first, then the members
    core: int  # how many core symbols lead ``symbols``
    quoted: np.ndarray  # positions into ``symbols`` that Yahoo answers for
    daily: pl.DataFrame  # a year of daily bars for the benchmarks (what the app fetches)
    prev_close: np.ndarray
    details: dict[str, np.ndarray]  # the static details, NaN where Yahoo sends none
    cap_shares: np.ndarray  # shares outstanding (market cap = these times the price)


def _some(rng: np.random.Generator, n: int, share: float) -> np.ndarray:
    return rng.random(n) < share


def make_market(universe: Universe, rng: np.random.Generator) -> Market:
    """Return a year of history for every symbol and fundamentals calibrated to the indices."""
    symbols = universe.symbols()
    core = len(universe.core_symbols())
    n = len(symbols)
    members = universe.constituents
    ref = dict(zip(members["symbol"].to_list(), members["ref_price"].to_list(), strict=True))
    small = set(members.filter(pl.col("bucket") == "small")["symbol"].to_list())
    is_small = np.array([symbol in small for symbol in symbols])
    is_member = np.arange(n) >= core
    # The last close is the holdings' price, so the weights are the fund's own.
    level = np.array([ref.get(symbol) or np.nan for symbol in symbols], dtype=float)
    level = np.where(np.isfinite(level), level, rng.uniform(20.0, 600.0, n))
    bench = universe.benchmarks
    level[symbols.index(bench.large_index)] = 6850.0
    level[symbols.index(bench.small_index)] = 2460.0

    days = [s.day for s in sessions_between(date(2024, 10, 1), SESSION_DAY - timedelta(days=1))]
    market = rng.standard_normal(len(days)) * 0.009
    returns = market[:, None] * rng.uniform(0.7, 1.5, n) + rng.standard_normal(
        (len(days), n)
    ) * np.where(is_small, 0.022, 0.014)
    walk = np.cumsum(returns, axis=0)
    closes = level * np.exp(walk - walk[-1])  # rows: sessions, columns: symbols

    details = {
        "avg_50d": closes[-50:].mean(axis=0),
        "avg_200d": closes[-200:].mean(axis=0),
        "high_52w": closes[-252:].max(axis=0),
        "low_52w": closes[-252:].min(axis=0),
    }
    # Forward P/E about 22 for large caps and 17 for small (headline, negative earners out);
    # about 4 % of large and 20 % of small members expect a loss, 7 % and 40 % made one.
    pe = np.exp(rng.normal(np.where(is_small, math.log(17.0), math.log(22.0)), 0.35))
    forward = level / pe
    losing = rng.random(n) < np.where(is_small, 0.20, 0.04)
    forward = np.where(losing, -level / rng.uniform(15.0, 80.0, n), forward)
    trailing = forward * rng.uniform(0.7, 1.0, n)
    lost = rng.random(n) < np.where(is_small, 0.40, 0.07)
    trailing = np.where(lost, -np.abs(trailing), np.abs(trailing))
    details["eps_forward"] = np.where(_some(rng, n, 0.03), np.nan, forward)
    details["eps_trailing"] = np.where(_some(rng, n, 0.02), np.nan, trailing)
    for name in ("avg_50d", "avg_200d", "high_52w", "low_52w"):
        details[name] = np.where(_some(rng, n, 0.01), np.nan, details[name])
    # Funds and indices have no earnings in Yahoo's answer.
    for name in ("eps_forward", "eps_trailing"):
        details[name] = np.where(is_member, details[name], np.nan)
    # The funds hold some 5-10 % of each company: its market cap is about 10-20x their stake.
    held = dict(zip(members["symbol"].to_list(), members["shares"].to_list(), strict=True))
    fund_shares = np.array([held.get(symbol) or np.nan for symbol in symbols], dtype=float)
    cap_shares = np.where(_some(rng, n, 0.01), np.nan, fund_shares * rng.uniform(10.0, 20.0, n))

    unknown = is_member & _some(rng, n, UNKNOWN_SHARE)
    history = vars_in_order(bench)
    columns = [symbols.index(symbol) for symbol in history]
    flat = closes[:, columns].T.reshape(-1)
    daily = pl.DataFrame(
        {
            "symbol": np.repeat(history, len(days)),
            "date": np.tile(np.array(days, dtype="datetime64[D]"), len(history)),
            "open": flat,
            "high": flat * 1.01,
            "low": flat * 0.99,
            "close": flat,
            "volume": np.full(flat.size, 1e6),
        }
    ).cast(dict(DAILY.items()))
    return Market(
        symbols=symbols,
        core=core,
        quoted=np.flatnonzero(~unknown),
        daily=daily,
        prev_close=closes[-1],
        details=details,
        cap_shares=cap_shares,
    )


def make_ticks(market: Market, ticks: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    """Return every symbol's quote values at each tick (one second apart), as numpy columns."""
    n = len(market.symbols)
    last = market.prev_close * np.exp(rng.standard_normal(n) * 0.004)
    day_high = np.maximum(market.prev_close, last) * (1 + np.abs(rng.standard_normal(n)) * 0.003)
    day_low = np.minimum(market.prev_close, last) * (1 - np.abs(rng.standard_normal(n)) * 0.003)
    result = []
    for tick in range(ticks):
        last = last * np.exp(rng.standard_normal(n) * 0.0008)
        day_high, day_low = np.maximum(day_high, last), np.minimum(day_low, last)
        values: dict[str, Any] = {
            "time": TICK_START + timedelta(seconds=tick),
            "last": np.round(last, 4),
            "prev_close": market.prev_close,
            "volume": np.full(n, 1e5) + tick,
            "market_cap": market.cap_shares * np.round(last, 4),
            "day_high": np.round(day_high, 4),
            "day_low": np.round(day_low, 4),
        }
        # A poll's answer sometimes lacks a row's fundamentals: the store keeps the last known.
        partial = _some(rng, n, PARTIAL_SHARE)
        for name in _STATIC_DETAILS:
            values[name] = np.where(partial, np.nan, market.details[name])
        result.append(values)
    return result


def quotes_frame(market: Market, values: dict[str, Any], rows: np.ndarray) -> pl.DataFrame:
    """Return the QUOTES frame of the symbols at positions ``rows`` (NaN details as nulls)."""
    columns: dict[str, Any] = {
        "symbol": [market.symbols[i] for i in rows],
        "time": [values["time"]] * len(rows),
    }
    for name in QUOTES.names():
        if name in columns:
            continue
        if name in values:
            column = np.asarray(values[name], dtype=float)[rows]
            columns[name] = pl.Series(name, column, pl.Float64, nan_to_null=True)
        else:
            columns[name] = pl.Series(name, [None] * len(rows), QUOTES[name])
    return pl.DataFrame(columns, schema=QUOTES)


def rolling_rows(market: Market, tick: int, size: int) -> np.ndarray:
    """Return the positions of one live poll: the core symbols, then the next ``size`` members."""
    members = market.quoted[market.quoted >= market.core]
    start = (tick * size) % len(members)
    picked = np.take(members, np.arange(start, start + size), mode="wrap")
    return np.concatenate([market.quoted[market.quoted < market.core], picked])


def to_pandas_quotes(frame: pl.DataFrame) -> pd.DataFrame:
    """Convert a quotes frame without pyarrow (the conversion is part of neither tick)."""
    columns: dict[str, Any] = {}
    for name, dtype in QUOTES.items():
        series = frame.get_column(name)
        if dtype == pl.String:
            columns[name] = series.to_list()
        elif isinstance(dtype, pl.Datetime):
            columns[name] = pd.to_datetime(series.to_list(), utc=True).as_unit("us")
        else:
            columns[name] = series.to_numpy()
    return pd.DataFrame(columns)


# --------------------------------------------------------------------------- pandas reference

_DETAILS = list(QUOTE_DETAILS.names())
#: The quote columns a member's figures need (all numbers): the polars side's list.
_GATHERED = list(QUOTE_COLUMNS)
_PRICES = [name for name in QUOTES.names() if name not in QUOTE_DETAILS and name != "symbol"]
#: The additive sums every leg figure is a ratio of: the same names as the polars side.
_SUMS = list(SUM_COLUMNS)


def _ratio(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """Return part / whole * 100 where whole is positive, else NaN."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(whole > 0, part / whole * 100.0, np.nan)


def leg_figures(sums: pd.DataFrame, index_prev: np.ndarray) -> pd.DataFrame:
    """Return every leg's figures from its sums (one row per leg), NaN below the coverage bar.

    On the sums' numpy columns: a few dozen legs, where pandas' per-operation index alignment
    would cost more than the arithmetic.
    """
    col = {name: sums[name].to_numpy(dtype=float) for name in _SUMS}
    whole = col["ref_total"]
    coverage = _ratio(col["ref_quoted"], whole)
    priced = coverage >= COVERAGE_MIN_PCT
    pe_coverage = _ratio(col["ref_eps"], whole)
    with_pe = pe_coverage >= COVERAGE_MIN_PCT

    def enough(name: str) -> np.ndarray:
        return _ratio(col[name], whole) >= COVERAGE_MIN_PCT

    def keep(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return np.where(mask & (col["quoted"] > 0), values, np.nan)

    def pe(price: str, earnings: str) -> np.ndarray:
        return _ratio(col[price], col[earnings]) / 100.0

    return pd.DataFrame(
        {
            "members": col["members"],
            "quoted": col["quoted"],
            "coverage_pct": keep(coverage, np.ones_like(priced)),
            "weight_pct": keep(_ratio(col["prev_value"], index_prev), priced),
            "change_pct": keep(_ratio(col["last_value"], col["prev_value"]) - 100.0, priced),
            "forward_pe": keep(pe("pe_price", "pe_earnings"), with_pe),
            "forward_pe_incl_negative": keep(pe("pe_price_all", "pe_earnings_all"), with_pe),
            "pe_coverage_pct": keep(pe_coverage, np.ones_like(priced)),
            "unprofitable_pct": keep(
                _ratio(col["ttm_negative"], col["ttm_known"]), enough("ref_ttm")
            ),
            "up_pct": keep(_ratio(col["up"], col["quoted"]), priced & (col["moved"] > 0)),
            "above_50d_pct": keep(_ratio(col["above_50d"], col["known_50d"]), enough("ref_50d")),
            "above_200d_pct": keep(
                _ratio(col["above_200d"], col["known_200d"]), enough("ref_200d")
            ),
            "new_highs": keep(col["new_highs"], enough("ref_highs")),
            "new_lows": keep(col["new_lows"], enough("ref_lows")),
        },
        index=sums.index,
    )


@dataclass
class PandasReference:
    """The same per-tick semantics in pandas: quote upsert, legs, sectors, valuation, spread."""

    universe: Universe
    members: pd.DataFrame
    etfs: pd.DataFrame
    bases: dict[str, dict[str, float | None]]
    ratio_mean: float
    ratio_std: float
    quotes: pd.DataFrame
    positions: np.ndarray | None = None  # each member's row in ``quotes`` (-1: none)
    layout: pd.Index | None = None

    @classmethod
    def create(cls, universe: Universe, daily: pl.DataFrame, today: date) -> PandasReference:
        """Prepare the static frames and the daily figures (the daily part is cached too)."""
        order = {sector.name: i for i, sector in enumerate(universe.sectors)}
        members = pd.DataFrame(
            {
                name: universe.constituents.get_column(name).to_list()
                for name in universe.constituents.columns
            }
        )
        members["sector_idx"] = members["sector"].map(order)  # NaN: not one of the sectors
        members["in_index"] = members["fund"].notna()
        members["shares"] = members["shares"].astype(float)
        members["ref_price"] = members["ref_price"].astype(float)
        etfs = pd.DataFrame(
            {
                "large_etf": [s.large_etf for s in universe.sectors],
                "small_etf": [s.small_etf for s in universe.sectors],
            }
        )
        bench = universe.benchmarks
        # The daily basis is cached in both implementations; compute it once with pandas here.
        frame = pd.DataFrame(
            {
                "symbol": daily.get_column("symbol").to_list(),
                "date": daily.get_column("date").to_list(),
                "close": daily.get_column("close").to_numpy(),
            }
        )
        frame = frame[frame["date"] < today]
        wide = (
            frame[frame["symbol"].isin([bench.large_index, bench.small_index])]
            .pivot(index="date", columns="symbol", values="close")
            .sort_index()
        )
        ratio = (wide[bench.small_index] / wide[bench.large_index]).dropna().tail(252)
        bases = {
            symbol: _pandas_bases(wide[symbol].dropna(), today)
            for symbol in (bench.large_index, bench.small_index)
        }
        quotes = pd.DataFrame({name: pd.Series(dtype=_pandas_dtype(name)) for name in QUOTES})
        return cls(
            universe, members, etfs, bases, float(ratio.mean()), float(ratio.std(ddof=1)), quotes
        )

    def apply_quotes(self, incoming: pd.DataFrame) -> None:
        """Upsert: valid rows only, the newest time per symbol wins, ties go to the newer row.

        A detail the winning row lacks keeps its newest known value; stored symbols keep their
        rows and new ones follow in the order they came.
        """
        ok = (
            np.isfinite(incoming["last"])
            & (incoming["last"] > 0)
            & np.isfinite(incoming["prev_close"])
            & (incoming["prev_close"] > 0)
            & incoming["time"].notna()
        )
        old = self.quotes
        if len(incoming) == len(old) and np.array_equal(
            incoming["symbol"].to_numpy(), old["symbol"].to_numpy()
        ):
            # The same symbols in the same order: a row-wise pick, details filled from before.
            accept = ok & (incoming["time"] >= old["time"])
            merged = incoming.where(accept, old)
            merged[_DETAILS] = merged[_DETAILS].fillna(old[_DETAILS])
            self.quotes = merged
            return
        stacked = pd.concat([old, incoming[ok]], ignore_index=True)
        stacked = stacked.sort_values(["symbol", "time"], kind="stable")
        winners = stacked.drop_duplicates("symbol", keep="last").set_index("symbol")[_PRICES]
        details = stacked.groupby("symbol")[_DETAILS].last()  # each one's newest non-null
        merged = winners.join(details)
        fresh = pd.Index(incoming.loc[ok, "symbol"].unique()).difference(old["symbol"], sort=False)
        order = pd.Index(old["symbol"]).append(fresh)
        self.quotes = merged.reindex(order).rename_axis("symbol").reset_index()

    def _values(self) -> pd.DataFrame:
        """Return each member's quote values and weight inputs (see legs.member_values)."""
        quotes = self.quotes
        layout = pd.Index(quotes["symbol"])
        if self.layout is None or not self.layout.equals(layout):
            # Row positions hold while the symbols and their order do (cached like polars').
            self.layout = layout
            self.positions = layout.get_indexer(self.members["symbol"])
        assert self.positions is not None
        known = self.positions >= 0
        gathered = quotes[_GATHERED].to_numpy(dtype=float)[np.where(known, self.positions, 0)]
        gathered[~known] = np.nan
        values = self.members.join(
            pd.DataFrame(gathered, columns=_GATHERED, index=self.members.index)
        )
        last, prev = values["last"], values["prev_close"]
        values["q"] = values["shares"].fillna(values["market_cap"] / last)
        values["quoted"] = last.notna() & prev.notna() & values["q"].notna()
        values["ref_value"] = (
            (values["shares"] * values["ref_price"]).fillna(values["market_cap"]).fillna(0.0)
        )
        values["change_pct"] = (last / prev - 1.0) * 100.0
        return values

    def _sums(self, values: pd.DataFrame) -> pd.DataFrame:
        """Return the additive sums per (bucket, sector_idx, in_index) group."""
        quoted = values["quoted"]
        q, last, prev = values["q"], values["last"], values["prev_close"]
        eps, ttm = values["eps_forward"], values["eps_trailing"]
        ref = values["ref_value"]
        positive, has_eps = quoted & (eps > 0), quoted & eps.notna()
        known_50, known_200 = (
            quoted & values["avg_50d"].notna(),
            quoted & values["avg_200d"].notna(),
        )
        ranged_high = quoted & values["day_high"].notna() & values["high_52w"].notna()
        ranged_low = quoted & values["day_low"].notna() & values["low_52w"].notna()
        parts = pd.DataFrame(
            {
                "bucket": values["bucket"],
                "sector_idx": values["sector_idx"],
                "in_index": values["in_index"],
                "members": 1,
                "quoted": quoted,
                "ref_total": ref,
                "ref_quoted": ref.where(quoted, 0.0),
                "prev_value": (q * prev).where(quoted, 0.0),
                "last_value": (q * last).where(quoted, 0.0),
                "pe_price": (q * last).where(positive, 0.0),
                "pe_earnings": (q * eps).where(positive, 0.0),
                "pe_price_all": (q * last).where(has_eps, 0.0),
                "pe_earnings_all": (q * eps).where(has_eps, 0.0),
                "ref_eps": ref.where(has_eps, 0.0),
                "ttm_known": quoted & ttm.notna(),
                "ttm_negative": quoted & (ttm < 0),
                "ref_ttm": ref.where(quoted & ttm.notna(), 0.0),
                "up": quoted & (last > prev),
                "moved": quoted & (last != prev),
                "known_50d": known_50,
                "above_50d": quoted & (values["avg_50d"] < last),
                "ref_50d": ref.where(known_50, 0.0),
                "known_200d": known_200,
                "above_200d": quoted & (values["avg_200d"] < last),
                "ref_200d": ref.where(known_200, 0.0),
                "new_highs": quoted & (values["day_high"] >= values["high_52w"]),
                "new_lows": quoted & (values["day_low"] <= values["low_52w"]),
                "ref_highs": ref.where(ranged_high, 0.0),
                "ref_lows": ref.where(ranged_low, 0.0),
            }
        )
        return parts.groupby(["bucket", "sector_idx", "in_index"], dropna=False).sum()

    def tick(self) -> dict[str, Any]:
        """Compute the per-tick figures from the current quotes."""
        values = self._values()
        sums = self._sums(values)
        # The indices: their fund members over every sector.
        index_sums = sums.xs(True, level="in_index").groupby(level="bucket").sum()
        index_sums = index_sums.reindex(["large", "small"], fill_value=0)
        index_prev = index_sums["prev_value"]
        indices = leg_figures(index_sums, index_prev.to_numpy())
        # The sectors' legs: their groups summed; weighed in the index where any is in it.
        by_leg = sums.reset_index()
        by_leg = by_leg[by_leg["sector_idx"].notna()]
        grouped = by_leg.groupby(["sector_idx", "bucket"])
        legs = grouped[_SUMS].sum()
        weigh = legs.index.get_level_values("bucket").map(index_prev).to_numpy(dtype=float)
        sector_legs = leg_figures(legs, np.where(grouped["in_index"].any(), weigh, np.nan))
        both = legs.groupby(level="sector_idx")[["up", "quoted"]].sum()

        quotes = self.quotes.set_index("symbol")
        change = (quotes["last"] / quotes["prev_close"] - 1.0) * 100.0
        live = values[values["sector_idx"].notna()]
        leaders = (
            live[live["change_pct"] > 0]
            .sort_values(["change_pct", "symbol"], ascending=[False, True])
            .groupby("sector_idx")
            .head(3)
            .groupby("sector_idx")
            .agg({"symbol": list, "change_pct": list})
            .to_dict("index")
        )
        laggards = (
            live[live["change_pct"] < 0]
            .sort_values(["change_pct", "symbol"], ascending=[True, True])
            .groupby("sector_idx")
            .head(3)
            .groupby("sector_idx")["symbol"]
            .agg(list)
            .to_dict()
        )
        large_etf = self.etfs["large_etf"].map(change)
        small_etf = self.etfs["small_etf"].map(change)
        figures = sector_legs.to_dict("index")
        sectors = []
        for idx in range(len(self.etfs)):
            sides = {}
            for bucket, etf in (("large", large_etf), ("small", small_etf)):
                leg = figures.get((float(idx), bucket))
                etf_change = _num(etf.iloc[idx])
                if leg is None or not leg["members"]:
                    leg = {"members": 0, "change_pct": etf_change, "weight_pct": None}
                sides[bucket] = {**leg, "etf_change_pct": etf_change}
            large, small = sides["large"], sides["small"]
            up_quoted = both.loc[float(idx)] if float(idx) in both.index else None
            breadth = None
            if up_quoted is not None and (
                _num(large.get("up_pct")) is not None or _num(small.get("up_pct")) is not None
            ):
                breadth = up_quoted["up"] / up_quoted["quoted"] * 100.0
            large_change, small_change = _num(large["change_pct"]), _num(small["change_pct"])
            sectors.append(
                {
                    "large": large,
                    "small": small,
                    "spread": small_change - large_change
                    if small_change is not None and large_change is not None
                    else None,
                    "breadth": breadth,
                    "leaders": leaders.get(idx, {}).get("symbol", []),
                    "leader_changes": leaders.get(idx, {}).get("change_pct", []),
                    "laggards": laggards.get(idx, []),
                }
            )

        bench = self.universe.benchmarks

        def chg(symbol: str) -> float | None:
            return _num(change.get(symbol))

        large_last = float(quotes.at[bench.large_index, "last"])
        small_last = float(quotes.at[bench.small_index, "last"])
        relative: dict[str, float | None] = {
            "1d": chg(bench.small_index) - chg(bench.large_index)  # type: ignore[operator]
        }
        for window in ("5d", "1m", "3m", "ytd", "1y"):
            lb = self.bases[bench.large_index][window]
            sb = self.bases[bench.small_index][window]
            relative[window] = (
                (small_last / sb - 1) * 100 - (large_last / lb - 1) * 100
                if lb is not None and sb is not None
                else None
            )
        ratio = small_last / large_last
        large_pe = _num(indices.at["large", "forward_pe"])
        small_pe = _num(indices.at["small", "forward_pe"])
        return {
            "indices": indices.to_dict("index"),
            "discount": (1 - small_pe / large_pe) * 100 if large_pe and small_pe else None,
            "sectors": sectors,
            "style": (
                chg(bench.large_value) - chg(bench.large_growth),  # type: ignore[operator]
                chg(bench.small_value) - chg(bench.small_growth),  # type: ignore[operator]
            ),
            "large_change": chg(bench.large_index),
            "small_change": chg(bench.small_index),
            "relative": relative,
            "ratio": ratio,
            "z": (ratio - self.ratio_mean) / self.ratio_std,
        }


def _pandas_dtype(name: str) -> str:
    dtype = QUOTES[name]
    if dtype == pl.String:
        return "object"
    return "datetime64[us, UTC]" if isinstance(dtype, pl.Datetime) else "float64"


def _num(value: Any) -> float | None:
    """Return a plain float, None for a missing value (None or NaN)."""
    return None if value is None or pd.isna(value) else float(value)


def _pandas_bases(closes: pd.Series, today: date) -> dict[str, float | None]:
    def on_or_before(target: date) -> float | None:
        eligible = closes[closes.index <= target]
        return float(eligible.iloc[-1]) if len(eligible) else None

    def months_back(months: int) -> date:
        stamp = pd.Timestamp(today) - pd.DateOffset(months=months)  # clamps month ends
        return stamp.date()

    # 5D starts five NYSE sessions back (weekends and the exchange's holidays skipped).
    nyse = holidays.financial_holidays("NYSE", years=[today.year - 1, today.year])
    sessions = pd.offsets.CustomBusinessDay(5, holidays=list(nyse))
    return {
        "5d": on_or_before((pd.Timestamp(today) - sessions).date()),
        "1m": on_or_before(months_back(1)),
        "3m": on_or_before(months_back(3)),
        "1y": on_or_before(months_back(12)),
        "ytd": on_or_before(date(today.year - 1, 12, 31)),
    }


# --------------------------------------------------------------------------- agreement


def _close(a: float | None, b: Any) -> bool:
    b = _num(b)
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


_LEG_FIGURES = (
    "coverage_pct",
    "weight_pct",
    "change_pct",
    "forward_pe",
    "forward_pe_incl_negative",
    "pe_coverage_pct",
    "unprofitable_pct",
    "up_pct",
    "above_50d_pct",
    "above_200d_pct",
    "new_highs",
    "new_lows",
)


def _check_leg(stats: LegStats, ref: dict[str, Any], label: str) -> None:
    assert stats.members == ref["members"], label
    assert stats.quoted == ref["quoted"], label
    for name in _LEG_FIGURES:
        value = getattr(stats, name)
        assert _close(None if value is None else float(value), ref[name]), f"{label} {name}"


def check_agreement(snapshot: Snapshot, reference: dict[str, Any]) -> None:
    """Assert that the polars Snapshot and the pandas reference agree figure by figure."""
    assert snapshot.indices is not None
    _check_leg(snapshot.indices.large, reference["indices"]["large"], "large index")
    _check_leg(snapshot.indices.small, reference["indices"]["small"], "small index")
    valuation = snapshot.spread.valuation
    large, small = reference["indices"]["large"], reference["indices"]["small"]
    assert _close(valuation.large_forward_pe, large["forward_pe"])
    assert _close(valuation.small_forward_pe, small["forward_pe"])
    assert _close(valuation.small_discount_pct, reference["discount"])
    assert _close(valuation.large_forward_pe_incl_negative, large["forward_pe_incl_negative"])
    assert _close(valuation.small_forward_pe_incl_negative, small["forward_pe_incl_negative"])
    assert _close(valuation.large_unprofitable_pct, large["unprofitable_pct"])
    assert _close(valuation.small_unprofitable_pct, small["unprofitable_pct"])
    assert _close(valuation.large_coverage_pct, large["pe_coverage_pct"])
    assert _close(valuation.small_coverage_pct, small["pe_coverage_pct"])
    spread = snapshot.spread
    assert _close(spread.large.change_pct, reference["large_change"])
    assert _close(spread.small.change_pct, reference["small_change"])
    assert _close(spread.ratio, reference["ratio"])
    assert _close(spread.ratio_z_1y, reference["z"])
    for label, value in spread.relative_pp.items():
        assert _close(value, reference["relative"][label]), label
    assert _close(snapshot.style.large.value_minus_growth_pp, reference["style"][0])
    assert _close(snapshot.style.small.value_minus_growth_pp, reference["style"][1])
    assert len(snapshot.sectors) == len(reference["sectors"])
    for row, ref in zip(snapshot.sectors, reference["sectors"], strict=True):
        for leg, side in ((row.large, ref["large"]), (row.small, ref["small"])):
            label = f"{row.sector} {side}"
            assert leg.members == side["members"], label
            assert _close(leg.change_pct, side["change_pct"]), label
            assert _close(leg.weight_pct, side["weight_pct"]), label
            assert _close(leg.etf_change_pct, side["etf_change_pct"]), label
            if leg.members:
                _check_leg(leg.stats, side, label)
        assert _close(row.spread_pp, ref["spread"]), row.sector
        assert _close(row.breadth_pct, ref["breadth"]), row.sector
        assert [m.symbol for m in row.leaders] == ref["leaders"], row.sector
        assert [m.symbol for m in row.laggards] == ref["laggards"], row.sector
        for mover, value in zip(row.leaders, ref["leader_changes"], strict=True):
            assert _close(mover.change_pct, value), row.sector


def check_identities(snapshot: Snapshot) -> None:
    """Assert the sum rules: sectors' weighted changes make each index's, weights make 100."""
    assert snapshot.indices is not None
    for bucket, index in (("large", snapshot.indices.large), ("small", snapshot.indices.small)):
        legs = [row.large if bucket == "large" else row.small for row in snapshot.sectors]
        weights = sum(leg.weight_pct or 0.0 for leg in legs)
        change = sum((leg.weight_pct or 0.0) * (leg.change_pct or 0.0) for leg in legs) / 100
        assert math.isclose(weights, 100.0, abs_tol=1e-9), bucket
        assert index.change_pct is not None
        assert math.isclose(change, index.change_pct, rel_tol=1e-9, abs_tol=1e-12), bucket


def check_detail(detail: SectorDetail | None) -> None:
    """Assert that a sector screen lists every member and its contributions make each leg."""
    assert detail is not None and detail.row is not None
    row = detail.row
    assert len(detail.constituents) == row.large.members + row.small.members
    for bucket, leg in (("large", row.large), ("small", row.small)):
        total = sum(
            member.contribution_pp or 0.0
            for member in detail.constituents
            if member.bucket == bucket
        )
        assert leg.change_pct is not None
        assert math.isclose(total, leg.change_pct, rel_tol=1e-9, abs_tol=1e-12), bucket


# --------------------------------------------------------------------------- timing


@dataclass
class Timings:
    """One tick shape's figures."""

    shape: str
    rows: int  # quotes per frame
    polars_ms: list[float]
    polars_cpu_ms: list[float]  # CPU time of the process (every thread): what load cannot add
    pandas_ms: list[float]
    screen_tick_ms: list[float]  # the tick while the sector screen is open (built after each)
    detail_ms: list[float]  # the sector screen's build after each of those ticks
    layout_changes: int

    @property
    def ratio(self) -> float:
        """Pandas median over polars median."""
        return statistics.median(self.pandas_ms) / statistics.median(self.polars_ms)

    @property
    def passed(self) -> bool:
        """Whether the shape meets the budget."""
        return statistics.median(self.polars_ms) <= BUDGET_MS and self.ratio >= BUDGET_RATIO


def percentile(values: list[float], q: float) -> float:
    """Return the q-th percentile (0-100) of ``values``."""
    return float(np.percentile(np.array(values), q))


def leg_levels_for(universe: Universe, daily: pl.DataFrame) -> pl.DataFrame:
    """Return made-up daily levels of every sector leg over the benchmarks' sessions.

    What the engine reduces from the members' closes once a day: with them in the store each
    tick computes the sectors' windows (5D..YTD), as the app does.
    """
    days = daily.get_column("date").unique().sort()
    legs = [
        (position, bucket)
        for position in range(len(universe.sectors))
        for bucket in ("large", "small")
    ]
    return pl.DataFrame(
        {
            "sector_idx": [position for position, _ in legs for _ in days],
            "bucket": [bucket for _, bucket in legs for _ in days],
            "date": [day for _ in legs for day in days],
            "level": [
                100.0 * (1.0 + 0.0004 * (position - 5)) ** step
                for position, _ in legs
                for step in range(days.len())
            ],
            "coverage_pct": [100.0 for _ in legs for _ in days],
        },
        schema=LEG_LEVELS,
    )


def check_windows(snapshot: Snapshot) -> None:
    """Every sector has its windows over the made-up levels (the per-tick part is timed)."""
    for row in snapshot.sectors:
        if row.large.members and row.small.members:
            assert all(window.spread_pp is not None for window in row.windows), row.sector


def run_shape(
    shape: str,
    universe: Universe,
    market: Market,
    ticks: list[dict[str, Any]],
    rows_of: Callable[[int], np.ndarray],
    largest: str,
    warmup: int,
) -> Timings:
    """Check agreement, then time polars and pandas over the same frames, in blocks."""
    frames = [quotes_frame(market, ticks[0], market.quoted)]
    frames += [quotes_frame(market, ticks[i], rows_of(i)) for i in range(1, len(ticks))]
    pandas_frames = [to_pandas_quotes(frame) for frame in frames]

    # The tick as the dashboard runs it, and a second store that also builds the sector
    # screen after each tick, as the app does while that screen is open: built between two
    # timed ticks, the screen's frames would evict the tick's from the caches (0.7 ms more a
    # tick here) and charge the dashboard for a screen it does not show.
    store, screen_store = MarketStore(), MarketStore()
    for each in (store, screen_store):
        each.apply_daily(market.daily)
        each.apply_leg_levels(leg_levels_for(universe, market.daily))
    context: dict[str, Any] = {
        "now": TICK_START,
        "source": "bench",
        "demo": True,
        "market": MarketSession("open", None, None),
        "fed": FedSnapshot(None, (3.75, 4.0), None),
        "valuation_source": "bench",
    }
    reference = PandasReference.create(universe, market.daily, SESSION_DAY)

    def polars_tick(frame: pl.DataFrame, on: MarketStore = store) -> Snapshot:
        on.apply_quotes(frame)
        return build_snapshot(on, universe, **context)

    def pandas_tick(frame: pd.DataFrame) -> dict[str, Any]:
        reference.apply_quotes(frame)
        return reference.tick()

    # The first poll quotes everyone (and warms the daily cache and the members' layout); the
    # first timed shape then agrees on the next frame too.
    for index in (0, 1):
        snapshot, ref = polars_tick(frames[index]), pandas_tick(pandas_frames[index])
        check_agreement(snapshot, ref)
        check_identities(snapshot)
        polars_tick(frames[index], screen_store)
    basis = daily_basis(
        market.daily, universe.benchmarks.large_index, universe.benchmarks.small_index, SESSION_DAY
    )
    assert math.isclose(basis.ratio_mean or 0.0, reference.ratio_mean, rel_tol=1e-12)
    layout = store.quotes_layout_version

    polars_ms: list[float] = []
    polars_cpu_ms: list[float] = []
    pandas_ms: list[float] = []
    screen_tick_ms: list[float] = []
    detail_ms: list[float] = []
    block = 25
    # Blocks of ticks, alternating between the three (the dashboard's tick, the tick with the
    # sector screen open, pandas), so that all meet the same machine load without one
    # polluting another's caches on every tick. Each sees every frame in order.
    for first in range(2, len(frames), block):
        chunk = range(first, min(first + block, len(frames)))
        gc.collect()
        for index in chunk:
            start, cpu = time.perf_counter(), time.process_time()
            snapshot = polars_tick(frames[index])
            end, cpu_end = time.perf_counter(), time.process_time()
            if index >= warmup:
                polars_ms.append((end - start) * 1e3)
                polars_cpu_ms.append((cpu_end - cpu) * 1e3)
        gc.collect()
        for index in chunk:
            start = time.perf_counter()
            screen_snapshot = polars_tick(frames[index], screen_store)
            middle = time.perf_counter()
            detail = sector_detail(screen_store, universe, largest, screen_snapshot.sectors)
            end = time.perf_counter()
            if index >= warmup:
                screen_tick_ms.append((middle - start) * 1e3)
                detail_ms.append((end - middle) * 1e3)
        gc.collect()
        for index in chunk:
            start = time.perf_counter()
            ref = pandas_tick(pandas_frames[index])
            if index >= warmup:
                pandas_ms.append((time.perf_counter() - start) * 1e3)
    # The last tick must agree too: both sides saw the same sequence of frames.
    check_agreement(snapshot, ref)
    check_agreement(screen_snapshot, ref)
    check_identities(snapshot)
    check_windows(snapshot)
    check_detail(detail)
    return Timings(
        shape=shape,
        rows=frames[-1].height,
        polars_ms=polars_ms,
        polars_cpu_ms=polars_cpu_ms,
        pandas_ms=pandas_ms,
        screen_tick_ms=screen_tick_ms,
        detail_ms=detail_ms,
        layout_changes=store.quotes_layout_version - layout,
    )


def main(argv: list[str] | None = None) -> int:
    """Build the data, check agreement, time both shapes and print the verdict."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--ticks", type=int, default=300, help="timed ticks per shape (300)")
    parser.add_argument("--slice", type=int, default=200, help="members per live poll (200)")
    args = parser.parse_args(argv)

    load_before = os.getloadavg()[0]
    rng = np.random.default_rng(20251205)
    universe = load_universe()
    market = make_market(universe, rng)
    warmup = 20
    ticks = make_ticks(market, args.ticks + warmup + 2, rng)
    sizes = universe.constituents.group_by("sector").len().sort("len", descending=True)
    largest = str(sizes.item(0, "sector"))

    results = [
        run_shape("full", universe, market, ticks, lambda _: market.quoted, largest, warmup),
        run_shape(
            "rolling",
            universe,
            market,
            ticks,
            lambda tick: rolling_rows(market, tick, args.slice),
            largest,
            warmup,
        ),
    ]
    large = universe.constituents.filter(pl.col("bucket") == "large").height
    print(
        f"analytics tick: {len(market.symbols)} symbols ({large} S&P 500 and "
        f"{universe.constituents.height - large} Russell 2000 members, "
        f"{len(market.symbols) - len(market.quoted)} never quoted, {len(universe.sectors)} "
        f"sectors), {args.ticks} ticks per shape"
    )
    print("agreement: polars and pandas figures match (checked on the first and last ticks)")
    for result in results:
        polars_median = statistics.median(result.polars_ms)
        print(
            f"{result.shape:8s}({result.rows} quotes a tick): polars median "
            f"{polars_median:.3f} ms  p90 {percentile(result.polars_ms, 90):.3f} ms | "
            f"pandas median {statistics.median(result.pandas_ms):.3f} ms | ratio "
            f"{result.ratio:.1f}x | {'PASS' if result.passed else 'MISS'}"
        )
        print(
            f"          polars CPU time per tick (all threads): median "
            f"{statistics.median(result.polars_cpu_ms):.3f} ms"
        )
        print(
            f"          with the sector screen open ({largest}, {sizes.item(0, 'len')} "
            f"members): tick median {statistics.median(result.screen_tick_ms):.3f} ms, "
            f"screen median {statistics.median(result.detail_ms):.3f} ms  p90 "
            f"{percentile(result.detail_ms, 90):.3f} ms; layout changes while timed: "
            f"{result.layout_changes}"
        )
    verdict = "PASS" if all(result.passed for result in results) else "MISS"
    print(
        f"{verdict}: budget median <= {BUDGET_MS:g} ms and ratio >= {BUDGET_RATIO:g}x in each "
        f"shape (polars threads: {pl.thread_pool_size()}, allocator "
        f"{os.environ.get('_RJEM_MALLOC_CONF')!r}; load average {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after, on {os.cpu_count()} cores)"
    )
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    raise SystemExit(main())
