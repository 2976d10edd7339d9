"""Numerical building blocks of the sample generator: fat-tailed noise, anchored paths, bridges."""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

#: Share of a day's own move that happens overnight, in the opening gap.
GAP_SHARE = 0.25
#: Size of the wicks beyond the open/close body, in units of the period's volatility.
WICK = 0.45
#: Minutes in a regular NYSE session.
MINUTES = 390


def floats(values: npt.ArrayLike) -> FloatArray:
    """Return ``values`` as a float64 array (numpy's stubs lose the dtype in arithmetic)."""
    return np.asarray(values, dtype=np.float64)


def rounded(values: npt.ArrayLike, decimals: int) -> FloatArray:
    """Round to ``decimals`` places, as every written price is."""
    return floats(np.round(floats(values), decimals))


def student_t(rng: np.random.Generator, df: float, size: int | tuple[int, ...]) -> FloatArray:
    """Draw Student-t variates with ``df`` degrees of freedom scaled to unit variance."""
    return floats(rng.standard_t(df, size) * np.sqrt((df - 2.0) / df))


def correlated_t(rng: np.random.Generator, df: float, size: int, correlation: float) -> FloatArray:
    """Draw ``size`` pairs of unit-variance multivariate-t variates with the given correlation.

    One shared chi-square scale per row gives joint tail events (big down days hit both).
    """
    chol = np.linalg.cholesky(np.array([[1.0, correlation], [correlation, 1.0]]))
    normal = rng.standard_normal((size, 2)) @ chol.T
    scale = np.sqrt(rng.chisquare(df, size) / df)
    return floats(normal / scale[:, None] * np.sqrt((df - 2.0) / df))


def anchored_log_path(returns: FloatArray, anchors: dict[int, float]) -> FloatArray:
    """Integrate log returns into a log-price path that passes exactly through ``anchors``.

    ``returns[k]`` is the move from point k-1 to k (``returns[0]`` is ignored); ``anchors`` maps
    point indices to log prices. Between two anchors every return gets the same constant added,
    which leaves volatility and correlation nearly unchanged. Before the first anchor and after
    the last one the raw returns are integrated outward.
    """
    size = returns.shape[0]
    path = np.empty(size)
    points = sorted(anchors)
    first, last = points[0], points[-1]
    path[first] = anchors[first]
    for k in range(first - 1, -1, -1):
        path[k] = path[k + 1] - returns[k + 1]
    for start, end in itertools.pairwise(points):
        segment = returns[start + 1 : end + 1]
        shift = (anchors[end] - anchors[start] - segment.sum()) / (end - start)
        path[start + 1 : end + 1] = anchors[start] + np.cumsum(segment + shift)
        path[end] = anchors[end]
    for k in range(last + 1, size):
        path[k] = path[k - 1] + returns[k]
    return path


def bridge(increments: FloatArray, variances: FloatArray, target: float) -> FloatArray:
    """Turn random-walk ``increments`` into a bridge from 0 that ends exactly at ``target``.

    Returns len(increments) + 1 points starting at 0. The correction is spread in proportion to
    the cumulative variance, as for a Brownian bridge with time-varying volatility.
    """
    walk = np.concatenate(([0.0], np.cumsum(increments)))
    clock = np.concatenate(([0.0], np.cumsum(variances))) / variances.sum()
    return floats(walk + clock * (target - walk[-1]))


def intraday_variance_profile() -> FloatArray:
    """Return the share of a day's variance in each minute: high at the open and the close."""
    minute = np.arange(MINUTES, dtype=np.float64)
    weight = 1.0 + 1.5 * np.exp(-minute / 25.0) + 0.6 * np.exp(-(MINUTES - 1 - minute) / 30.0)
    return floats(weight / weight.sum())


def intraday_volume_profile() -> FloatArray:
    """Return the share of a day's volume in each minute: the familiar U shape."""
    minute = np.arange(MINUTES, dtype=np.float64)
    weight = 1.0 + 2.0 * np.exp(-minute / 30.0) + 2.5 * np.exp(-(MINUTES - 1 - minute) / 20.0)
    return floats(weight / weight.sum())


def ohlc(
    rng: np.random.Generator,
    log_open: FloatArray,
    log_close: FloatArray,
    vol: float | FloatArray,
    decimals: int,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Build rounded open, high, low, close from log open/close and a period volatility.

    Rounding is monotone, so the rounded high stays >= the rounded open and close, and the low
    stays <= them.
    """
    size = log_open.shape[0]
    top = np.maximum(log_open, log_close) + WICK * vol * np.abs(rng.standard_normal(size))
    bottom = np.minimum(log_open, log_close) - WICK * vol * np.abs(rng.standard_normal(size))
    return (
        rounded(np.exp(log_open), decimals),
        rounded(np.exp(top), decimals),
        rounded(np.exp(bottom), decimals),
        rounded(np.exp(log_close), decimals),
    )


def volumes(rng: np.random.Generator, base: float, returns: FloatArray, vol: float) -> FloatArray:
    """Draw whole-share volumes around ``base``, higher on days with large moves."""
    if base <= 0.0:
        return floats(np.zeros(returns.shape[0]))
    surprise = np.abs(returns) / max(vol, 1e-12) - 0.8
    noise = 0.3 * rng.standard_normal(returns.shape[0])
    return rounded(base * np.exp(noise + 0.35 * np.clip(surprise, -1.0, 4.0)), 0)
