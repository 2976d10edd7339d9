"""The universe extended from config: custom sectors, watchlists and aliases."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest
from builders import change_quotes, store_with_quotes
from capgap.analytics.drilldown import sector_detail
from capgap.analytics.quotes import quote_rows
from capgap.analytics.sectors import etf_symbols, sector_rows
from capgap.analytics.store import MarketStore
from capgap.core.snapshot import SectorRow
from capgap.market.universe import Universe, core_universe, extend_universe, load_universe
from capgap.settings.model import CustomSector, UniverseSettings

NOW = datetime(2025, 12, 5, 20, 0, tzinfo=UTC)

AI = CustomSector(name="AI", large=("NVDA", "MSFT", "ORCL"), small=("SOUN", "BBAI"))
NUCLEAR = CustomSector(
    name="Nuclear", large=("CEG", "VST"), small=("SMR", "OKLO"), large_etf="NLR", tag="defensive"
)
SETTINGS = UniverseSettings(
    sectors=(AI, NUCLEAR),
    watchlists={"Core": ("SPY", "AAPL", "SOUN", "PLTR")},
    aliases={"^GSPC": "SPX", "^RUT": "RUT2K"},
)


@pytest.fixture(scope="module")
def base() -> Universe:
    return load_universe()


@pytest.fixture(scope="module")
def extended(base: Universe) -> Universe:
    return extend_universe(base, SETTINGS)


#: Market caps (in billions) of the custom sectors' stocks: a stock outside a fund's holdings
#: (and every stock of a custom sector) weighs its market cap.
CAPS = {"NVDA": 4000.0, "MSFT": 3500.0, "ORCL": 600.0, "SOUN": 5.0, "BBAI": 1.0}
CAPS |= {"CEG": 100.0, "VST": 60.0, "SMR": 12.0, "OKLO": 10.0}


def quoted(changes: dict[str, float]) -> MarketStore:
    frame = change_quotes(changes, NOW)
    caps = [CAPS.get(symbol) for symbol in frame.get_column("symbol").to_list()]
    return store_with_quotes(frame.with_columns(pl.Series("market_cap", caps, pl.Float64)))


def cap_weighted(changes: dict[str, float], *symbols: str) -> float:
    """The cap-weighted change: q = cap / last shares at last = 100 + change, prev = 100."""
    shares = {symbol: CAPS[symbol] / (100.0 + changes[symbol]) for symbol in symbols}
    moved = sum(shares[symbol] * changes[symbol] for symbol in symbols)
    return moved / sum(shares[symbol] * 100.0 for symbol in symbols) * 100.0


def rows_by_name(store: MarketStore, universe: Universe) -> dict[str, SectorRow]:
    rows = sector_rows(store, universe, quote_rows(store.quotes, etf_symbols(universe)))
    return {row.sector: row for row in rows}


def test_custom_sectors_follow_the_gics_ones(base: Universe, extended: Universe) -> None:
    names = [sector.name for sector in extended.sectors]
    assert names[: len(base.sectors)] == [sector.name for sector in base.sectors]
    assert names[len(base.sectors) :] == ["AI", "Nuclear"]
    nuclear = extended.sectors[-1]
    assert (nuclear.tag, nuclear.large_etf, nuclear.small_etf) == ("defensive", "NLR", None)
    # The base universe is left as it was.
    assert [sector.name for sector in base.sectors][-1] == "Utilities"
    assert base.watchlists == {} and base.aliases == {}


def test_custom_sector_rows_come_from_constituents(extended: Universe) -> None:
    changes = {"NVDA": 3.0, "MSFT": -1.0, "SOUN": 5.0, "BBAI": -2.0}
    changes |= {"CEG": 1.0, "VST": 2.0, "SMR": -4.0, "NLR": 0.5}
    rows = rows_by_name(quoted(changes), extended)
    ai = rows["AI"]
    # No fund on either side: both legs are their stocks' cap-weighted move. ORCL has no
    # quote, so no known cap: the quoted NVDA and MSFT are all the leg's known weight.
    assert ai.large.etf_symbol is None and not ai.large.from_etf
    large = cap_weighted(changes, "NVDA", "MSFT")
    small = cap_weighted(changes, "SOUN", "BBAI")
    assert ai.large.change_pct == pytest.approx(large)
    assert ai.large.members == 3 and ai.large.breadth_pct == pytest.approx(50.0)
    assert ai.large.weight_pct is None  # not a fund's position: no weight in an index
    assert ai.small.change_pct == pytest.approx(small)
    assert ai.spread_pp == pytest.approx(small - large)
    assert ai.breadth_pct == pytest.approx(50.0)  # NVDA and SOUN up of four quoted
    assert [mover.symbol for mover in ai.leaders] == ["SOUN", "NVDA"]  # MSFT fell
    nuclear = rows["Nuclear"]
    # The legs are the stocks; the large side's fund is a reference beside them.
    assert nuclear.large.etf_symbol == "NLR"
    assert nuclear.large.etf_change_pct == pytest.approx(0.5)
    assert nuclear.large.change_pct == pytest.approx(cap_weighted(changes, "CEG", "VST"))
    assert nuclear.small.change_pct == pytest.approx(-4.0)  # SMR alone (OKLO unquoted)
    assert nuclear.spread_pp == pytest.approx(-4.0 - cap_weighted(changes, "CEG", "VST"))
    assert nuclear.tag == "defensive"
    # A constituent of both a GICS and a custom sector counts in both.
    tech = rows["Information Technology"]
    assert "NVDA" in {mover.symbol for mover in (*tech.leaders, *tech.laggards)}


def test_custom_sector_detail_lists_its_names(extended: Universe) -> None:
    store = quoted({"NVDA": 3.0, "MSFT": -1.0, "SOUN": 5.0})
    detail = sector_detail(store, extended, "AI")
    assert detail is not None and detail.kind == "sector"
    assert [row.symbol for row in detail.constituents] == ["NVDA", "MSFT", "ORCL", "SOUN", "BBAI"]
    nvda = detail.constituents[0]
    # Known names keep their universe name; NVDA is measured against its leg's move.
    assert nvda.name == "NVIDIA CORP" and nvda.bucket == "large"
    leg = cap_weighted({"NVDA": 3.0, "MSFT": -1.0}, "NVDA", "MSFT")
    assert nvda.vs_etf_pp == pytest.approx(3.0 - leg)
    assert detail.constituents[3].weight_pct == pytest.approx(100.0)  # SOUN alone quoted


def test_symbols_include_custom_members_etfs_and_watchlists(
    base: Universe, extended: Universe
) -> None:
    symbols = extended.symbols()
    core = extended.core_symbols()
    # Quoted every poll: the base's core (benchmarks, sector funds), the custom sectors'
    # funds, then the watchlists; the members follow, for the rolling refresh.
    assert core[: len(base.core_symbols())] == base.core_symbols()
    assert core[len(base.core_symbols()) :] == ["NLR", "AAPL", "SOUN", "PLTR"]  # SPY is a base fund
    assert symbols[: len(core)] == core
    assert set(extended.member_symbols()) == set(base.member_symbols()) - {
        "AAPL",
        "SOUN",
        "PLTR",
    } | {symbol for symbol in ("NVDA", "MSFT", "ORCL", "BBAI", "CEG", "VST", "SMR", "OKLO")}
    for symbol in ("NLR", "SOUN", "BBAI", "SMR", "OKLO", "PLTR"):
        assert symbol in symbols
    assert len(symbols) == len(set(symbols))
    assert extended.watchlists == {"Core": ("SPY", "AAPL", "SOUN", "PLTR")}
    assert "NLR" in etf_symbols(extended) and None not in etf_symbols(extended)


def test_resolve_and_display_with_aliases(extended: Universe) -> None:
    assert extended.display("^GSPC") == "SPX"
    assert extended.display("AAPL") == "AAPL"
    assert extended.resolve("spx") == "^GSPC"
    assert extended.resolve(" Rut2k ") == "^RUT"
    assert extended.resolve("aapl") == "AAPL"
    assert extended.resolve("^gspc") == "^GSPC"
    assert extended.resolve("pltr") == "PLTR"  # a watchlist symbol is in the universe
    assert extended.resolve("NOPE") is None
    assert extended.resolve("") is None


def test_an_alias_of_a_symbol_outside_the_universe_resolves_to_nothing(base: Universe) -> None:
    universe = extend_universe(base, UniverseSettings(aliases={"ZZZZ": "ZED"}))
    assert universe.resolve("zed") is None
    assert universe.display("ZZZZ") == "ZED"


@pytest.mark.parametrize(
    "settings, message",
    [
        (UniverseSettings(sectors=(CustomSector(name="Energy", large=("XOM",)),)), "Energy"),
        (UniverseSettings(sectors=(CustomSector(name="health care", large=("X",)),)), "health"),
        (UniverseSettings(sectors=(AI, CustomSector(name="AI", large=("X",)))), "AI"),
        (UniverseSettings(sectors=(CustomSector(name="Odd", large=("X",), tag="risky"),)), "tag"),
        (UniverseSettings(sectors=(CustomSector(name="Both", large=("X",), small=("X",)),)), "X"),
        (UniverseSettings(sectors=(CustomSector(name="Empty"),)), "Empty"),
        (UniverseSettings(watchlists={"Financials": ("JPM",)}), "Financials"),
        (UniverseSettings(aliases={"^GSPC": "IDX", "^RUT": "idx"}), "idx"),
    ],
)
def test_bad_settings_raise_one_line_value_errors(
    base: Universe, settings: UniverseSettings, message: str
) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        extend_universe(base, settings)
    assert "\n" not in str(caught.value)
    # Nothing was replaced: the GICS sectors are intact.
    assert [sector.name for sector in base.sectors].count("Energy") == 1


def test_a_members_name_is_its_first_listing_in_the_constituents() -> None:
    # The second method: a filter of the frame for each member (what name_of did before it
    # kept the names; the palette asked it for every member on each keystroke).
    universe = load_universe()
    frame = universe.constituents
    for symbol in universe.member_symbols():
        listed = frame.filter(pl.col("symbol") == symbol)
        assert universe.name_of(symbol) == str(listed.item(0, "name")), symbol
    assert universe.name_of("NOT-A-MEMBER") == "NOT-A-MEMBER"
    assert (
        universe.name_of(universe.benchmarks.large_index)
        == universe.names[universe.benchmarks.large_index]
    )


def test_the_core_universe_is_the_universe_without_its_members() -> None:
    # The tmux line's universe: the benchmarks, sectors and names of the whole one, no member.
    whole, core = load_universe(), core_universe()
    assert core.constituents.height == 0 and core.constituents.schema == whole.constituents.schema
    assert (core.benchmarks, core.sectors, core.names) == (
        whole.benchmarks,
        whole.sectors,
        whole.names,
    )
    assert core.sources == () and whole.sources
