"""Load the calibration of the synthetic sample session from calibration.toml."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from capgap.market.zq import YearMonth
from capgap.sample.contracts import parse_month
from capgap.sample.fedpath import MeetingOdds
from capgap.sample.fundamentals import BucketFundamentals, FundamentalsSpec
from capgap.sample.gap_parts import GapPartsSpec

CALIBRATION_FILE = Path(__file__).resolve().parent / "calibration.toml"


@dataclass(frozen=True, slots=True)
class IndexSpec:
    """A benchmark index: its daily volatility, exact anchor closes and the session close."""

    symbol: str
    daily_vol: float
    session_close: float
    anchors: dict[date, float]
    record_at_end: bool


@dataclass(frozen=True, slots=True)
class FactorSpec:
    """A latent factor: own daily volatility and loadings on other factors."""

    name: str
    vol: float
    parents: dict[str, float]


@dataclass(frozen=True, slots=True)
class TrackerSpec:
    """An ETF that tracks an index level divided by ``ratio``."""

    symbol: str
    parent: str
    ratio: float
    noise: float
    volume: float


@dataclass(frozen=True, slots=True)
class LevelSpec:
    """A mean-reverting level series (^VIX, ^TNX) ending at ``level``."""

    symbol: str
    parent: str
    log: bool
    mean: float
    kappa: float
    loading: float
    noise: float
    level: float
    decimals: int


@dataclass(frozen=True, slots=True)
class SeriesSpec:
    """A priced series driven by loadings on parents plus own Student-t noise."""

    name: str
    parents: dict[str, float]
    idio: float
    alpha_3m: float
    level: float | None
    volume: float | None


@dataclass(frozen=True, slots=True)
class SectorEtfSpec:
    """A sector ETF (or a virtual small leg): index beta, own noise, 3-month excess, level."""

    beta: float
    idio: float
    alpha_3m: float
    level: float | None
    volume: float | None


@dataclass(frozen=True, slots=True)
class BucketSpec:
    """Ranges for the constituents of one size bucket."""

    beta: tuple[float, float]
    idio: tuple[float, float]
    dollar_volume: float
    dollar_volume_sigma: float


@dataclass(frozen=True, slots=True)
class Targets:
    """What a seed must achieve on the rounded daily closes to be accepted."""

    stats_window: int
    vol_ratio: tuple[float, float]
    correlation: tuple[float, float]
    beta: tuple[float, float]
    large_vol: tuple[float, float]
    excess_kurtosis_min: float
    rotation_leaders: tuple[str, ...]
    rotation_laggards: tuple[str, ...]
    rotation_margin: float
    constituent_beta: tuple[float, float]
    constituent_beta_share: float
    constituent_beta_median: tuple[float, float]
    vix_median: tuple[float, float]
    vix_correlation_max: float
    tnx_mean: tuple[float, float]
    large_forward_pe: tuple[float, float]
    small_discount_pct: tuple[float, float]
    large_unprofitable_pct: tuple[float, float]
    small_unprofitable_pct: tuple[float, float]
    negative_forward_pct_min: float
    cheap_sectors: tuple[str, ...]
    dear_sectors: tuple[str, ...]
    members_index_pp: float


@dataclass(frozen=True, slots=True)
class FuturesSpec:
    """The ZQ contracts of the sample: month range, designed path, history and trading noise."""

    first_month: YearMonth
    last_month: YearMonth
    daily_sessions: int
    start_rate: float
    step: float
    meetings: tuple[MeetingOdds, ...]
    probability_tolerance: float
    fallback_grid: float
    prob_daily_vol: float
    prob_correlation: float
    prob_bounds: tuple[float, float]
    session_prob_vol: float
    round_trips: float
    wick_probability: float
    volume: dict[YearMonth, float]
    #: Sessions of the single months' daily closes in all: the last ``daily_sessions`` and,
    #: before them, sessions drawn from a stream of their own (FedWatch over time).
    history_sessions: int


@dataclass(frozen=True, slots=True)
class ExtendedLegSpec:
    """One leg's index future and its ETF outside the regular session."""

    tick: float
    carry: float
    volume: float
    etf_volume: float


@dataclass(frozen=True, slots=True)
class ExtendedSpec:
    """The session outside regular hours: index futures and the ETFs' pre/post trades."""

    overnight_variance: float
    post_variance: float
    basis_noise: float
    trade_noise: float
    pre_trade_probability: float
    post_trade_probability: float
    basis_tolerance: float
    roll_days: int
    large: ExtendedLegSpec
    small: ExtendedLegSpec


