"""30-day Fed funds futures (ZQ) names: the Yahoo symbol of each contract month, and back."""

from __future__ import annotations

import calendar
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from capgap.core.resources import package_data

#: A contract month as (year, month).
YearMonth = tuple[int, int]


@dataclass(frozen=True, slots=True)
class FuturesNaming:
    """How the ZQ contracts are named: month codes, symbol and name templates, the tick."""

    month_codes: str
    symbol_template: str
    front_symbol: str
    name_template: str
    front_name: str
    tick: float

    def symbol(self, month: YearMonth) -> str:
        """Return the Yahoo symbol of a contract month (ZQZ25.CBT for Dec 2025)."""
        return self.symbol_template.format(**_fields(self, month))

    def name(self, month: YearMonth) -> str:
        """Return the display name of a contract month."""
        return self.name_template.format(**_fields(self, month))

    def month_of(self, symbol: str) -> YearMonth | None:
        """Return the contract month of a single-month symbol (None for others and ZQ=F)."""
        prefix, _, suffix = self.symbol_template.partition("{code}{yy}")
        if not (symbol.startswith(prefix) and symbol.endswith(suffix)):
            return None
        core = symbol[len(prefix) : len(symbol) - len(suffix)]
        if len(core) != 3 or core[0] not in self.month_codes or not core[1:].isdigit():
            return None
        # Two-digit years: contracts are listed a few years out, so 20yy is right this century.
        return (2000 + int(core[1:]), self.month_codes.index(core[0]) + 1)


def _fields(naming: FuturesNaming, month: YearMonth) -> dict[str, str]:
    year, number = month
    if not 1 <= number <= 12:
        raise ValueError(f"{month!r} is not a contract month")
    return {
        "code": naming.month_codes[number - 1],
        "yy": f"{year % 100:02d}",
        "yyyy": f"{year:04d}",
        "Mon": calendar.month_abbr[number],
    }


def load_naming(path: Path | None = None) -> FuturesNaming:
    """Read futures.toml (or ``path``) into a FuturesNaming."""
    with (path or package_data("futures.toml")).open("rb") as handle:
        raw: dict[str, Any] = tomllib.load(handle)
    codes = str(raw["month_codes"])
    if len(codes) != 12 or len(set(codes)) != 12:
        raise ValueError(f"futures.toml: month_codes must be 12 distinct letters, got {codes!r}")
    return FuturesNaming(
        month_codes=codes,
        symbol_template=str(raw["symbol_template"]),
        front_symbol=str(raw["front_symbol"]),
        name_template=str(raw["name_template"]),
        front_name=str(raw["front_name"]),
        tick=float(raw["tick"]),
    )


@lru_cache(maxsize=1)
def default_naming() -> FuturesNaming:
    """Return the naming that ships with capgap."""
    return load_naming()


def next_month(month: YearMonth) -> YearMonth:
    """Return the month after ``month``."""
    year, number = month
    return (year + 1, 1) if number == 12 else (year, number + 1)


def previous_month(month: YearMonth) -> YearMonth:
    """Return the month before ``month``."""
    year, number = month
    return (year - 1, 12) if number == 1 else (year, number - 1)


def months_between(first: YearMonth, last: YearMonth) -> list[YearMonth]:
    """Return the months from ``first`` to ``last`` inclusive."""
    months: list[YearMonth] = []
    month = first
    while month <= last:
        months.append(month)
        month = next_month(month)
    return months
