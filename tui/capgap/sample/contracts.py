"""The sample's ZQ contracts: each month's symbol, name and last trading day."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from capgap.market.calendar import is_trading_day
from capgap.market.zq import FuturesNaming, YearMonth, months_between


@dataclass(frozen=True, slots=True)
class Contract:
    """One contract month: its symbol, display name, month and last trading day."""

    symbol: str
    name: str
    month: YearMonth
    last_trading_day: date

    @property
    def days(self) -> int:
        """Return the number of calendar days in the contract month."""
        return calendar.monthrange(*self.month)[1]


def parse_month(text: str) -> YearMonth:
    """Parse ``YYYY-MM`` into (year, month)."""
    year, month = (int(part) for part in text.split("-"))
    if not 1 <= month <= 12:
        raise ValueError(f"{text!r} is not a YYYY-MM month")
    return (year, month)


def last_business_day(month: YearMonth) -> date:
    """Return the last NYSE session of the month (CME's business days are close enough here)."""
    day = date(month[0], month[1], calendar.monthrange(*month)[1])
    while not is_trading_day(day):
        day -= timedelta(days=1)
    return day


def contract(naming: FuturesNaming, month: YearMonth) -> Contract:
    """Return the contract of one month."""
    return Contract(
        symbol=naming.symbol(month),
        name=naming.name(month),
        month=month,
        last_trading_day=last_business_day(month),
    )


def contracts_between(naming: FuturesNaming, first: YearMonth, last: YearMonth) -> list[Contract]:
    """Return the contracts from ``first`` to ``last`` (inclusive), in month order."""
    if last < first:
        raise ValueError(f"contract range {first} .. {last} is empty")
    return [contract(naming, month) for month in months_between(first, last)]