@dataclass(frozen=True, slots=True)
class Calibration:
    """Everything the generator is calibrated to."""

    first_daily: date
    last_daily: date
    session_date: date
    t_df: float
    window: int
    correlation: float
    large: IndexSpec
    small: IndexSpec
    reference: dict[str, Any]
    style_factors: tuple[FactorSpec, ...]
    sector_factor_vol: dict[str, float]
    trackers: tuple[TrackerSpec, ...]
    levels: tuple[LevelSpec, ...]
    etfs: tuple[SeriesSpec, ...]
    sector_etfs: dict[str, SectorEtfSpec]
    virtual_small: dict[str, SectorEtfSpec]
    buckets: dict[str, BucketSpec]
    targets: Targets
    futures: FuturesSpec
    fundamentals: FundamentalsSpec
    extended: ExtendedSpec
    gap_parts: GapPartsSpec


def _index(raw: dict[str, Any]) -> IndexSpec:
    return IndexSpec(
        symbol=str(raw["symbol"]),
        daily_vol=float(raw["daily_vol"]),
        session_close=float(raw["session_close"]),
        anchors={date.fromisoformat(k): float(v) for k, v in raw["anchors"].items()},
        record_at_end=bool(raw.get("record_at_end", False)),
    )


def _sector_leg(raw: dict[str, Any]) -> SectorEtfSpec:
    level = raw.get("level")
    volume = raw.get("volume")
    return SectorEtfSpec(
        beta=float(raw["beta"]),
        idio=float(raw["idio"]),
        alpha_3m=float(raw["alpha_3m"]),
        level=None if level is None else float(level),
        volume=None if volume is None else float(volume),
    )


def _pair(raw: list[Any]) -> tuple[float, float]:
    low, high = (float(x) for x in raw)
    return (low, high)


def _targets(raw: dict[str, Any]) -> Targets:
    return Targets(
        stats_window=int(raw["stats_window"]),
        vol_ratio=_pair(raw["vol_ratio"]),
        correlation=_pair(raw["correlation"]),
        beta=_pair(raw["beta"]),
        large_vol=_pair(raw["large_vol"]),
        excess_kurtosis_min=float(raw["excess_kurtosis_min"]),
        rotation_leaders=tuple(str(x) for x in raw["rotation_leaders"]),
        rotation_laggards=tuple(str(x) for x in raw["rotation_laggards"]),
        rotation_margin=float(raw["rotation_margin"]),
        constituent_beta=_pair(raw["constituent_beta"]),
        constituent_beta_share=float(raw["constituent_beta_share"]),
        constituent_beta_median=_pair(raw["constituent_beta_median"]),
        vix_median=_pair(raw["vix_median"]),
        vix_correlation_max=float(raw["vix_correlation_max"]),
        tnx_mean=_pair(raw["tnx_mean"]),
        large_forward_pe=_pair(raw["large_forward_pe"]),
        small_discount_pct=_pair(raw["small_discount_pct"]),
        large_unprofitable_pct=_pair(raw["large_unprofitable_pct"]),
        small_unprofitable_pct=_pair(raw["small_unprofitable_pct"]),
        negative_forward_pct_min=float(raw["negative_forward_pct_min"]),
        cheap_sectors=tuple(str(x) for x in raw["cheap_sectors"]),
        dear_sectors=tuple(str(x) for x in raw["dear_sectors"]),
        members_index_pp=float(raw["members_index_pp"]),
    )


def _fundamentals(raw: dict[str, Any]) -> FundamentalsSpec:
    return FundamentalsSpec(
        large_forward_pe=float(raw["large_forward_pe"]),
        small_discount=float(raw["small_discount"]),
        pe_sigma=float(raw["pe_sigma"]),
        growth=_pair(raw["growth"]),
        float_range=_pair(raw["float_range"]),
        sector_pe={str(k): float(v) for k, v in raw["sector_pe"].items()},
        buckets={
            bucket: BucketFundamentals(
                negative_forward=float(raw[bucket]["negative_forward"]),
                negative_trailing=float(raw[bucket]["negative_trailing"]),
                fund_share=float(raw[bucket]["fund_share"]),
            )
            for bucket in ("large", "small")
        },
    )


def _futures(raw: dict[str, Any], effr: float) -> FuturesSpec:
    return FuturesSpec(
        first_month=parse_month(str(raw["first_month"])),
        last_month=parse_month(str(raw["last_month"])),
        daily_sessions=int(raw["daily_sessions"]),
        start_rate=effr,
        step=float(raw["step"]),
        meetings=tuple(
            MeetingOdds(date=entry["date"], p_cut=float(entry["p_cut"]))
            for entry in raw["meetings"]
        ),
        probability_tolerance=float(raw["probability_tolerance"]),
        fallback_grid=float(raw["fallback_grid"]),
        prob_daily_vol=float(raw["prob_daily_vol"]),
        prob_correlation=float(raw["prob_correlation"]),
        prob_bounds=_pair(raw["prob_bounds"]),
        session_prob_vol=float(raw["session_prob_vol"]),
        round_trips=float(raw["round_trips"]),
        wick_probability=float(raw["wick_probability"]),
        volume={parse_month(str(k)): float(v) for k, v in raw["volume"].items()},
        history_sessions=int(raw["history_sessions"]),
    )


