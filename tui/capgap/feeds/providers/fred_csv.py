"""FRED's public CSV download (no key): the EFFR and the target range when the NY Fed fails.

``GET {base}/graph/fredgraph.csv?id=DFF&cosd=YYYY-MM-DD`` answers a header
``observation_date,DFF`` and one row a day, oldest first; a missing value is empty or ".".
A body that is not such a file (an HTML page served as CSV, a header that moved, a date that
is not a date, a rate dated after today, a rate no funds rate can be) is refused with a reason.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from capgap.core.clock import SystemClock
from capgap.core.market_types import NEW_YORK
from capgap.feeds.base import FeedError
from capgap.feeds.http import ClientSettings, HttpProvider, fetch
from capgap.feeds.providers.fred import (
    DECIMAL,
    EFFR_SERIES,
    TARGET_LOWER_SERIES,
    TARGET_UPPER_SERIES,
    FredRates,
    Observation,
    SeriesError,
    gather_rates,
)
from capgap.feeds.providers.nyfed import PLAUSIBLE_RATE
from capgap.settings.model import FRED_CSV_BASE_URL

#: The name in messages and the rates' source label: not the keyed API ("FRED").
PROVIDER = "FRED CSV"
DEFAULT_BASE_URL = FRED_CSV_BASE_URL
CSV_PATH = "/graph/fredgraph.csv"
CLIENT_SETTINGS = ClientSettings(provider=PROVIDER, max_connections=3, max_keepalive=2)
#: The series read without a key (the 2-year yield is not needed for the fallback).
CSV_SERIES = (EFFR_SERIES, TARGET_UPPER_SERIES, TARGET_LOWER_SERIES)
#: Days of history asked for (``cosd``): enough to step over a long weekend of missing values
#: while keeping each download a few hundred bytes.
LOOKBACK_DAYS = 14
#: The first column's name; FRED's older files said "DATE".
DATE_COLUMNS = ("observation_date", "DATE")
_MISSING = ("", ".")


def parse_fredgraph(
    body: bytes, series_id: str, *, today: date, content_type: str = ""
) -> Observation:
    """Return the latest real observation of one fredgraph.csv body.

    Empty and "." values are skipped back to the last real one; anything else the file
    should not hold (HTML, another header, a bad date, a value that is no rate, a date after
    ``today``) refuses the whole file rather than guessing: SeriesError, or FeedError for
    an HTML page (the provider failed, not this one series).
    """
    text = body.decode("utf-8-sig", errors="replace")
    if "html" in content_type.lower() or text.lstrip()[:1] == "<":
        # A captive portal or a challenge page: the provider failed, not this one series.
        raise FeedError(f"{PROVIDER} sent an HTML page where the {series_id} CSV was expected")
    rows = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    if not rows:
        raise SeriesError(series_id, f"{PROVIDER} sent an empty {series_id} file")
    header = [cell.strip() for cell in rows[0]]
    if len(header) != 2 or header[0] not in DATE_COLUMNS or header[1] != series_id:
        shown = ",".join(header)[:60]
        raise SeriesError(
            series_id,
            f"{PROVIDER} {series_id} header is {shown!r}, not 'observation_date,{series_id}'",
        )
    latest: Observation | None = None
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != 2:
            raise SeriesError(series_id, f"{PROVIDER} {series_id} line {number} has not 2 cells")
        day_text, value = row[0].strip(), row[1].strip()
        try:
            day = date.fromisoformat(day_text)
        except ValueError:
            raise SeriesError(
                series_id, f"{PROVIDER} {series_id} line {number}: {day_text[:20]!r} is not a date"
            ) from None
        if value in _MISSING:
            continue  # FRED's missing value: the last real one before it stands
        if not DECIMAL.fullmatch(value):
            raise SeriesError(
                series_id, f"{PROVIDER} {series_id} {day}: {value[:20]!r} is not a number"
            )
        if latest is None or day > latest.date:
            latest = Observation(day, float(value))
    if latest is None:
        raise SeriesError(series_id, f"{PROVIDER} has no recent value for {series_id}")
    if latest.date > today:
        raise SeriesError(
            series_id, f"{PROVIDER} {series_id} is dated {latest.date}, after today ({today})"
        )
    low, high = PLAUSIBLE_RATE
    if not low <= latest.value <= high:
        raise SeriesError(
            series_id, f"{PROVIDER} {series_id} {latest.value:g} % is not a plausible rate"
        )
    return latest


class FredCsv(HttpProvider):
    """The latest values of FRED series from ``{base}/graph/fredgraph.csv`` (no key)."""

    name = "fred_csv"
    default_base_url = DEFAULT_BASE_URL

    def _today(self) -> date:
        return (self._clock or SystemClock()).now().astimezone(NEW_YORK).date()

    async def latest(self, series_id: str) -> Observation:
        """Fetch the latest real observation of one series (one request)."""
        today = self._today()
        params = {"id": series_id, "cosd": (today - timedelta(days=LOOKBACK_DAYS)).isoformat()}
        raw = await fetch(
            self._client, PROVIDER, self._base_url + CSV_PATH, params=params, clock=self._clock
        )
        return parse_fredgraph(raw.body, series_id, today=today, content_type=raw.content_type)

    async def rates(self, concurrency: int = 2) -> FredRates:
        """Fetch the EFFR and the target range: one request per series.

        A series the file refuses leaves its figure None and says why in ``problems``; a
        failure of the whole provider (network, a 5xx, rate limit) raises FeedError.
        """
        return await gather_rates(self.latest, CSV_SERIES, concurrency)
