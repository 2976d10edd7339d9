"""The factor graph of the sample session: which series load on which, and by how much."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from capgap.market.universe import Universe
from capgap.sample.calibration import Calibration

NodeKind = Literal["index", "factor", "series", "tracker", "level"]


@dataclass(frozen=True, slots=True)
class Node:
    """One series of the model; ``output`` nodes are written to the sample files.

    A node's daily log return is the sum of ``parents`` loadings times the parents' log returns
    plus its own Student-t noise of volatility ``own_vol`` (trackers and level series have their
    own rules, see daily.py).
    """

    name: str
    kind: NodeKind
    output: bool
    parents: dict[str, float] = field(default_factory=dict)
    own_vol: float = 0.0
    alpha: float | None = None
    level: float | None = None
    decimals: int = 2
    volume: float = 0.0
    ratio: float = 1.0
    mean: float = 0.0
    kappa: float = 0.0
    log_level: bool = True


@dataclass(frozen=True, slots=True)
class Plan:
    """The nodes in dependency order, plus the sector leg each member follows.

    ``driver_of`` has one key per member with data: the members' tier of the files.
    """

    nodes: tuple[Node, ...]
    large_index: str
    small_index: str
    driver_of: dict[str, str]

    def by_name(self) -> dict[str, Node]:
        """Return the nodes keyed by name."""
        return {node.name: node for node in self.nodes}


def sector_factor(sector: str) -> str:
    """Return the node name of a sector's common factor."""
    return f"sector:{sector}"


def virtual_leg(sector: str) -> str:
    """Return the node name of the small-cap driver of a sector that has no small ETF."""
    return f"virtual:{sector}"


def _index_nodes(cal: Calibration) -> list[Node]:
    return [
        Node(name=spec.symbol, kind="index", output=True, own_vol=spec.daily_vol)
        for spec in (cal.large, cal.small)
    ]


def _factor_nodes(cal: Calibration, universe: Universe) -> list[Node]:
    nodes = [
        Node(name=spec.name, kind="factor", output=False, parents=spec.parents, own_vol=spec.vol)
        for spec in cal.style_factors
    ]
    for sector in universe.sectors:
        nodes.append(
            Node(
                name=sector_factor(sector.name),
                kind="factor",
                output=False,
                own_vol=cal.sector_factor_vol[sector.name],
            )
        )
    return nodes


def _sector_nodes(cal: Calibration, universe: Universe) -> tuple[list[Node], dict[str, str]]:
    nodes: list[Node] = []
    legs: dict[str, str] = {}
    for sector in universe.sectors:
        for bucket, symbol, index in (
            ("large", sector.large_etf, cal.large.symbol),
            ("small", sector.small_etf, cal.small.symbol),
        ):
            spec = cal.sector_etfs[symbol] if symbol else cal.virtual_small[sector.name]
            name = symbol or virtual_leg(sector.name)
            legs[f"{sector.name}|{bucket}"] = name
            nodes.append(
                Node(
                    name=name,
                    kind="series",
                    output=symbol is not None,
                    parents={index: spec.beta, sector_factor(sector.name): 1.0},
                    own_vol=spec.idio,
                    alpha=spec.alpha_3m,
                    level=spec.level,
                    volume=spec.volume or 0.0,
                )
            )
    return nodes, legs


def placeholder(ref_price: float | None) -> bool:
    """Tell whether a holding lacks a usable price (an escrow or CVR line): it gets no data."""
    return ref_price is None or ref_price <= 0.0


def _constituent_nodes(
    cal: Calibration,
    universe: Universe,
    legs: dict[str, str],
    rng: np.random.Generator,
) -> tuple[list[Node], dict[str, str]]:
    nodes: list[Node] = []
    driver_of: dict[str, str] = {}
    rows = universe.constituents.select("symbol", "sector", "bucket", "ref_price").iter_rows()
    for symbol, sector, bucket, ref_price in rows:
        spec = cal.buckets[bucket]
        # Drawn for every member, placeholders too, so a placeholder that gains a price one
        # day does not reshuffle every later member's draws.
        beta = float(rng.uniform(*spec.beta))
        idio = float(rng.uniform(*spec.idio))
        dollars = spec.dollar_volume * float(np.exp(spec.dollar_volume_sigma * rng.normal()))
        if placeholder(ref_price):
            continue
        level = float(ref_price)
        driver = legs[f"{sector}|{bucket}"]
        driver_of[symbol] = driver
        nodes.append(
            Node(
                name=symbol,
                kind="series",
                output=True,
                parents={driver: beta},
                own_vol=idio,
                level=level,
                # Sub-dollar stocks quote to 4 decimals (as the exchanges do): at 2 a $0.11
                # stock would move in 9 % steps.
                decimals=2 if level >= 1.0 else 4,
                volume=float(np.round(dollars / level)),
            )
        )
    return nodes, driver_of


def build_plan(cal: Calibration, universe: Universe, rng: np.random.Generator) -> Plan:
    """Lay out every node of the model; ``rng`` draws the members' betas and volumes.

    Each member closes 2025-12-04 at its holdings' ``ref_price``; placeholders (no price)
    are left out.
    """
    nodes = _index_nodes(cal) + _factor_nodes(cal, universe)
    nodes += [
        Node(
            name=spec.name,
            kind="series",
            output=True,
            parents=spec.parents,
            own_vol=spec.idio,
            level=spec.level,
            volume=spec.volume or 0.0,
        )
        for spec in cal.etfs
    ]
    sector_nodes, legs = _sector_nodes(cal, universe)
    nodes += sector_nodes
    nodes += [
        Node(
            name=spec.symbol,
            kind="tracker",
            output=True,
            parents={spec.parent: 1.0},
            own_vol=spec.noise,
            ratio=spec.ratio,
            volume=spec.volume,
        )
        for spec in cal.trackers
    ]
    nodes += [
        Node(
            name=spec.symbol,
            kind="level",
            output=True,
            parents={spec.parent: spec.loading},
            own_vol=spec.noise,
            level=spec.level,
            decimals=spec.decimals,
            mean=spec.mean,
            kappa=spec.kappa,
            log_level=spec.log,
        )
        for spec in cal.levels
    ]
    constituent_nodes, driver_of = _constituent_nodes(cal, universe, legs, rng)
    nodes += constituent_nodes
    names = [node.name for node in nodes]
    if len(set(names)) != len(names):
        raise ValueError("a symbol of the sample universe appears twice")
    return Plan(
        nodes=tuple(nodes),
        large_index=cal.large.symbol,
        small_index=cal.small.symbol,
        driver_of=driver_of,
    )
