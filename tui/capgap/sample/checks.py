"""Calibration checks a seed must pass, computed on the rounded closes as they are written."""

from __future__ import annotations

import numpy as np

from capgap.market.universe import Universe
from capgap.sample.calibration import Calibration
from capgap.sample.model import FloatArray
from capgap.sample.plan import Plan

Closes = dict[str, FloatArray]


def daily_returns(closes: FloatArray, *, simple: bool) -> FloatArray:
    """Return daily simple or log returns of a close series."""
    if simple:
        return closes[1:] / closes[:-1] - 1.0
    return np.diff(np.log(closes))


def pair_stats(large: FloatArray, small: FloatArray) -> dict[str, float]:
    """Return volatilities, their ratio, correlation and beta of ``small`` on ``large``."""
    cov = np.cov(small, large, ddof=1)
    return {
        "large_vol": float(np.sqrt(cov[1, 1])),
        "small_vol": float(np.sqrt(cov[0, 0])),
        "vol_ratio": float(np.sqrt(cov[0, 0] / cov[1, 1])),
        "correlation": float(cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1])),
        "beta": float(cov[0, 1] / cov[1, 1]),
    }


def excess_kurtosis(values: FloatArray) -> float:
    """Return the sample excess kurtosis (0 for a normal distribution)."""
    centred = values - values.mean()
    return float(np.mean(centred**4) / np.mean(centred**2) ** 2 - 3.0)


def _outside(value: float, bounds: tuple[float, float]) -> bool:
    return not bounds[0] <= value <= bounds[1]


def index_stats(cal: Calibration, closes: Closes) -> dict[str, dict[str, float]]:
    """Return the pair statistics for every (window, return kind) the targets name."""
    large, small = closes[cal.large.symbol], closes[cal.small.symbol]
    last = cal.targets.stats_window
    stats: dict[str, dict[str, float]] = {}
    for kind in ("log", "simple"):
        rl = daily_returns(large, simple=kind == "simple")
        rs = daily_returns(small, simple=kind == "simple")
        stats[f"all/{kind}"] = pair_stats(rl, rs)
        stats[f"last{last}/{kind}"] = pair_stats(rl[-last:], rs[-last:])
    return stats


def index_failures(cal: Calibration, closes: Closes) -> list[str]:
    """List the index targets the closes miss (empty when all hold)."""
    targets = cal.targets
    failures: list[str] = []
    for label, stats in index_stats(cal, closes).items():
        keys = ["vol_ratio", "correlation", "beta"] + (["large_vol"] if "all" in label else [])
        for key in keys:
            if _outside(stats[key], getattr(targets, key)):
                failures.append(f"{label} {key} {stats[key]:.4f}")
    for spec in (cal.large, cal.small):
        kurt = excess_kurtosis(daily_returns(closes[spec.symbol], simple=False))
        if kurt < targets.excess_kurtosis_min:
            failures.append(f"{spec.symbol} excess kurtosis {kurt:.2f}")
        if spec.record_at_end and closes[spec.symbol][-1] <= closes[spec.symbol][:-1].max():
            failures.append(f"{spec.symbol} last close is not a record")
    return failures


def window_return(closes: FloatArray, window: int) -> float:
    """Return the simple return over the last ``window`` daily returns."""
    return float(closes[-1] / closes[-1 - window] - 1.0)


def rotation_gaps(cal: Calibration, universe: Universe, closes: Closes) -> dict[str, float]:
    """Return small-ETF minus large-ETF window return per sector that has both ETFs."""
    return {
        sector.name: window_return(closes[sector.small_etf], cal.window)
        - window_return(closes[sector.large_etf], cal.window)
        for sector in universe.sectors
        if sector.small_etf and sector.large_etf
    }


def constituent_betas(plan: Plan, closes: Closes) -> dict[str, float]:
    """Return each constituent's OLS beta on its leg's driver (^RUT for a virtual leg)."""
    betas: dict[str, float] = {}
    for symbol, driver in plan.driver_of.items():
        source = plan.small_index if driver not in closes else driver
        x = daily_returns(closes[source], simple=False)
        y = daily_returns(closes[symbol], simple=False)
        cov = np.cov(y, x, ddof=1)
        betas[symbol] = float(cov[0, 1] / cov[1, 1])
    return betas


def daily_failures(cal: Calibration, universe: Universe, plan: Plan, closes: Closes) -> list[str]:
    """List the sector, constituent, ^VIX and ^TNX targets the closes miss."""
    targets = cal.targets
    failures: list[str] = []
    gaps = rotation_gaps(cal, universe, closes)
    failures += [
        f"{name} small lead {gaps[name]:.4f}"
        for name in targets.rotation_leaders
        if gaps[name] < targets.rotation_margin
    ]
    failures += [
        f"{name} small lag {gaps[name]:.4f}"
        for name in targets.rotation_laggards
        if gaps[name] > -targets.rotation_margin
    ]
    betas = constituent_betas(plan, closes)
    failures += [
        f"{symbol} beta {beta:.2f}"
        for symbol, beta in betas.items()
        if _outside(beta, targets.constituent_beta)
    ]
    median = float(np.median(list(betas.values())))
    if _outside(median, targets.constituent_beta_median):
        failures.append(f"median constituent beta {median:.2f}")
    vix, tnx = closes["^VIX"], closes["^TNX"]
    if _outside(float(np.median(vix)), targets.vix_median):
        failures.append(f"^VIX median {np.median(vix):.2f}")
    spx = daily_returns(closes[cal.large.symbol], simple=False)
    vix_corr = float(np.corrcoef(daily_returns(vix, simple=False), spx)[0, 1])
    if vix_corr > targets.vix_correlation_max:
        failures.append(f"^VIX correlation {vix_corr:.2f}")
    if _outside(float(tnx.mean()), targets.tnx_mean):
        failures.append(f"^TNX mean {tnx.mean():.2f}")
    return failures
