"""The New York Fed markets API: the latest effective federal funds rate and the target range."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from capgap.core.market_types import NEW_YORK
from capgap.feeds.base import FeedError
from capgap.feeds.http import ClientSettings, HttpProvider, get_json
from capgap.settings.model import NYFED_BASE_URL

PROVIDER = "New York Fed"
# The default endpoint is kept with the other settings, where the config can replace it.
DEFAULT_BASE_URL = NYFED_BASE_URL
EFFR_PATH = "/api/rates/unsecured/effr/last/1.json"
CLIENT_SETTINGS = ClientSettings(provider=PROVIDER, max_connections=2, max_keepalive=1)


@dataclass(frozen=True, slots=True)
class EffrObservation:
    """One published EFFR: the business day it applies to, the rate and the target range (%)."""

    effective_date: date
    effr: float
    target_from: float
    target_to: float


#: Rates in percent outside this span are a unit or data error (basis points sent as
#: percent, a stray zero), never a federal funds rate.
PLAUSIBLE_RATE = (-1.0, 25.0)


def parse_effr(payload: Any, today: date | None = None) -> EffrObservation:
    """Parse ``{"refRates": [{effectiveDate, percentRate, targetRateFrom, targetRateTo}]}``.

    Raises FeedError naming the missing or bad field, a rate outside PLAUSIBLE_RATE, or an
    observation dated after ``today`` (New York), which no published rate can be.
    """
    rates = payload.get("refRates") if isinstance(payload, dict) else None
    if not isinstance(rates, list):
        raise FeedError(f"{PROVIDER} sent no refRates list")
    if not rates:
        raise FeedError(f"{PROVIDER} sent no EFFR observation (refRates is empty)")
    row = rates[0]
    if not isinstance(row, dict):
        raise FeedError(f"{PROVIDER} sent a refRates entry that is not an object")
    kind = row.get("type")
    if kind is not None and kind != "EFFR":
        raise FeedError(f"{PROVIDER} sent a {kind!r} rate where EFFR was expected")
    observation = EffrObservation(
        effective_date=_date(row, "effectiveDate"),
        effr=_rate(row, "percentRate"),
        target_from=_rate(row, "targetRateFrom"),
        target_to=_rate(row, "targetRateTo"),
    )
    if observation.target_from > observation.target_to:
        raise FeedError(
            f"{PROVIDER} sent a target range upside down: "
            f"{observation.target_from:g} to {observation.target_to:g}"
        )
    low, high = PLAUSIBLE_RATE
    for key, value in (
        ("percentRate", observation.effr),
        ("targetRateFrom", observation.target_from),
        ("targetRateTo", observation.target_to),
    ):
        if not low <= value <= high:
            raise FeedError(f"{PROVIDER} EFFR {key} {value:g} % is not a plausible rate")
    if today is not None and observation.effective_date > today:
        raise FeedError(
            f"{PROVIDER} EFFR is dated {observation.effective_date}, after today ({today})"
        )
    return observation


class NewYorkFed(HttpProvider):
    """The EFFR from ``{base}/api/rates/unsecured/effr/last/1.json``."""

    name = "nyfed"
    default_base_url = DEFAULT_BASE_URL

    async def effr(self) -> EffrObservation:
        """Fetch the latest published EFFR and target range (one request)."""
        reply = await get_json(
            self._client, PROVIDER, self._base_url + EFFR_PATH, clock=self._clock
        )
        today = self._clock.now().astimezone(NEW_YORK).date() if self._clock else None
        return parse_effr(reply.body, today)


def _date(row: Mapping[str, Any], key: str) -> date:
    value = row.get(key)
    if value is None:
        raise FeedError(f"{PROVIDER} EFFR has no {key}")
    try:
        if isinstance(value, str):
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise FeedError(f"{PROVIDER} EFFR {key} is not a date: {value!r}")


def _rate(row: Mapping[str, Any], key: str) -> float:
    value = row.get(key)
    if value is None:
        raise FeedError(f"{PROVIDER} EFFR has no {key}")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FeedError(f"{PROVIDER} EFFR {key} is not a number: {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise FeedError(f"{PROVIDER} EFFR {key} is not a finite number: {value!r}")
    return number
