"""Index legs weighted as the index is: change, contributions, bottom-up P/E and breadth.

A member's weight is the shares its fund holds times its price (``q * p``; a stock without a
fund position, in a custom sector, weighs its market cap: ``q = market_cap / p``). Every figure
of a leg is a ratio of sums over its members, so one group-by over (bucket, sector) gives the
sectors' sums and adding them up gives the indices': the sectors' weighted changes then add up
to their index's change by construction. See market-facts "Index aggregates".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from operator import itemgetter
from typing import Any, NamedTuple, cast

import polars as pl

from capgap.analytics.store import MarketStore
from capgap.core.schemas import frame_of
from capgap.core.snapshot import COVERAGE_MIN_PCT, Bucket, IndexLegs, LegStats, empty_leg
from capgap.market.universe import Universe

#: The quote columns a member's figures need, gathered from the store by row position.
QUOTE_COLUMNS = (
    "last",
    "prev_close",
    "market_cap",
    "eps_forward",
    "eps_trailing",
    "avg_50d",
    "avg_200d",
    "high_52w",
    "low_52w",
    "day_high",
    "day_low",
)

_Q = pl.col("q")
_LAST = pl.col("last")
_PREV = pl.col("prev_close")
_EPS = pl.col("eps_forward")
_QUOTED = pl.col("quoted")
_REF = pl.col("ref_value")
_DAY_HIGH = pl.col("day_high")
_DAY_LOW = pl.col("day_low")


def universe_members(universe: Universe) -> pl.DataFrame:
    """Return the universe's members with their sector's position (null: no such sector).

    Columns: symbol, name, bucket, fund, shares, ref_price, sector_idx; ``first_listed`` (the
    symbol's first row in its sector: the one a list of movers shows), ``in_index`` (a fund
    holds it), the row's runs: ``sector_run`` (its sector) and ``group`` (its sector, leg
    and ``in_index``), ``symbol_rank`` (the symbol's place in their order) and ``row`` (the
    row's position). Rows come by sector, then leg, in the universe's order within each,
    unknown sectors last. Index members keep their rows even when their sector is not one of
    the universe's: they count in the index.
    """
    order = pl.DataFrame(
        {"sector": [sector.name for sector in universe.sectors]}, schema={"sector": pl.String}
    ).with_row_index("sector_idx")
    # Everything here is static for the universe, worked out once rather than every tick:
    # the first listings (no unique() per tick) and the rows in runs of equal keys, so that
    # each tick's group sums add up runs of rows rather than hash every row.
    return (
        universe.constituents.join(order, on="sector", how="left", maintain_order="left")
        .select("symbol", "name", "bucket", "fund", "shares", "ref_price", "sector_idx")
        .with_columns(
            first_listed=pl.col("sector_idx").is_not_null()
            & pl.struct("sector_idx", "symbol").is_first_distinct(),
            in_index=pl.col("fund").is_not_null(),
        )
        .sort("sector_idx", "bucket", "in_index", nulls_last=True, maintain_order=True)
        .with_columns(
            sector_run=pl.col("sector_idx").rle_id(),
            group=pl.struct("sector_idx", "bucket", "in_index").rle_id(),
            symbol_rank=pl.col("symbol").rank("dense"),
        )
        .with_row_index("row")
    )


def positions_in(members: pl.DataFrame, quotes: pl.DataFrame) -> pl.Series:
    """Return, per member, its row position in ``quotes`` (null when it has no quote)."""
    where = quotes.select("symbol").with_row_index("position")
    return members.select("symbol").join(where, on="symbol", how="left", maintain_order="left")[
        "position"
    ]


class MemberLayout(NamedTuple):
    """What the members' values need besides the quotes: fixed while the quotes' layout is."""

    where: pl.Series  # each member's row in the quotes (null: no quote)
    placed: pl.Series  # the member has a quote
    shares: pl.Series  # the fund's shares held (null: weighed by market cap)
    held: pl.Series  # the fund holds shares of it
    holdings_value: pl.Series  # shares times the holdings' price (null when either is unknown)
    valued: pl.Series  # holdings_value is known
    zeros: pl.Series  # 0.0 for every member
    noes: pl.Series  # False for every member


def member_layout(members: pl.DataFrame, where: pl.Series) -> MemberLayout:
    """Return the members' MemberLayout for their quote positions ``where``."""
    shares = members.get_column("shares")
    holdings_value = shares * members.get_column("ref_price")
    return MemberLayout(
        where=where,
        placed=where.is_not_null(),
        shares=shares,
        held=shares.is_not_null(),
        holdings_value=holdings_value,
        valued=holdings_value.is_not_null(),
        zeros=pl.repeat(0.0, members.height, dtype=pl.Float64, eager=True),
        noes=pl.repeat(False, members.height, dtype=pl.Boolean, eager=True),
    )


def _known(values: pl.Series, layout: MemberLayout) -> pl.Series:
    """Return whether each of ``values`` is known (not null), as plain True and False."""
    # ``x == x`` is null where x is null (NaN equals NaN in polars), and choosing by a mask
    # takes the other side where the mask is null: both native, unlike is_not_null(), which
    # is a query of its own.
    same = values == values
    return same.zip_with(same, layout.noes)


def member_values(
    members: pl.DataFrame,
    quotes: pl.DataFrame,
    where: pl.Series,
    layout: MemberLayout | None = None,
) -> pl.DataFrame:
    """Return each member's quote values and weight inputs, aligned with ``members``.

    Adds the QUOTE_COLUMNS, ``q`` (shares held, or market cap over price), ``quoted`` (a
    price and a previous close and a weight), ``ref_value`` (the weight coverage is judged by:
    shares times the holdings' price, else the market cap; zero when unknown) and
    ``change_pct``. ``layout`` is member_layout(members, where), made here when not given.
    """
    layout = member_layout(members, where) if layout is None else layout
    # A gather of each column (a null position gives a null), then Series arithmetic: this
    # runs every tick, and each query (with_columns, select) costs more than all of it. A
    # column's gather is native; the frame's takes half as long again for the same rows.
    gathered = {name: quotes.get_column(name)[where] for name in QUOTE_COLUMNS}
    last, prev, market_cap = gathered["last"], gathered["prev_close"], gathered["market_cap"]
    q = layout.shares.zip_with(layout.held, market_cap / last).alias("q")
    # A stored quote always has a price and a previous close (MarketStore drops any other),
    # so a member is quoted where it has a quote and a weight.
    quoted = (layout.placed & _known(q, layout)).alias("quoted")
    ref_value = layout.holdings_value.zip_with(
        layout.valued, market_cap.zip_with(_known(market_cap, layout), layout.zeros)
    ).alias("ref_value")
    change_pct = ((last / prev - 1.0) * 100.0).alias("change_pct")
    columns = [*members.get_columns(), *gathered.values(), q, quoted, ref_value, change_pct]
    return frame_of(columns)


def held_value(price: pl.Expr) -> pl.Expr:
    """Return a member's value in its index at ``price``: ``q * price`` (null when unquoted).

    The one definition of a member's weight: the legs' sums and the drilldown's weights and
    contributions are all made of it, so a leg's contributions add up to its change.
    """
    return pl.when(_QUOTED).then(_Q * price)


def _covering(mask: pl.Expr) -> pl.Expr:
    """Return the reference weight of the quoted members where ``mask`` holds (coverage)."""
    return pl.when(_QUOTED & mask).then(_REF).otherwise(0.0).sum()


def _count(mask: pl.Expr) -> pl.Expr:
    return (_QUOTED & mask).fill_null(False).sum()


def _total(value: pl.Expr, mask: pl.Expr) -> pl.Expr:
    return pl.when(_QUOTED & mask).then(value).otherwise(0.0).sum()


#: A group's id and keys.
_KEYS = ("group", "bucket", "sector_idx", "in_index")


def _day_sums() -> list[pl.Expr]:
    """Return the sums that hold for the day: who counts, the weights, earnings and averages.

    They read only DAY_INPUTS, whether the day's high and low are known (see
    current_day_sums) and the members' groups: none of the tick's prices.
    """
    positive = _EPS > 0
    has_eps = _EPS.is_not_null()
    ttm = pl.col("eps_trailing")
    avg_50, avg_200 = pl.col("avg_50d"), pl.col("avg_200d")
    return [
        *(pl.col(key).first() for key in _KEYS[1:]),
        pl.len().alias("members"),
        _QUOTED.sum().alias("quoted"),
        _REF.sum().alias("ref_total"),
        _covering(pl.lit(True)).alias("ref_quoted"),
        held_value(_PREV).sum().alias("prev_value"),
        _total(_Q * _EPS, positive).alias("pe_earnings"),
        _total(_Q * _EPS, has_eps).alias("pe_earnings_all"),
        _covering(has_eps).alias("ref_eps"),
        _count(ttm.is_not_null()).alias("ttm_known"),
        _count(ttm < 0).alias("ttm_negative"),
        _covering(ttm.is_not_null()).alias("ref_ttm"),
        _count(avg_50.is_not_null()).alias("known_50d"),
        _covering(avg_50.is_not_null()).alias("ref_50d"),
        _count(avg_200.is_not_null()).alias("known_200d"),
        _covering(avg_200.is_not_null()).alias("ref_200d"),
        # Each count by the coverage of what it compares: an unknown low says nothing of highs.
        _covering(pl.col("high_52w").is_not_null() & _DAY_HIGH.is_not_null()).alias("ref_highs"),
        _covering(pl.col("low_52w").is_not_null() & _DAY_LOW.is_not_null()).alias("ref_lows"),
    ]


#: What the day's sums read besides the groups: while these columns are unchanged, so are they.
DAY_INPUTS = (
    "quoted",
    "q",
    "ref_value",
    "prev_close",
    "eps_forward",
    "eps_trailing",
    "avg_50d",
    "avg_200d",
    "high_52w",
    "low_52w",
)


def _only(mask: pl.Expr, value: pl.Expr) -> pl.Expr:
    """Return ``value`` where a quoted member meets ``mask``, else null (a sum skips it)."""
    return pl.when(_QUOTED & mask).then(value)


def day_weights(values: pl.DataFrame) -> pl.DataFrame:
    """Return, per member row, the day's inputs of the tick's sums: null where they skip it.

    Columns ``group``; ``q_all``, ``q_pe`` and ``q_eps``, the weight of a quoted member (of
    one with positive forward earnings, of one with any); ``prev``, ``avg_50d``, ``avg_200d``,
    ``high_52w`` and ``low_52w`` of a quoted member. Made once a day (see
    current_day_sums): the tick's sums are then a product or a comparison each, with no
    condition to evaluate (see :func:`tick_sums`).
    """
    always = pl.lit(True)
    return values.select(
        "group",
        q_all=_only(always, _Q),
        q_pe=_only(_EPS > 0, _Q),
        q_eps=_only(_EPS.is_not_null(), _Q),
        prev=_only(always, _PREV),
        avg_50d=_only(always, pl.col("avg_50d")),
        avg_200d=_only(always, pl.col("avg_200d")),
        high_52w=_only(always, pl.col("high_52w")),
        low_52w=_only(always, pl.col("low_52w")),
    )


#: The tick's columns the sums read beside the day's weights.
TICK_INPUTS = ("last", "day_high", "day_low")


def _tick_sums() -> list[pl.Expr]:
    """Return the sums that move with the prices (see LegStats), over day_weights' columns.

    Each is one product or comparison and a sum: a null (a member that does not count) drops
    out of the sum by itself.
    """
    prev = pl.col("prev")
    day_high, day_low = _DAY_HIGH, _DAY_LOW
    return [
        (pl.col("q_all") * _LAST).sum().alias("last_value"),
        (pl.col("q_pe") * _LAST).sum().alias("pe_price"),
        (pl.col("q_eps") * _LAST).sum().alias("pe_price_all"),
        (prev < _LAST).sum().alias("up"),
        (prev != _LAST).sum().alias("moved"),
        (pl.col("avg_50d") < _LAST).sum().alias("above_50d"),
        (pl.col("avg_200d") < _LAST).sum().alias("above_200d"),
        (day_high >= pl.col("high_52w")).sum().alias("new_highs"),
        (day_low <= pl.col("low_52w")).sum().alias("new_lows"),
    ]


#: Leaders and laggards shown per sector.
MOVERS = 3

# The aggregations of a group, built once (building them costs as much as a query).
_DAY_AGGREGATIONS = tuple(_day_sums())
_TICK_AGGREGATIONS = tuple(_tick_sums())

#: The columns of a leg's sums (everything but the group keys).
SUM_COLUMNS = tuple(
    name
    for name in (str(expression.meta.output_name()) for expression in (*_day_sums(), *_tick_sums()))
    if name not in _KEYS
)


class DaySums(NamedTuple):
    """The day's part of the groups' sums: the sums themselves and the tick's weights."""

    sums: pl.DataFrame  # see day_sums
    weights: pl.DataFrame  # see day_weights


def day_parts(values: pl.DataFrame) -> DaySums:
    """Return the day's sums and weights of the members' ``values``."""
    return DaySums(day_sums(values), day_weights(values))


def day_sums(values: pl.DataFrame) -> pl.DataFrame:
    """Return each group's keys and its sums that hold for the day (see _day_sums), in order."""
    # In order (the run ids ascend), so that the tick's sums line up with them row for row.
    return values.group_by("group", maintain_order=True).agg(*_DAY_AGGREGATIONS)


def tick_sums(values: pl.DataFrame, weights: pl.DataFrame) -> pl.DataFrame:
    """Return each group's sums that move with the prices, from the day's ``weights``.

    ``weights`` are day_weights of the same members (row for row); only the tick's prices
    (TICK_INPUTS) are read from ``values``.
    """
    frame = frame_of([*weights.get_columns(), *(values.get_column(name) for name in TICK_INPUTS)])
    return frame.group_by("group", maintain_order=True).agg(*_TICK_AGGREGATIONS)


def leg_sums(values: pl.DataFrame, day: DaySums | None = None) -> pl.DataFrame:
    """Return the sums of every (bucket, sector_idx, in_index) group.

    Columns: ``group``, the keys and SUM_COLUMNS. ``day`` are the day's sums and weights of
    the same members (see :func:`day_parts`), computed here when not given. ``values`` come
    in runs of equal groups (see universe_members): grouping by the run's sorted id takes
    slices of rows rather than hashing the three keys of every row.
    """
    day = day_parts(values) if day is None else day
    tick = tick_sums(values, day.weights)
    if not tick.get_column("group").equals(day.sums.get_column("group")):
        raise ValueError("the day's sums are of other groups than the tick's")
    # Columns side by side: both are in the groups' order, and a join would be a query.
    return day.sums.hstack(tick.get_columns()[1:])


def leg_stats(sums: Mapping[str, Any], index_prev_value: float | None = None) -> LegStats:
    """Return a leg's figures from its sums (see SUM_COLUMNS), blank below the coverage bar.

    ``index_prev_value`` is the whole index's value at the previous close: the leg's weight
    in its index is its share of it (None: the leg has no weight in an index).
    """
    # Two dozen legs a tick: the bar is tested inline (a call per test cost a third of this).
    members, quoted = sums["members"], sums["quoted"]
    if not quoted:
        return empty_leg(members)
    whole = sums["ref_total"]
    bar = COVERAGE_MIN_PCT
    coverage = sums["ref_quoted"] / whole * 100.0 if whole > 0 else None
    priced = coverage is not None and coverage >= bar
    prev_value = sums["prev_value"]
    change = (sums["last_value"] / prev_value - 1.0) * 100.0 if prev_value > 0 else None
    weight = (
        prev_value / index_prev_value * 100.0
        if index_prev_value is not None and index_prev_value > 0
        else None
    )
    pe_coverage = sums["ref_eps"] / whole * 100.0 if whole > 0 else None
    earnings, earnings_all = sums["pe_earnings"], sums["pe_earnings_all"]
    with_pe = pe_coverage is not None and pe_coverage >= bar
    forward_pe = sums["pe_price"] / earnings if with_pe and earnings > 0 else None
    # With the negative earners in, a sum of earnings at or below zero has no P/E.
    forward_all = sums["pe_price_all"] / earnings_all if with_pe and earnings_all > 0 else None
    with_ttm = whole > 0 and sums["ref_ttm"] / whole * 100.0 >= bar
    known_50d, known_200d = sums["known_50d"], sums["known_200d"]
    return LegStats(
        members=members,
        quoted=quoted,
        coverage_pct=coverage,
        weight_pct=weight if priced else None,
        change_pct=change if priced else None,
        forward_pe=forward_pe,
        forward_pe_incl_negative=forward_all,
        pe_coverage_pct=pe_coverage,
        unprofitable_pct=sums["ttm_negative"] / sums["ttm_known"] * 100.0
        if with_ttm and sums["ttm_known"]
        else None,
        # Before anything moved every price is the previous close: 0 % up would be a claim.
        up_pct=sums["up"] / quoted * 100.0 if priced and sums["moved"] > 0 else None,
        above_50d_pct=sums["above_50d"] / known_50d * 100.0
        if known_50d and whole > 0 and sums["ref_50d"] / whole * 100.0 >= bar
        else None,
        above_200d_pct=sums["above_200d"] / known_200d * 100.0
        if known_200d and whole > 0 and sums["ref_200d"] / whole * 100.0 >= bar
        else None,
        new_highs=sums["new_highs"]
        if whole > 0 and sums["ref_highs"] / whole * 100.0 >= bar
        else None,
        new_lows=sums["new_lows"]
        if whole > 0 and sums["ref_lows"] / whole * 100.0 >= bar
        else None,
    )


#: Reads a group's SUM_COLUMNS as a tuple, in their order.
_SUMS_OF = itemgetter(*SUM_COLUMNS)


def add_sums(rows: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Return the column-wise total of several groups' sums (a leg made of groups)."""
    if len(rows) == 1:
        # Most legs are one group: its sums are the total (a group's sums are never null).
        return dict(rows[0])
    if not rows:
        return dict.fromkeys(SUM_COLUMNS, 0)
    # Each row's sums as a tuple, the tuples transposed and each column summed, all in C:
    # this runs for every leg made of several groups on every tick.
    totals = map(sum, zip(*map(_SUMS_OF, rows), strict=True))
    return dict(zip(SUM_COLUMNS, totals, strict=True))


def index_sums(groups: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Return each index's sums ("large", "small"): its fund members' groups over every sector."""
    groups = [row for row in groups if row["in_index"]]
    return {
        bucket: add_sums([row for row in groups if row["bucket"] == bucket])
        for bucket in ("large", "small")
    }


def index_legs(totals: Mapping[str, Mapping[str, Any]]) -> IndexLegs:
    """Return both indices' figures from their sums (see :func:`index_sums`)."""
    large, small = totals["large"], totals["small"]
    return IndexLegs(
        large=leg_stats(large, float(large["prev_value"])),
        small=leg_stats(small, float(small["prev_value"])),
    )


def _members(store: MarketStore, universe: Universe) -> tuple[pl.DataFrame, pl.Series]:
    """Return the universe's members and their quote positions, cached per quote layout."""
    members, layout = _member_layout(store, universe)
    return members, layout.where


def _member_layout(store: MarketStore, universe: Universe) -> tuple[pl.DataFrame, MemberLayout]:
    """Return the universe's members and their MemberLayout, cached per quote layout."""
    # Keyed on identity; the cached value holds the universe so its id cannot be reused.
    held: tuple[Universe, pl.DataFrame] = store.memo(
        "legs.members", id(universe), lambda: (universe, universe_members(universe))
    )
    members = held[1]
    layout: tuple[pl.DataFrame, MemberLayout] = store.memo(
        "legs.positions",
        (id(members), store.quotes_layout_version),
        lambda: (members, member_layout(members, positions_in(members, store.quotes))),
    )
    return members, layout[1]


#: A member row's symbol, name and leg.
Label = tuple[str, str, Bucket]


def member_labels(members: pl.DataFrame) -> tuple[Label, ...]:
    """Return each member row's (symbol, name, bucket), in the rows' order."""
    return tuple(cast(Label, row) for row in members.select("symbol", "name", "bucket").iter_rows())


def current_labels(store: MarketStore, universe: Universe) -> tuple[Label, ...]:
    """Return the members' labels (see member_labels), read once per universe."""
    members, _ = _members(store, universe)
    # Static for the universe: a mover's label is then a tuple look-up, not a gather per tick.
    held: tuple[pl.DataFrame, tuple[Label, ...]] = store.memo(
        "legs.labels", id(members), lambda: (members, member_labels(members))
    )
    return held[1]


class MoverLayout(NamedTuple):
    """What picking the sectors' movers needs of the member rows: static for the universe."""

    first_listed: pl.Series  # the row is its symbol's first in its sector (see universe_members)
    sector_ids: pl.Series  # each row's sector position (null: none of the universe's)
    sector_count: int  # how many sector positions there are (the largest one plus one)
    nulls: pl.Series  # a null change for every row
    rows: pl.Series  # every row's position
    sector_spots: pl.Series  # each row's sector position times 1e6 (see sectors._edges)


def mover_layout(members: pl.DataFrame) -> MoverLayout:
    """Return the members' MoverLayout."""
    first = members.get_column("first_listed")
    sector_ids = members.get_column("sector_idx")
    largest = sector_ids.max()
    count = int(largest) + 1 if isinstance(largest, int) else 0
    nulls = pl.repeat(None, members.height, dtype=pl.Float64, eager=True)
    rows = pl.Series("row", range(members.height), dtype=pl.UInt32)
    spots = sector_ids.cast(pl.Float64) * 1e6
    return MoverLayout(first, sector_ids, count, nulls, rows, spots)


def current_mover_layout(store: MarketStore, universe: Universe) -> MoverLayout:
    """Return the members' MoverLayout, made once per universe."""
    members, _ = _members(store, universe)
    held: tuple[pl.DataFrame, MoverLayout] = store.memo(
        "legs.mover_layout", id(members), lambda: (members, mover_layout(members))
    )
    return held[1]


def current_values(store: MarketStore, universe: Universe) -> pl.DataFrame:
    """Return the members' values for the stored quotes (see member_values), cached."""
    members, layout = _member_layout(store, universe)
    held: tuple[pl.DataFrame, pl.DataFrame] = store.memo(
        "legs.values",
        (id(members), store.quotes_version),
        lambda: (members, member_values(members, store.quotes, layout.where, layout)),
    )
    return held[1]


class _SameColumns:
    """A memo key equal to another when their frames hold equal values (nulls equal too)."""

    __slots__ = ("frame",)

    def __init__(self, frame: pl.DataFrame) -> None:
        self.frame = frame

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _SameColumns) and self.frame.equals(other.frame)

    def __hash__(self) -> int:
        return hash((self.frame.height, tuple(self.frame.columns)))


def current_day_sums(store: MarketStore, universe: Universe) -> DaySums:
    """Return the day's sums and weights (see day_parts), made again when their inputs change."""
    values = current_values(store, universe)
    members, layout = _member_layout(store, universe)
    # Keyed on the inputs' values, not on the quotes' version: a poll moves the prices, and
    # comparing a few columns costs a fraction of summing them again. The day's high and low
    # count by whether they are known (the coverage of the new highs and lows).
    inputs = _SameColumns(
        frame_of(
            [
                *(values.get_column(name) for name in DAY_INPUTS),
                *(_known(values.get_column(name), layout) for name in ("day_high", "day_low")),
            ]
        )
    )
    held: tuple[pl.DataFrame, DaySums] = store.memo(
        "legs.day_sums", (id(members), inputs), lambda: (members, day_parts(values))
    )
    return held[1]


def current_sums(store: MarketStore, universe: Universe) -> pl.DataFrame:
    """Return the groups' sums (see leg_sums) for the stored quotes, cached per quotes version."""
    values = current_values(store, universe)
    held: tuple[pl.DataFrame, pl.DataFrame] = store.memo(
        "legs.sums",
        (id(values), store.quotes_version),
        lambda: (values, leg_sums(values, current_day_sums(store, universe))),
    )
    return held[1]


def _named_rows(frame: pl.DataFrame) -> tuple[dict[str, Any], ...]:
    """Return ``frame``'s rows as dicts by column name."""
    # The rows as tuples, then named: a third of the time of iter_rows(named=True).
    names = frame.columns
    return tuple(dict(zip(names, row, strict=True)) for row in frame.rows())


def current_groups(store: MarketStore, universe: Universe) -> tuple[dict[str, Any], ...]:
    """Return the groups' sums (see leg_sums) as rows, cached per quotes version."""
    sums = current_sums(store, universe)
    # A few dozen groups: read once into Python, not filtered by a query for each leg.
    held: tuple[pl.DataFrame, tuple[dict[str, Any], ...]] = store.memo(
        "legs.groups",
        (id(sums), store.quotes_version),
        lambda: (sums, _named_rows(sums)),
    )
    return held[1]


def current_index_sums(store: MarketStore, universe: Universe) -> dict[str, dict[str, Any]]:
    """Return each index's sums (see index_sums) for the stored quotes, cached like the sums."""
    groups = current_groups(store, universe)
    held: tuple[tuple[dict[str, Any], ...], dict[str, dict[str, Any]]] = store.memo(
        "legs.index_sums",
        (id(groups), store.quotes_version),
        lambda: (groups, index_sums(groups)),
    )
    return held[1]
