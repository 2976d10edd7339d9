"""FRED (St. Louis Fed) series observations: EFFR, the target range and the 2-year yield."""

from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from capgap.feeds.base import FeedError
from capgap.feeds.fanout import fan_out
from capgap.feeds.http import ClientSettings, KeyedProvider, get_json, scrubbed
from capgap.settings.model import FRED_BASE_URL

PROVIDER = "FRED"
# The default endpoint is kept with the other settings, where the config can replace it.
DEFAULT_BASE_URL = FRED_BASE_URL
OBSERVATIONS_PATH = "/fred/series/observations"
CLIENT_SETTINGS = ClientSettings(provider=PROVIDER, max_connections=4, max_keepalive=2)
MISSING_KEY = "FRED needs an API key ([feeds.fred] api_key or FRED_API_KEY)"

#: The series capgap reads, by FRED id. Daily series include weekends and holidays (".").
EFFR_SERIES = "DFF"
TARGET_UPPER_SERIES = "DFEDTARU"
TARGET_LOWER_SERIES = "DFEDTARL"
TWO_YEAR_SERIES = "DGS2"
RATE_SERIES = (EFFR_SERIES, TARGET_UPPER_SERIES, TARGET_LOWER_SERIES, TWO_YEAR_SERIES)

#: Observations asked for per series: enough to step over a long weekend of "." values.
OBSERVATION_LIMIT = 10
# FRED documents these statuses with a JSON {"error_code", "error_message"} body.
_ERROR_STATUSES = (400, 404, 423, 500)
#: A plain decimal: what a rate looks like in FRED's JSON and CSV alike.
DECIMAL = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)")


class SeriesError(FeedError):
    """FRED answered, but not with a usable value for this one series."""

    def __init__(self, series_id: str, message: str) -> None:
        """Keep the series the message is about."""
        super().__init__(message)
        self.series_id = series_id


@dataclass(frozen=True, slots=True)
class Observation:
    """One valid observation of a series: the day it applies to and its value (%)."""

    date: date
    value: float


@dataclass(frozen=True, slots=True)
class FredRates:
    """The latest rates FRED could give; None where a series had no usable value.

    ``problems`` says, by series id, why a figure is missing.
    """

    effr: float | None = None
    effr_date: date | None = None
    target_range: tuple[float, float] | None = None
    target_date: date | None = None
    two_year: float | None = None
    two_year_date: date | None = None
    problems: Mapping[str, str] = field(default_factory=dict)


def parse_observations(payload: Any, series_id: str) -> list[Observation]:
    """Return the valid observations of a series body, oldest first, one per date.

    Values are strings; "." (missing) and anything not a finite number are skipped, as are
    rows without an ISO date. Raises SeriesError when the body is not an observations object
    and FeedError when it is FRED's error object.
    """
    if not isinstance(payload, dict):
        raise SeriesError(series_id, f"{PROVIDER} sent something other than observations")
    error = error_message(payload)
    if error is not None:
        raise FeedError(f"{PROVIDER} error: {error}")
    rows = payload.get("observations")
    if not isinstance(rows, list):
        raise SeriesError(series_id, f"{PROVIDER} sent no observations list for {series_id}")
    valid: dict[date, float] = {}
    for row in rows:
        observation = _observation(row)
        if observation is not None:
            valid[observation.date] = observation.value
    return [Observation(day, valid[day]) for day in sorted(valid)]


def latest_observation(payload: Any, series_id: str) -> Observation:
    """Return the latest valid observation of a series body, whatever its sort order.

    Raises SeriesError when no observation in the body has a value.
    """
    observations = parse_observations(payload, series_id)
    if not observations:
        raise SeriesError(series_id, f"{PROVIDER} has no recent value for {series_id}")
    return observations[-1]


def error_message(payload: Any) -> str | None:
    """Return FRED's ``error_message`` (one line) when ``payload`` is its error object.

    Not cut here: it may echo the key, which is masked first (see scrubbed) and then cut.
    """
    if not isinstance(payload, dict) or "error_message" not in payload:
        return None
    text = " ".join(str(payload.get("error_message") or "").split())
    code = payload.get("error_code")
    if not text:
        text = f"error code {code}" if code is not None else "unspecified error"
    return text