def _gap_parts(raw: dict[str, Any]) -> GapPartsSpec:
    return GapPartsSpec(
        equal_weight=str(raw["equal_weight"]),
        equal_weight_close=float(raw["equal_weight_close"]),
        volume_parent=str(raw["volume_parent"]),
        volume_share=float(raw["volume_share"]),
        small_quality=str(raw["small_quality"]),
        parent=str(raw["parent"]),
        small_quality_close=float(raw["small_quality_close"]),
        excess_a_year=float(raw["excess_a_year"]),
        daily_noise=float(raw["daily_noise"]),
        minute_noise=float(raw["minute_noise"]),
    )


def _extended(raw: dict[str, Any]) -> ExtendedSpec:
    legs = {
        leg: ExtendedLegSpec(
            tick=float(raw[leg]["tick"]),
            carry=float(raw[leg]["carry"]),
            volume=float(raw[leg]["volume"]),
            etf_volume=float(raw[leg]["etf_volume"]),
        )
        for leg in ("large", "small")
    }
    return ExtendedSpec(
        overnight_variance=float(raw["overnight_variance"]),
        post_variance=float(raw["post_variance"]),
        basis_noise=float(raw["basis_noise"]),
        trade_noise=float(raw["trade_noise"]),
        pre_trade_probability=float(raw["pre_trade_probability"]),
        post_trade_probability=float(raw["post_trade_probability"]),
        basis_tolerance=float(raw["basis_tolerance"]),
        roll_days=int(raw["roll_days"]),
        large=legs["large"],
        small=legs["small"],
    )


def load_calibration(path: Path | None = None) -> Calibration:
    """Read calibration.toml (or ``path``) into a Calibration."""
    with (path or CALIBRATION_FILE).open("rb") as handle:
        raw: dict[str, Any] = tomllib.load(handle)
    session = raw["session"]
    factors = raw["factor"]
    return Calibration(
        first_daily=session["first_daily"],
        last_daily=session["last_daily"],
        session_date=session["session_date"],
        t_df=float(session["t_df"]),
        window=int(session["window"]),
        correlation=float(raw["index"]["correlation"]),
        large=_index(raw["index"]["large"]),
        small=_index(raw["index"]["small"]),
        reference=dict(raw["reference"]),
        style_factors=tuple(
            FactorSpec(
                name=name,
                vol=float(spec["vol"]),
                parents={str(k): float(v) for k, v in spec.get("parents", {}).items()},
            )
            for name, spec in factors.items()
            if name != "sector"
        ),
        sector_factor_vol={str(k): float(v) for k, v in factors["sector"].items()},
        trackers=tuple(
            TrackerSpec(
                symbol=symbol,
                parent=str(spec["parent"]),
                ratio=float(spec["ratio"]),
                noise=float(spec["noise"]),
                volume=float(spec["volume"]),
            )
            for symbol, spec in raw["tracker"].items()
        ),
        levels=tuple(
            LevelSpec(
                symbol=symbol,
                parent=str(spec["parent"]),
                log=bool(spec["log"]),
                mean=float(spec["mean"]),
                kappa=float(spec["kappa"]),
                loading=float(spec["loading"]),
                noise=float(spec["noise"]),
                level=float(spec["level"]),
                decimals=int(spec["decimals"]),
            )
            for symbol, spec in raw["level"].items()
        ),
        etfs=tuple(
            SeriesSpec(
                name=symbol,
                parents={str(k): float(v) for k, v in spec["parents"].items()},
                idio=float(spec["idio"]),
                alpha_3m=0.0,
                level=float(spec["level"]),
                volume=float(spec["volume"]),
            )
            for symbol, spec in raw["etf"].items()
        ),
        sector_etfs={str(k): _sector_leg(v) for k, v in raw["sector_etf"].items()},
        virtual_small={str(k): _sector_leg(v) for k, v in raw["virtual"].items()},
        buckets={
            str(name): BucketSpec(
                beta=_pair(spec["beta"]),
                idio=_pair(spec["idio"]),
                dollar_volume=float(spec["dollar_volume"]),
                dollar_volume_sigma=float(spec["dollar_volume_sigma"]),
            )
            for name, spec in raw["constituents"].items()
        },
        targets=_targets(raw["targets"]),
        # The path starts at the session's published EFFR: one figure, one place.
        futures=_futures(raw["futures"], float(raw["reference"]["effr"])),
        fundamentals=_fundamentals(raw["fundamentals"]),
        extended=_extended(raw["extended"]),
        gap_parts=_gap_parts(raw["gap_parts"]),
    )
