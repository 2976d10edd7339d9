"""Which symbols a provider does not know: earned by repeated omissions, and only for a while."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from capgap.core.market_types import NEW_YORK

#: Consecutive replies that leave a symbol out before it counts as unknown: one partial reply
#: is a provider's hiccup, three in a row are its answer.
OMISSIONS_BEFORE_UNKNOWN = 3
#: How long an unknown symbol is left alone before it is asked again (its status also ends
#: when the New York date changes: a listing can begin with any session).
UNKNOWN_FOR = timedelta(minutes=30)


class UnknownSymbols:
    """Symbols a provider does not know, by their upper-case spelling.

    A symbol becomes unknown after OMISSIONS_BEFORE_UNKNOWN consecutive omissions or one
    explicit "not found"; the status lapses after UNKNOWN_FOR or when the New York date
    changes. ``protected`` symbols (the benchmarks, and every index: "^...") are never retired.
    Symbols the provider has answered since the New York date began are ``vouched`` for.
    """

    def __init__(self, protected: Iterable[str] = ()) -> None:
        """Never retire ``protected`` symbols (nor any index)."""
        self._protected = frozenset(symbol.upper() for symbol in protected)
        self._day: date | None = None
        # Upper-case symbol -> (spelling asked, when it became unknown).
        self._unknown: dict[str, tuple[str, datetime]] = {}
        self._omissions: dict[str, int] = {}
        self._answered: set[str] = set()

    def protected(self, symbol: str) -> bool:
        """Return True for a symbol never retired: a benchmark, or an index."""
        key = symbol.upper()
        return key in self._protected or key.startswith("^")

    def _roll(self, now: datetime) -> None:
        """Forget everything learnt on an earlier New York date."""
        today = now.astimezone(NEW_YORK).date()
        if today != self._day:
            self._day = today
            self._unknown.clear()
            self._omissions.clear()
            self._answered.clear()

    def is_unknown(self, symbol: str, now: datetime) -> bool:
        """Return True while ``symbol`` is unknown (its status lapses after UNKNOWN_FOR)."""
        self._roll(now)
        key = symbol.upper()
        entry = self._unknown.get(key)
        if entry is None:
            return False
        if now - entry[1] >= UNKNOWN_FOR:
            # Asked again from now on; one more omission does not retire it at once.
            del self._unknown[key]
            self._omissions.pop(key, None)
            return False
        return True

    def vouched(self, symbol: str, now: datetime) -> bool:
        """Return True for a protected symbol or one the provider answered today."""
        self._roll(now)
        return self.protected(symbol) or symbol.upper() in self._answered

    def answered(self, symbol: str, now: datetime) -> None:
        """Record that the provider quoted ``symbol``: its omissions start again from zero."""
        self._roll(now)
        key = symbol.upper()
        self._answered.add(key)
        self._omissions.pop(key, None)
        self._unknown.pop(key, None)

    def omitted(self, symbol: str, now: datetime) -> bool:
        """Count one omission of ``symbol``; return True when that makes it unknown."""
        self._roll(now)
        key = symbol.upper()
        count = self._omissions.get(key, 0) + 1
        self._omissions[key] = count
        if count < OMISSIONS_BEFORE_UNKNOWN or self.protected(symbol):
            return False
        self._unknown[key] = (symbol, now)
        return True

    def not_found(self, symbol: str, now: datetime) -> bool:
        """Record the provider's explicit "not found"; return True when ``symbol`` is retired."""
        self._roll(now)
        if self.protected(symbol):
            return False
        self._unknown[symbol.upper()] = (symbol, now)
        return True

    def symbols(self, now: datetime) -> frozenset[str]:
        """Return the symbols unknown at ``now``, as first asked."""
        self._roll(now)
        return frozenset(
            spelling
            for key, (spelling, _) in list(self._unknown.items())
            if self.is_unknown(key, now)
        )