class Fred(KeyedProvider):
    """Series observations from ``{base}/fred/series/observations`` (a free API key is needed)."""

    name = "fred"
    default_base_url = DEFAULT_BASE_URL
    missing_key_message = MISSING_KEY

    async def latest(self, series_id: str) -> Observation:
        """Fetch the latest valid observation of one series (one request)."""
        key = self._require_key()
        if not re.fullmatch(r"[A-Za-z0-9_]{1,25}", series_id):
            raise SeriesError(series_id, f"{PROVIDER}: {series_id!r} is not a series id")
        params = {
            "series_id": series_id,
            "api_key": key,
            "file_type": "json",
            "sort_order": "desc",
            "limit": str(OBSERVATION_LIMIT),
        }
        try:
            reply = await get_json(
                self._client,
                PROVIDER,
                self._base_url + OBSERVATIONS_PATH,
                params=params,
                accept=(200, *_ERROR_STATUSES),
                clock=self._clock,
            )
        except FeedError as exc:
            raise scrubbed(exc, key) from None
        if reply.status != 200:
            message = error_message(reply.body)
            detail = f": {message}" if message else ""
            raise scrubbed(FeedError(f"{PROVIDER} HTTP {reply.status}{detail}"), key)
        try:
            return latest_observation(reply.body, series_id)
        except FeedError as exc:
            raise scrubbed(exc, key) from None

    async def rates(self, concurrency: int = 2) -> FredRates:
        """Fetch EFFR, the target range and the 2-year yield: one request per series.

        A series without a usable value leaves its figure None and says why in ``problems``.
        A failure of the whole provider (no key, an error object, rate limit, network, HTML)
        raises FeedError at once and starts no further request.
        """
        self._require_key()
        return await gather_rates(self.latest, RATE_SERIES, concurrency)


async def gather_rates(
    latest: Callable[[str], Awaitable[Observation]], series: Sequence[str], concurrency: int
) -> FredRates:
    """Ask ``latest`` for each of ``series`` and assemble the rates (the API's and the CSV's).

    A SeriesError leaves its figure None and its reason in ``problems``; any other FeedError
    fails the whole at once.
    """
    outcomes = await fan_out(series, latest, concurrency=concurrency, item_errors=(SeriesError,))
    found = {name: item for name, item in outcomes.items() if isinstance(item, Observation)}
    problems = {name: item for name, item in outcomes.items() if isinstance(item, str)}
    effr = found.get(EFFR_SERIES)
    two_year = found.get(TWO_YEAR_SERIES)
    target_range, target_date = _target_range(found, problems)
    return FredRates(
        effr=effr.value if effr else None,
        effr_date=effr.date if effr else None,
        target_range=target_range,
        target_date=target_date,
        two_year=two_year.value if two_year else None,
        two_year_date=two_year.date if two_year else None,
        problems=problems,
    )


def _target_range(
    found: Mapping[str, Observation], problems: dict[str, str]
) -> tuple[tuple[float, float] | None, date | None]:
    lower = found.get(TARGET_LOWER_SERIES)
    upper = found.get(TARGET_UPPER_SERIES)
    if lower is None or upper is None:
        return None, None
    if lower.date != upper.date:
        # The bounds are published together; a lone new bound is a half-updated range.
        problems[TARGET_UPPER_SERIES] = (
            f"{PROVIDER} target range bounds are from different days "
            f"({lower.date.isoformat()} and {upper.date.isoformat()})"
        )
        return None, None
    if lower.value > upper.value:
        problems[TARGET_UPPER_SERIES] = (
            f"{PROVIDER} sent a target range upside down: {lower.value:g} to {upper.value:g}"
        )
        return None, None
    return (lower.value, upper.value), lower.date


def _observation(row: Any) -> Observation | None:
    if not isinstance(row, dict):
        return None
    day, value = row.get("date"), row.get("value")
    if not isinstance(day, str) or not isinstance(value, str):
        return None
    # "." is FRED's missing value; anything but a plain decimal is not a rate either.
    if not DECIMAL.fullmatch(value.strip()):
        return None
    try:
        when = date.fromisoformat(day)
    except ValueError:
        return None
    number = float(value)
    return Observation(when, number) if math.isfinite(number) else None
