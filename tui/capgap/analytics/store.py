"""MarketStore: the bounded, versioned home of the latest quotes, today's bars and daily history."""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable
from datetime import date, datetime
from typing import Any, TypeVar, cast

import polars as pl

from capgap.core.schemas import (
    BARS,
    DAILY,
    LEG_LEVELS,
    QUOTE_DETAILS,
    QUOTES,
    conform,
    conform_quotes,
    empty,
    frame_of,
)

T = TypeVar("T")

#: Bars kept per symbol for the current session (a full session of one-minute bars is 390).
MAX_BARS_PER_SYMBOL = 1000
#: Daily sessions kept per symbol (a year is about 252; the 1y window needs a little more).
MAX_DAILY_SESSIONS = 400
_NEW_YORK = "America/New_York"


def _positive_finite(*columns: str) -> pl.Expr:
    """Return a predicate true where every column is a finite number above zero."""
    predicate = pl.lit(True)
    for column in columns:
        value = pl.col(column)
        predicate = predicate & value.is_not_null() & value.is_finite() & (value > 0)
    return predicate


def _valid_series(values: pl.Series) -> pl.Series:
    """Return a mask true where a price is a finite number above zero (null counts as false)."""
    # Comparisons are far cheaper than is_finite here; polars orders NaN above +inf, so
    # `< inf` rejects NaN as well as +inf, and `> 0` rejects -inf.
    mask = (values > 0) & (values < math.inf)
    return mask.fill_null(False) if values.null_count() else mask


#: The columns of a quote that always come from its winning row.
_PRICE_COLUMNS = [name for name in QUOTES.names() if name not in QUOTE_DETAILS and name != "symbol"]


def _known_else(values: pl.Series, other: pl.Series) -> pl.Series:
    """Return ``values`` with each null taken from ``other`` (aligned row for row)."""
    # ``x == x`` is null only where x is, and a zip takes the other side where its mask is
    # null: two native steps, where fill_null or a query costs many times more (this runs
    # on every poll).
    return values.zip_with(values == values, other)


def _keep_known_details(merged: pl.DataFrame, old: pl.DataFrame) -> pl.DataFrame:
    """Fill the details ``merged`` lacks from ``old`` (the same symbols in the same order)."""
    lacking = {
        name
        for name in QUOTE_DETAILS.names()
        if merged.get_column(name).null_count() and old.get_column(name).null_count() < old.height
    }
    if not lacking:
        return merged
    return frame_of(
        [
            _known_else(column, old.get_column(column.name)) if column.name in lacking else column
            for column in merged.get_columns()
        ]
    )


def _pick(
    mask: pl.Series, first: pl.DataFrame, other: pl.DataFrame, names: list[str]
) -> pl.DataFrame:
    """Return columns ``names`` row by row from ``first`` where ``mask`` holds, else ``other``."""
    return frame_of(
        [first.get_column(name).zip_with(mask, other.get_column(name)) for name in names]
    )


#: The details, as a set: a column's name is looked up in it once a column a poll.
_DETAIL_NAMES = frozenset(QUOTE_DETAILS.names())


def _write_rows(old: pl.DataFrame, winners: pl.DataFrame, at: pl.Series) -> pl.DataFrame:
    """Return ``old`` with ``winners`` written over its rows ``at``; a detail they lack stays.

    The symbols stay where they are. Column by column: a copy and a write of the poll's rows
    each (a comparison first, to keep an unchanged column, cost as much again).
    """
    columns = []
    # Both frames are in the QUOTES schema: their columns pair up in order, read at once.
    for kept, new in zip(old.get_columns(), winners.get_columns(), strict=True):
        name = kept.name
        if name == "symbol":
            columns.append(kept)
            continue
        if name in _DETAIL_NAMES and new.null_count():
            if kept.null_count() < kept.len():
                new = _known_else(new, kept[at])
            elif new.null_count() == new.len():
                columns.append(kept)  # known on neither side (pre-market prices by day)
                continue
        columns.append(kept.clone().scatter(at, new))
    return frame_of(columns)


