"""The monitored universe: benchmarks, style ETFs, GICS sectors and their constituents."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast, get_args

import polars as pl

from capgap.core.resources import package_data
from capgap.core.schemas import CONSTITUENTS, conform

if TYPE_CHECKING:
    from capgap.settings.model import CustomSector, UniverseSettings

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
    """A sector with its large- and small-cap ETFs where they exist.

    A leg without an ETF is measured from its constituents (equal-weighted).
    """

    name: str
    tag: SectorTag
    large_etf: str | None
    small_etf: str | None


@dataclass(frozen=True, slots=True)
class Universe:
    """Everything capgap watches; ``constituents`` follows the CONSTITUENTS schema.

    ``watchlists`` maps a name to its symbols in display order; ``aliases`` maps a symbol to
    the label shown for it and accepted in search.
    """

    benchmarks: Benchmarks
    sectors: tuple[SectorDef, ...]
    names: dict[str, str]
    constituents: pl.DataFrame
    watchlists: dict[str, tuple[str, ...]] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)

    def symbols(self) -> list[str]:
        """Return every symbol to quote: benchmarks, sector ETFs, constituents, watchlists."""
        seen: dict[str, None] = {}
        for symbol in vars_in_order(self.benchmarks):
            seen[symbol] = None
        for sector in self.sectors:
            if sector.large_etf:
                seen[sector.large_etf] = None
            if sector.small_etf:
                seen[sector.small_etf] = None
        for symbol in self.constituents.get_column("symbol").to_list():
            seen[symbol] = None
        for members in self.watchlists.values():
            for symbol in members:
                seen[symbol] = None
        return list(seen)

    def display(self, symbol: str) -> str:
        """Return the label shown for ``symbol``: its alias, else the symbol itself."""
        return self.aliases.get(symbol, symbol)

    def resolve(self, text: str) -> str | None:
        """Return the universe's symbol that ``text`` names (a symbol or an alias, any case)."""
        wanted = text.strip().casefold()
        if not wanted:
            return None
        symbols = self.symbols()
        for symbol in symbols:
            if symbol.casefold() == wanted:
                return symbol
        known = set(symbols)
        for symbol, alias in self.aliases.items():
            if alias.casefold() == wanted and symbol in known:
                return symbol
        return None

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
            large_etf=cast(str | None, entry.get("large_etf")),
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


def _custom_sector_def(custom: CustomSector, taken: set[str]) -> SectorDef:
    """Check one CustomSector against the names already taken and return its SectorDef."""
    name = custom.name.strip()
    if not name:
        raise ValueError("a custom sector needs a name")
    if name.casefold() in taken:
        raise ValueError(f"custom sector {name!r} clashes with an existing sector of that name")
    if custom.tag not in get_args(SectorTag):
        raise ValueError(f"custom sector {name!r}: tag must be cyclical or defensive")
    both = set(custom.large) & set(custom.small)
    if both:
        raise ValueError(
            f"custom sector {name!r}: {', '.join(sorted(both))} listed as both large and small"
        )
    if not (custom.large or custom.small or custom.large_etf or custom.small_etf):
        raise ValueError(f"custom sector {name!r} has neither symbols nor ETFs")
    return SectorDef(
        name=name,
        tag=cast(SectorTag, custom.tag),
        large_etf=custom.large_etf or None,
        small_etf=custom.small_etf or None,
    )


def _watchlists(
    raw: Mapping[str, Sequence[str]], sector_names: set[str]
) -> dict[str, tuple[str, ...]]:
    watchlists: dict[str, tuple[str, ...]] = {}
    for name, members in raw.items():
        if name.casefold() in sector_names:
            raise ValueError(f"watchlist {name!r} clashes with the sector of that name")
        watchlists[name] = tuple(dict.fromkeys(members))
    return watchlists


def _aliases(raw: Mapping[str, str]) -> dict[str, str]:
    owners: dict[str, str] = {}
    for symbol, alias in raw.items():
        key = alias.casefold()
        if key in owners and owners[key] != symbol:
            raise ValueError(f"alias {alias!r} is given to both {owners[key]} and {symbol}")
        owners[key] = symbol
    return dict(raw)


def extend_universe(universe: Universe, settings: UniverseSettings) -> Universe:
    """Return ``universe`` with the user's custom sectors, watchlists and aliases added.

    Custom sectors follow the GICS ones; a leg without an ETF is measured from the sector's
    listed constituents. A custom sector or watchlist whose name clashes with a sector raises
    ValueError with a one-line message (the config layer reports it as a config error).
    """
    taken = {sector.name.casefold() for sector in universe.sectors}
    sectors = list(universe.sectors)
    rows: list[tuple[str, str, str, str]] = []
    for custom in settings.sectors:
        sector = _custom_sector_def(custom, taken)
        taken.add(sector.name.casefold())
        sectors.append(sector)
        for bucket, members in (("large", custom.large), ("small", custom.small)):
            rows += [
                (symbol, universe.name_of(symbol), sector.name, bucket)
                for symbol in dict.fromkeys(members)
            ]
    constituents = universe.constituents
    if rows:
        added = pl.DataFrame(rows, schema=CONSTITUENTS, orient="row")
        constituents = pl.concat([constituents, added])
    return Universe(
        benchmarks=universe.benchmarks,
        sectors=tuple(sectors),
        names=dict(universe.names),
        constituents=constituents,
        watchlists={**universe.watchlists, **_watchlists(settings.watchlists, taken)},
        aliases={**universe.aliases, **_aliases(settings.aliases)},
    )
