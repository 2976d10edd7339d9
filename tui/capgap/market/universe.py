"""The monitored universe: benchmarks, style ETFs, GICS sectors and both indices' members.

The members are the funds' holdings (see capgap.market.holdings): the S&P 500 from IVV's, the
Russell 2000 from IWM's, each from the newest good download in the cache, else the dated
universe that ships with capgap.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast, get_args

import polars as pl

from capgap.core.records import replace
from capgap.core.resources import package_data
from capgap.core.schemas import CONSTITUENTS
from capgap.core.snapshot import Bucket
from capgap.market.holdings import FUNDS, Fund, Holdings, file_name, read_holdings, shipped_dir

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
    large_future: str
    small_future: str
    #: The gap in three parts (capgap.analytics.decomposition): the S&P 500 equal-weighted
    #: (Invesco's RSP) and the S&P SmallCap 600. Defaults so that a sectors file written
    #: before they joined keeps loading.
    equal_weight: str = "RSP"
    small_quality: str = "^SP600"


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
class UniverseSource:
    """Where one leg's members come from: a fund's holdings file, its date and its size.

    ``origin`` is "shipped" (the dated universe in the package) or "cache" (a download);
    ``problem`` says why a newer cached file was passed over (None when none was).
    """

    bucket: Bucket
    fund: str
    index: str
    as_of: date
    origin: str
    path: Path
    members: int
    problem: str | None = None


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
    sources: tuple[UniverseSource, ...] = ()
    #: The members' names by symbol (first listing), read from ``constituents`` at the first
    #: look-up: a filter per look-up cost 0.1 ms, and the palette asks every member's name
    #: (about 2,400) on each keystroke.
    _member_names: dict[str, str] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def core_symbols(self) -> list[str]:
        """Return the symbols quoted on every poll: benchmarks, sector ETFs and watchlists."""
        seen: dict[str, None] = {}
        for symbol in vars_in_order(self.benchmarks):
            seen[symbol] = None
        for sector in self.sectors:
            if sector.large_etf:
                seen[sector.large_etf] = None
            if sector.small_etf:
                seen[sector.small_etf] = None
        for members in self.watchlists.values():
            for symbol in members:
                seen[symbol] = None
        return list(seen)

    def member_symbols(self) -> list[str]:
        """Return the members of both indices (and custom sectors) not among the core symbols."""
        core = set(self.core_symbols())
        members = self.constituents.get_column("symbol").unique(maintain_order=True).to_list()
        return [symbol for symbol in members if symbol not in core]

    def symbols(self) -> list[str]:
        """Return every symbol to quote: the core symbols, then the members."""
        return [*self.core_symbols(), *self.member_symbols()]

    def source(self, bucket: Bucket) -> UniverseSource | None:
        """Return where the ``bucket`` leg's members come from (None for a hand-made universe)."""
        return next((source for source in self.sources if source.bucket == bucket), None)

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
        if not self._member_names and self.constituents.height:
            listed = self.constituents.select("symbol", "name").iter_rows()
            for member, name in listed:
                self._member_names.setdefault(member, str(name))
        return self._member_names.get(symbol, symbol)


def vars_in_order(benchmarks: Benchmarks) -> list[str]:
    """Return the benchmark symbols in declaration order."""
    return [getattr(benchmarks, name) for name in Benchmarks.__slots__]


def newest_holdings(fund: Fund, cache_dir: Path | None) -> tuple[Holdings, UniverseSource]:
    """Return a fund's holdings: the cached download when it is good and not older, else shipped."""
    shipped_path = shipped_dir() / file_name(fund.ticker)
    shipped = read_holdings(shipped_path)
    chosen, origin, path, problem = shipped, "shipped", shipped_path, None
    cached_path = cache_dir / file_name(fund.ticker) if cache_dir is not None else None
    if cached_path is not None and cached_path.exists():
        try:
            cached = read_holdings(cached_path)
        except ValueError as exc:
            problem = str(exc)
        else:
            if cached.as_of >= shipped.as_of:
                chosen, origin, path = cached, "cache", cached_path
    source = UniverseSource(
        bucket=fund.bucket,
        fund=fund.ticker,
        index=fund.index,
        as_of=chosen.as_of,
        origin=origin,
        path=path,
        # A CVR beside its stock shares the ticker: one member, as members_frame keeps it.
        members=chosen.rows.get_column("symbol").n_unique(),
        problem=problem,
    )
    return chosen, source


def members_frame(holdings: Holdings, bucket: Bucket) -> pl.DataFrame:
    """Return a fund's holdings as universe members (CONSTITUENTS) of the ``bucket`` leg."""
    return holdings.rows.select(
        "symbol",
        "name",
        "sector",
        pl.lit(bucket).alias("bucket"),
        pl.lit(holdings.fund).alias("fund"),
        "shares",
        pl.col("price").alias("ref_price"),
    ).unique(subset="symbol", keep="first", maintain_order=True)


def core_universe(sectors_file: Path | None = None) -> Universe:
    """Return the universe's benchmarks, sectors and names without any member.

    What a headline needs (the tmux line): reading the funds' holdings would cost it about
    55 ms of its 0.5 s.
    """
    sectors_path = sectors_file or package_data("sectors.toml")
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
    return Universe(
        benchmarks=benchmarks,
        sectors=sectors,
        names={str(k): str(v) for k, v in raw.get("names", {}).items()},
        constituents=pl.DataFrame(schema=CONSTITUENTS),
        sources=(),
    )


def load_universe(sectors_file: Path | None = None, cache_dir: Path | None = None) -> Universe:
    """Load the universe: sectors and benchmarks from TOML, members from the funds' holdings.

    ``cache_dir`` holds the daily downloads (see capgap.feeds.holdings); without one, or where a
    download is missing, unreadable or older, the shipped universe serves.
    """
    core = core_universe(sectors_file)
    frames: list[pl.DataFrame] = []
    sources: list[UniverseSource] = []
    for fund in FUNDS:
        holdings, source = newest_holdings(fund, cache_dir)
        frames.append(members_frame(holdings, fund.bucket))
        sources.append(source)
    return replace(
        core,
        constituents=pl.concat(frames).cast(dict(CONSTITUENTS.items())),
        sources=tuple(sources),
    )


def universe_in_effect(
    settings: UniverseSettings, cache_dir: Path | None, *, members: bool = True
) -> Universe:
    """Return the universe capgap watches: the newest good holdings plus the config's additions.

    The one path from the settings to a Universe, at start and after a daily holdings update;
    a clash in the config's sectors or watchlists raises ValueError (see extend_universe).
    ``members`` False leaves the funds' members out (see core_universe): a headline's universe.
    """
    base = load_universe(cache_dir=cache_dir) if members else core_universe()
    return extend_universe(base, settings)


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
    rows: list[tuple[str, str, str, str, None, None, None]] = []
    for custom in settings.sectors:
        sector = _custom_sector_def(custom, taken)
        taken.add(sector.name.casefold())
        sectors.append(sector)
        for bucket, members in (("large", custom.large), ("small", custom.small)):
            # A custom sector's stock has no fund position: its market cap weighs it.
            rows += [
                (symbol, universe.name_of(symbol), sector.name, bucket, None, None, None)
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
        sources=universe.sources,
    )