class MarketStore:
    """Holds what the feeds delivered, bounded in size, with one version counter per kind.

    Every ``apply_*`` method validates and merges a frame, bumps the kind's version when the
    stored content changed, and returns whether it did. Derived results can be memoised with
    :meth:`memo` keyed on the versions they depend on.
    """

    def __init__(
        self,
        *,
        max_bars_per_symbol: int = MAX_BARS_PER_SYMBOL,
        max_daily_sessions: int = MAX_DAILY_SESSIONS,
    ) -> None:
        if max_bars_per_symbol < 1 or max_daily_sessions < 1:
            raise ValueError("store bounds must be positive")
        self._max_bars = max_bars_per_symbol
        self._max_daily = max_daily_sessions
        self._quotes = empty(QUOTES)
        self._intraday = empty(BARS)
        self._daily = empty(DAILY)
        self._leg_levels = empty(LEG_LEVELS)
        self._quotes_version = 0
        self._intraday_version = 0
        self._daily_version = 0
        self._quotes_layout_version = 0
        # Each stored symbol's row, built on demand for the current layout (see _stored_rows).
        self._rows: dict[str, int] | None = None
        self._session_day: date | None = None
        self._memo: dict[str, tuple[Hashable, Any]] = {}

    @property
    def quotes(self) -> pl.DataFrame:
        """Latest quote per symbol (QUOTES schema): stored symbols keep their rows, new ones follow.

        A rolling refresh delivers a different slice of the universe each poll: keeping the
        layout lets every position computed from it (see ``quotes_layout_version``) stay valid.
        """
        return self._quotes

    @property
    def intraday(self) -> pl.DataFrame:
        """Bars of the current session only (BARS schema), sorted by time, then symbol.

        Time first keeps a poll's merge to the newest bars; filtering one symbol gives its bars
        in time order.
        """
        return self._intraday

    @property
    def daily(self) -> pl.DataFrame:
        """Daily bars (DAILY schema), sorted by symbol and date."""
        return self._daily

    @property
    def leg_levels(self) -> pl.DataFrame:
        """The sector legs' daily levels (LEG_LEVELS schema), reduced from the members' closes.

        The members' own closes are not kept: about 2,400 members' year would be 600,000 rows.
        """
        return self._leg_levels

    @property
    def quotes_version(self) -> int:
        """Bumped each time the stored quotes change."""
        return self._quotes_version

    @property
    def quotes_layout_version(self) -> int:
        """Bumped when the symbols of the quotes frame, or their order, change.

        Row positions into :attr:`quotes` stay valid while this does not change.
        """
        return self._quotes_layout_version

    @property
    def intraday_version(self) -> int:
        """Bumped each time the stored bars change."""
        return self._intraday_version

    @property
    def daily_version(self) -> int:
        """Bumped each time the stored daily history changes."""
        return self._daily_version

    def apply_quotes(self, frame: pl.DataFrame) -> bool:
        """Merge quotes: one row per symbol, a row only replaced by one at least as recent.

        Rows whose ``last`` or ``prev_close`` is missing, non-finite or not positive, or whose
        ``time`` is missing, are dropped. On equal times the row received last wins. A detail
        (see QUOTE_DETAILS) the winning row lacks keeps its last known value: a source that
        sends prices only (a chart) does not erase a symbol's fundamentals.
        """
        incoming = conform_quotes(frame)
        if incoming.height == 0:
            return False
        old = self._quotes
        if incoming.height == old.height and incoming.get_column("symbol").equals(
            old.get_column("symbol")
        ):
            merged = self._merge_aligned(old, incoming)
        else:
            rows = self._stored_rows(old, incoming)
            merged = (
                self._merge_general(old, incoming)
                if rows is None
                else self._merge_known(old, incoming, rows)
            )
        if merged is None or merged.equals(old):
            return False
        if not merged.get_column("symbol").equals(old.get_column("symbol")):
            self._quotes_layout_version += 1
            self._rows = None
        self._quotes = merged
        self._quotes_version += 1
        return True

    @staticmethod
    def _merge_aligned(old: pl.DataFrame, incoming: pl.DataFrame) -> pl.DataFrame | None:
        """Merge a frame whose symbols are the stored ones in the stored order (the usual poll).

        Row-wise choice between stored and incoming values, without sorting or joining.
        """
        accept = _valid_series(incoming.get_column("last")) & _valid_series(
            incoming.get_column("prev_close")
        )
        times = incoming.get_column("time")
        newer = times >= old.get_column("time")
        # Stored times are never null, so a null comparison means a null incoming time.
        accept = accept & (newer.fill_null(False) if times.null_count() else newer)
        if not accept.any():
            return None
        if accept.all():
            return _keep_known_details(incoming, old)
        return _keep_known_details(
            frame_of(
                [
                    incoming.get_column(name).zip_with(accept, old.get_column(name))
                    for name in QUOTES.names()
                ]
            ),
            old,
        )

    def _stored_rows(self, old: pl.DataFrame, incoming: pl.DataFrame) -> pl.Series | None:
        """Return each incoming row's position in ``old``; None when a symbol is new or repeated."""
        symbols = incoming.get_column("symbol")
        if old.height == 0 or symbols.n_unique() != incoming.height:
            return None
        if self._rows is None:
            # Once per layout: a poll's few hundred look-ups then cost less than a join.
            self._rows = {
                symbol: row for row, symbol in enumerate(old.get_column("symbol").to_list())
            }
        rows = self._rows
        at = [rows.get(symbol) for symbol in symbols.to_list()]
        return None if None in at else pl.Series("at", at, pl.UInt32)

    @staticmethod
    def _merge_known(
        old: pl.DataFrame, incoming: pl.DataFrame, at: pl.Series
    ) -> pl.DataFrame | None:
        """Merge a frame of stored symbols, each once, at their rows ``at`` (a live poll's slice).

        The result of :meth:`_merge_general`, without sorting and grouping every stored row:
        the changed rows are written in place. The winning row is the newer one (the incoming
        on a tie); a detail it lacks comes from the other.
        """
        times = incoming.get_column("time")
        valid = _valid_series(incoming.get_column("last")) & _valid_series(
            incoming.get_column("prev_close")
        )
        valid = valid & times.is_not_null() if times.null_count() else valid
        if not valid.all():
            incoming, at = incoming.filter(valid), at.filter(valid)
            if incoming.height == 0:
                return None
        newer = incoming.get_column("time") >= old.get_column("time")[at]
        if newer.all():
            return _write_rows(old, incoming, at)
        # Row by row: the newer row's values, its missing details from the other one.
        stored = old[at]
        winners = _keep_known_details(
            _pick(newer, incoming, stored, QUOTES.names()),
            _pick(newer, stored, incoming, QUOTE_DETAILS.names()),
        )
        return _write_rows(old, winners, at)

    @staticmethod
    def _merge_general(old: pl.DataFrame, incoming: pl.DataFrame) -> pl.DataFrame | None:
        """Merge any frame: newest time per symbol wins; ties go to the row received last.

        Stored symbols keep their positions; symbols new to the store follow in the order
        they came. A detail the winning row lacks is the newest known one of that symbol.
        """
        incoming = incoming.filter(
            _positive_finite("last", "prev_close") & pl.col("time").is_not_null()
        )
        if incoming.height == 0:
            return None
        latest = [pl.col(name).last() for name in _PRICE_COLUMNS]
        known = [pl.col(name).drop_nulls().last() for name in QUOTE_DETAILS.names()]
        return (
            pl.concat([old, incoming])
            .with_row_index("_received")
            .sort(["symbol", "time", "_received"])
            .group_by("symbol")
            .agg(*latest, *known, pl.col("_received").min().alias("_rank"))
            .sort("_rank")
            .select(QUOTES.names())
        )

    def apply_intraday(self, frame: pl.DataFrame) -> bool:
        """Merge bars of the current session; bars of an older session day are dropped.

        The session day of a bar is its New York date; the latest day seen wins. Duplicates of
        (symbol, time) keep the row received last; each symbol keeps its newest bars up to the
        bound. Bars with a missing, non-finite or non-positive close are dropped.
        """
        incoming = conform(frame, BARS).filter(
            _positive_finite("close") & pl.col("time").is_not_null()
        )
        if incoming.height == 0:
            return False
        days = incoming.get_column("time").dt.convert_time_zone(_NEW_YORK).dt.date()
        newest = cast(date, days.max())
        day = newest if self._session_day is None else max(newest, self._session_day)
        incoming = incoming.filter(days == day)
        if incoming.height == 0:
            return False  # only bars of an older session
        stored = self._intraday if day == self._session_day else empty(BARS)
        # Stored bars are sorted by time: only those from the first incoming time on can
        # collide with the new ones, so only that tail is merged and sorted (the poll adds or
        # revises the latest minutes of a session that may hold a million bars).
        first = cast(datetime, incoming.get_column("time").min())
        cut = stored.get_column("time").search_sorted(first, "left")
        head, tail = stored.slice(0, cut), stored.slice(cut)
        # A stable sort keeps the received order (stored tail, then incoming rows in order)
        # among equal keys, so `keep="last"` keeps the row received last.
        merged_tail = (
            pl.concat([tail, incoming])
            .sort(["time", "symbol"], maintain_order=True)
            .unique(subset=["time", "symbol"], keep="last", maintain_order=True)
        )
        if day == self._session_day and merged_tail.equals(tail):
            return False
        merged = pl.concat([head, merged_tail])
        # A symbol has at most one bar per time: with few distinct times no cap can bind.
        if merged.get_column("time").n_unique() > self._max_bars:
            position_from_end = pl.int_range(pl.len(), 0, -1).over("symbol")
            merged = merged.filter(position_from_end <= self._max_bars)
        self._intraday = merged
        self._session_day = day
        self._intraday_version += 1
        return True

    def apply_daily(self, frame: pl.DataFrame) -> bool:
        """Merge daily bars: deduped by (symbol, date) keeping the row received last, bounded.

        Rows with a missing date or a missing, non-finite or non-positive close are dropped.
        """
        incoming = conform(frame, DAILY).filter(
            _positive_finite("close") & pl.col("date").is_not_null()
        )
        if incoming.height == 0:
            return False
        # A stable sort keeps the received order among equal keys: `keep="last"` is the row
        # received last (stored rows come first, then the incoming ones in their order).
        merged = (
            pl.concat([self._daily, incoming])
            .sort(["symbol", "date"], maintain_order=True)
            .unique(subset=["symbol", "date"], keep="last", maintain_order=True)
        )
        merged = self._cap(merged, self._max_daily)
        if merged.equals(self._daily):
            return False
        self._daily = merged
        self._daily_version += 1
        return True

    def apply_leg_levels(self, frame: pl.DataFrame) -> bool:
        """Replace the sector legs' levels (a day's reduction replaces the last one whole).

        Bumps the daily version when they changed: the levels are daily history too.
        """
        levels = conform(frame, LEG_LEVELS)
        if levels.equals(self._leg_levels):
            return False
        self._leg_levels = levels
        self._daily_version += 1
        return True

    @staticmethod
    def _cap(frame: pl.DataFrame, limit: int) -> pl.DataFrame:
        """Keep the last ``limit`` rows of each symbol of a frame sorted by symbol then date."""
        counts = frame.get_column("symbol").value_counts()
        if counts.height == 0 or int(cast(int, counts.get_column("count").max())) <= limit:
            return frame
        return frame.group_by("symbol", maintain_order=True).tail(limit)

    def memo(self, name: str, key: Hashable, compute: Callable[[], T]) -> T:
        """Return the cached result ``name`` when computed for an equal ``key``, else compute it.

        One entry per name: a new key replaces the old result, so memory stays bounded.
        """
        cached = self._memo.get(name)
        if cached is not None and cached[0] == key:
            return cast(T, cached[1])
        value = compute()
        self._memo[name] = (key, value)
        return value
