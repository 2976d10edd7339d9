"""Yahoo's reply contract: the fields capgap's parsers read, and which of them a reply lacks.

The lists come from the parsers' own constants (yahoo.py, yahoo_quote.py): a field a parser
starts reading is checked from then on, without a second list to keep in step.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from capgap.feeds.providers import yahoo, yahoo_quote

#: What the endpoints are called in the findings.
QUOTE = "quote"
CHART = "chart"
FUTURES = "futures"
# Where a chart keeps what the parser reads, as the findings name it.
_META = "chart.result[0].meta"
_RESULT = "chart.result[0]"
_BARS = "chart.result[0].indicators.quote[0]"
_QUOTES = "quoteResponse.result"
# A reply is walked this deep when looking where a missing field went.
_MAX_DEPTH = 8


@dataclass(frozen=True, slots=True)
class Expected:
    """A field capgap reads: where, under which name(s), and how many items must carry it.

    ``names`` are alternatives (either previous close will do). With ``every`` each item
    must carry the field (a quote without a price is refused); without, at least one of
    the reply's items (EPS is sent for companies, not for indices).
    """

    where: str
    names: tuple[str, ...]
    every: bool = True

    @property
    def label(self) -> str:
        """The field as a finding names it: ``chart.result[0].meta.regularMarketTime``."""
        return f"{self.where}.{' or '.join(self.names)}"


@dataclass(frozen=True, slots=True)
class Finding:
    """A field that moved or vanished: the endpoint, the field and what became of it."""

    endpoint: str
    field: str
    problem: str

    def line(self) -> str:
        """One line for the report: ``quote: quoteResponse.result.regularMarketTime vanished``."""
        return f"{self.endpoint}: {self.field} {self.problem}"


def quote_fields(session: str) -> list[Expected]:
    """Return the quote fields capgap reads, for a reply received in market ``session``.

    The row's fields are in every quote; the details in at least one (the contract asks a
    company among the indices and funds); a pre- or post-market detail only in its session.
    """
    expected = [Expected(_QUOTES, (name,)) for name in yahoo_quote.ROW_FIELDS]
    expected.append(Expected(_QUOTES, (yahoo_quote.TYPE_FIELD,)))
    expected.append(Expected(_QUOTES, (yahoo_quote.VOLUME_FIELD,), every=False))
    off_session = {
        column
        for state, columns in yahoo_quote.SESSION_DETAILS.items()
        if state != session
        for column in columns
    }
    expected.extend(
        Expected(_QUOTES, (name,), every=False)
        for column, name in yahoo_quote.DETAIL_FIELDS.items()
        if column not in off_session
    )
    return expected


def chart_fields() -> list[Expected]:
    """Return the chart fields capgap reads (meta, the bars' times and arrays).

    The contract asks a chart with bars (daily bars of recent days); the volume in at least
    one chart, since an index's chart has none.
    """
    return [
        Expected(_META, (yahoo.META_PRICE,)),
        Expected(_META, (yahoo.META_TIME,)),
        Expected(_META, yahoo.PREVIOUS_CLOSE_FIELDS),
        Expected(_META, (yahoo.META_RANGE,)),
        Expected(_META, (yahoo.META_VOLUME,), every=False),
        Expected(_RESULT, (yahoo.TIMESTAMP_FIELD,)),
        *(Expected(_BARS, (name,)) for name in yahoo.BAR_FIELDS),
    ]


def futures_fields() -> list[Expected]:
    """Return the fields capgap reads from a futures quote (the ZQ strip): the row's."""
    return [Expected(_QUOTES, (name,)) for name in yahoo_quote.ROW_FIELDS]


def check_quotes(endpoint: str, payload: Any, expected: Sequence[Expected]) -> list[Finding]:
    """Return what ``payload`` (a v7 quote reply) lacks of ``expected``; [] when all is there."""
    response = payload.get("quoteResponse") if isinstance(payload, dict) else None
    results = response.get("result") if isinstance(response, dict) else None
    if not isinstance(results, list):
        return [_gone(endpoint, _QUOTES, "result", replies=[payload])]
    items = [item for item in results if isinstance(item, dict)]
    if not items:
        return [Finding(endpoint, _QUOTES, "is empty (no quote to check)")]
    return _check(endpoint, {_QUOTES: items}, expected, [payload])


def check_charts(payloads: Sequence[Any], expected: Sequence[Expected]) -> list[Finding]:
    """Return what the chart replies ``payloads`` lack of ``expected``; [] when all is there."""
    places: dict[str, list[Mapping[str, Any]]] = {_META: [], _RESULT: [], _BARS: []}
    for payload in payloads:
        chart = payload.get("chart") if isinstance(payload, dict) else None
        results = chart.get("result") if isinstance(chart, dict) else None
        if not isinstance(results, list) or not results or not isinstance(results[0], dict):
            return [_gone(CHART, _RESULT, "result", replies=[payload])]
        result = results[0]
        places[_RESULT].append(result)
        meta = result.get("meta")
        places[_META].append(meta if isinstance(meta, dict) else {})
        indicators = result.get("indicators")
        bars = indicators.get("quote") if isinstance(indicators, dict) else None
        first = bars[0] if isinstance(bars, list) and bars else None
        places[_BARS].append(first if isinstance(first, dict) else {})
    return _check(CHART, places, expected, payloads)


def _check(
    endpoint: str,
    places: Mapping[str, Sequence[Mapping[str, Any]]],
    expected: Sequence[Expected],
    replies: Sequence[Any],
) -> list[Finding]:
    findings: list[Finding] = []
    for field in expected:
        items = places[field.where]
        carrying = sum(1 for item in items if any(item.get(n) is not None for n in field.names))
        if carrying == len(items) or (carrying and not field.every):
            continue
        if carrying:
            problem = f"missing from {len(items) - carrying} of {len(items)} replies"
            findings.append(Finding(endpoint, field.label, problem))
        else:
            findings.append(_gone(endpoint, field.label, *field.names, replies=replies))
    return findings


def _gone(endpoint: str, label: str, *names: str, replies: Sequence[Any]) -> Finding:
    # A field found under another path moved (a new nesting); found nowhere, it vanished.
    wanted = frozenset(names)
    found = (path for reply in replies for path in _paths_of(reply, wanted, ""))
    elsewhere = next(found, None)
    return Finding(endpoint, label, f"moved to {elsewhere}" if elsewhere else "vanished")


def _paths_of(node: Any, names: frozenset[str], path: str, depth: int = 0) -> Iterator[str]:
    if depth > _MAX_DEPTH:
        return
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}.{key}" if path else str(key)
            if key in names and value is not None:
                yield where
            yield from _paths_of(value, names, where, depth + 1)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths_of(value, names, f"{path}[{index}]", depth + 1)
