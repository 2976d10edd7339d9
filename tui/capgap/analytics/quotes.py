"""Point look-ups into the quotes frame: a few named symbols as plain values, and % change."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl


@dataclass(frozen=True, slots=True)
class QuoteRow:
    """One stored quote as plain Python values."""

    symbol: str
    time: datetime
    last: float
    prev_close: float

    @property
    def change_pct(self) -> float:
        """Change against the previous close, in percent."""
        return (self.last / self.prev_close - 1.0) * 100.0


def change_pct_expr() -> pl.Expr:
    """Return the polars expression of a quote's change against its previous close, in %."""
    return (pl.col("last") / pl.col("prev_close") - 1.0) * 100.0


def change_pct_series(quotes: pl.DataFrame) -> pl.Series:
    """Return every quote's % change, aligned with the rows of ``quotes``."""
    return ((quotes.get_column("last") / quotes.get_column("prev_close") - 1.0) * 100.0).alias(
        "change_pct"
    )


def positions(quotes: pl.DataFrame, symbols: Iterable[str]) -> dict[str, int]:
    """Return the row position in ``quotes`` of each of ``symbols`` that has a quote."""
    wanted = list(dict.fromkeys(symbols))
    if not wanted or quotes.height == 0:
        return {}
    found = (
        quotes.select("symbol").with_row_index("position").filter(pl.col("symbol").is_in(wanted))
    )
    return {str(symbol): int(position) for position, symbol in found.iter_rows()}


def rows_at(quotes: pl.DataFrame, where: Mapping[str, int]) -> dict[str, QuoteRow]:
    """Return the quotes at known row positions (see :func:`positions`) by symbol."""
    if not where:
        return {}
    index = pl.Series(list(where.values()), dtype=pl.UInt32)
    # Column by column: indexing a Series is native, where indexing rows and columns of the
    # frame at once costs a query (three times as long for the few dozen rows read each tick).
    times, lasts, prevs = (
        quotes.get_column(name)[index].to_list() for name in ("time", "last", "prev_close")
    )
    return {
        symbol: QuoteRow(symbol, moment.astimezone(UTC), float(last), float(prev))
        for symbol, moment, last, prev in zip(where, times, lasts, prevs, strict=True)
    }


def quote_rows(quotes: pl.DataFrame, symbols: Iterable[str]) -> dict[str, QuoteRow]:
    """Return the stored quotes of ``symbols`` by symbol (symbols without a quote are absent)."""
    return rows_at(quotes, positions(quotes, symbols))


def change_of(rows: Mapping[str, QuoteRow], symbol: str | None) -> float | None:
    """Return the % change of ``symbol`` from ``rows``, None when it has no quote."""
    if symbol is None:
        return None
    row = rows.get(symbol)
    return row.change_pct if row is not None else None
