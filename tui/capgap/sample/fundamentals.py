"""Synthetic fundamentals of the sample's members: forward and trailing EPS, market cap.

Calibrated to the aggregates index providers publish (see calibration.toml [fundamentals]):
each member's forward P/E is its sector's relative P/E times log-normal dispersion; a share of
members lose money (forward, trailing); then each bucket's EPS are scaled so the bottom-up
forward P/E, sum(q * p) / sum(q * eps_forward) over members with eps_forward > 0, hits the
bucket's target on the 2025-12-04 closes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from capgap.core.snapshot import Bucket
from capgap.sample.model import FloatArray, floats

#: The written file's schema: one row per member with data.
FUNDAMENTALS: pl.Schema = pl.Schema(
    {
        "symbol": pl.String(),
        "market_cap": pl.Float64(),
        "eps_forward": pl.Float64(),
        "eps_trailing": pl.Float64(),
    }
)


@dataclass(frozen=True, slots=True)
class BucketFundamentals:
    """One size bucket's design: loss-making shares and the fund's share of the index."""

    negative_forward: float
    negative_trailing: float
    fund_share: float


@dataclass(frozen=True, slots=True)
class FundamentalsSpec:
    """What the synthetic fundamentals are calibrated to."""

    large_forward_pe: float
    small_discount: float
    pe_sigma: float
    growth: tuple[float, float]
    float_range: tuple[float, float]
    sector_pe: dict[str, float]
    buckets: dict[str, BucketFundamentals]

    def forward_pe(self, bucket: str) -> float:
        """Return the bucket's bottom-up forward P/E target (small = large less the discount)."""
        if bucket == "large":
            return self.large_forward_pe
        return self.large_forward_pe * (1.0 - self.small_discount)


def bottom_up_pe(shares: FloatArray, prices: FloatArray, eps: FloatArray) -> float | None:
    """Return sum(q * p) / sum(q * eps) over members with eps > 0 (None when none has)."""
    keep = eps > 0.0
    earnings = float(np.sum(shares[keep] * eps[keep]))
    if earnings <= 0.0:
        return None
    return float(np.sum(shares[keep] * prices[keep])) / earnings


def draw_fundamentals(
    spec: FundamentalsSpec,
    members: pl.DataFrame,
    rng: np.random.Generator,
) -> pl.DataFrame:
    """Draw each member's fundamentals; ``members`` has symbol, sector, bucket, shares, price.

    ``price`` is the member's 2025-12-04 close (the market cap is at that price).
    """
    size = members.height
    prices = floats(members.get_column("price").to_numpy())
    shares = floats(members.get_column("shares").to_numpy())
    buckets = members.get_column("bucket").to_list()
    relative = floats([spec.sector_pe[sector] for sector in members.get_column("sector")])
    # Every draw is made for every member, in one order: the result depends only on the seed.
    dispersion = np.exp(spec.pe_sigma * rng.standard_normal(size) - spec.pe_sigma**2 / 2.0)
    loss_draw = rng.uniform(size=size)
    turnaround_draw = rng.uniform(size=size)
    loss_depth = rng.uniform(0.02, 0.25, size)
    deeper = rng.uniform(1.0, 1.6, size)
    turnaround_depth = rng.uniform(0.01, 0.10, size)
    growth = np.clip(spec.growth[0] + spec.growth[1] * rng.standard_normal(size), -0.5, 2.0)
    free_float = rng.uniform(*spec.float_range, size)

    neg_forward = np.array(
        [loss_draw[k] < spec.buckets[b].negative_forward for k, b in enumerate(buckets)]
    )
    # Among members still earning forward, the share that lost money over the last twelve
    # months, so that the bucket's loss-making share (by count) is negative_trailing.
    turnaround = np.array(
        [
            turnaround_draw[k]
            < (spec.buckets[b].negative_trailing - spec.buckets[b].negative_forward)
            / (1.0 - spec.buckets[b].negative_forward)
            for k, b in enumerate(buckets)
        ]
    )
    pe = relative * dispersion
    eps_forward = np.where(neg_forward, -prices * loss_depth, prices / pe)
    eps_trailing = np.where(
        neg_forward,
        eps_forward * deeper,
        np.where(turnaround, -prices * turnaround_depth, eps_forward / (1.0 + growth)),
    )
    for bucket in ("large", "small"):
        rows = np.array([b == bucket for b in buckets])
        if not rows.any():
            continue
        measured = bottom_up_pe(shares[rows], prices[rows], eps_forward[rows])
        if measured is None:
            continue
        # One scale per bucket lands its bottom-up P/E on the target; the dispersion and
        # the sectors' order stay as drawn.
        scale = measured / spec.forward_pe(bucket)
        eps_forward[rows] *= scale
        eps_trailing[rows] *= scale
    fund_share = floats([spec.buckets[b].fund_share for b in buckets])
    market_cap = shares * prices / fund_share / free_float
    return pl.DataFrame(
        {
            "symbol": members.get_column("symbol"),
            "market_cap": np.round(market_cap, 0),
            "eps_forward": np.round(eps_forward, 4),
            "eps_trailing": np.round(eps_trailing, 4),
        },
        schema=FUNDAMENTALS,
    )


@dataclass(frozen=True, slots=True)
class LegFundamentals:
    """The aggregates of one bucket measured on the written figures."""

    bucket: Bucket
    members: int
    forward_pe: float | None
    forward_pe_incl_negative: float | None
    unprofitable_pct: float
    negative_forward_pct: float


def leg_fundamentals(bucket: Bucket, frame: pl.DataFrame) -> LegFundamentals:
    """Measure one bucket; ``frame`` has shares, price (the session's last) and the EPS."""
    shares = floats(frame.get_column("shares").to_numpy())
    prices = floats(frame.get_column("price").to_numpy())
    eps = floats(frame.get_column("eps_forward").to_numpy())
    trailing = floats(frame.get_column("eps_trailing").to_numpy())
    earnings = float(np.sum(shares * eps))
    return LegFundamentals(
        bucket=bucket,
        members=frame.height,
        forward_pe=bottom_up_pe(shares, prices, eps),
        forward_pe_incl_negative=(
            float(np.sum(shares * prices)) / earnings if earnings > 0.0 else None
        ),
        unprofitable_pct=100.0 * float(np.mean(trailing < 0.0)),
        negative_forward_pct=100.0 * float(np.mean(eps < 0.0)),
    )
