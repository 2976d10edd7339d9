"""The monitored universe: benchmarks, style ETFs, GICS sectors and their constituents."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import polars as pl

from tui.analytics.schemas import CONSTITUENTS, conform
from tui.resources import package_data

SectorTag = Literal["cyclical", "defensive"]


@dataclass(frozen=True, slots=True)
class Benchmarks:
    """Symbols of the indices and ETFs the spread and style panels use."""

    large_index: str
    small_index: str
    large_etf: str
    small_etf: str
    large_value: str
    large_growth: str
    small_value: str
    small_growth: str
    volatility: str
    ten_year: str


@dataclass(frozen=True, slots=True)
class SectorDef:
    """A GICS sector with its large-cap ETF and, where one exists, its small-cap ETF."""

    name: str
    tag: SectorTag
    large_etf: str
    small_etf: str | None


@dataclass(frozen=True, slots=True)
class Universe:
    """Everything capgap watches; ``constituents`` follows the CONSTITUENTS schema."""

    benchmarks: Benchmarks
    sectors: tuple[SectorDef, ...]
    names: dict[str, str]
    constituents: pl.DataFrame

    def symbols(self) -> list[str]:
        """Return every symbol to quote: benchmarks, sector ETFs, then constituents."""
        seen: dict[str, None] = {}
        for symbol in vars_in_order(self.benchmarks):
            seen[symbol] = None
        for sector in self.sectors:
            seen[sector.large_etf] = None
            if sector.small_etf:
                seen[sector.small_etf] = None
        for symbol in self.constituents.get_column("symbol").to_list():
            seen[symbol] = None
        return list(seen)

    def name_of(self, symbol: str) -> str:
        """Return a display name for any symbol of the universe (the symbol when unknown)."""
        if symbol in self.names:
            return self.names[symbol]
        match = self.constituents.filter(pl.col("symbol") == symbol)
        return str(match.item(0, "name")) if match.height else symbol


def vars_in_order(benchmarks: Benchmarks) -> list[str]:
    """Return the benchmark symbols in declaration order."""
    return [getattr(benchmarks, name) for name in Benchmarks.__slots__]


def load_universe(
    sectors_file: Path | None = None, constituents_file: Path | None = None
) -> Universe:
    """Load the universe from TOML (sectors) and CSV (constituents); defaults ship in tui/data."""
    sectors_path = sectors_file or package_data("sectors.toml")
    constituents_path = constituents_file or package_data("constituents.csv")
    with sectors_path.open("rb") as handle:
        raw: dict[str, Any] = tomllib.load(handle)
    benchmarks = Benchmarks(**cast(dict[str, str], raw["benchmarks"]))
    sectors = tuple(
        SectorDef(
            name=str(entry["name"]),
            tag=cast(SectorTag, entry["tag"]),
            large_etf=str(entry["large_etf"]),
            small_etf=cast(str | None, entry.get("small_etf")),
        )
        for entry in raw["sector"]
    )
    constituents = conform(
        pl.read_csv(constituents_path, schema_overrides={"symbol": pl.String}), CONSTITUENTS
    )
    return Universe(
        benchmarks=benchmarks,
        sectors=sectors,
        names={str(k): str(v) for k, v in raw.get("names", {}).items()},
        constituents=constituents,
    )
