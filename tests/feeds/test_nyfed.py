"""The New York Fed's EFFR over a local server: the numbers served, and every bad body refused."""

from __future__ import annotations

import copy
import math
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest
from capgap.feeds.base import FeedError
from capgap.feeds.http import RateLimited, make_client
from capgap.feeds.providers.nyfed import (
    DEFAULT_BASE_URL,
    EFFR_PATH,
    EffrObservation,
    NewYorkFed,
    parse_effr,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from json_strategies import JSON_VALUES
from server import LocalServer, Reply, local_server, provider_test_client

__all__ = ["local_server"]

CLIENT = provider_test_client("New York Fed")

# The shape of /api/rates/unsecured/effr/last/1.json, with every field the API publishes.
BODY: dict[str, Any] = {
    "refRates": [
        {
            "effectiveDate": "2025-12-04",
            "type": "EFFR",
            "percentRate": 3.89,
            "percentPercentile1": 3.85,
            "percentPercentile25": 3.87,
            "percentPercentile75": 3.9,
            "percentPercentile99": 3.95,
            "volumeInBillions": 95,
            "targetRateFrom": 3.75,
            "targetRateTo": 4.0,
            "revisionIndicator": "",
        }
    ]
}


def body_with(**fields: Any) -> dict[str, Any]:
    body = copy.deepcopy(BODY)
    body["refRates"][0].update(fields)
    return body


def body_without(key: str) -> dict[str, Any]:
    body = copy.deepcopy(BODY)
    del body["refRates"][0][key]
    return body


@pytest.fixture
async def nyfed(local_server: LocalServer) -> AsyncIterator[NewYorkFed]:
    async with make_client(CLIENT, trust_env=False) as client:
        yield NewYorkFed(client, local_server.base_url + "/")


def test_defaults():
    assert DEFAULT_BASE_URL == "https://markets.newyorkfed.org"
    assert EFFR_PATH == "/api/rates/unsecured/effr/last/1.json"


async def test_effr_numbers_are_the_numbers_served(nyfed, local_server):
    local_server.add(EFFR_PATH, Reply.json(BODY))
    observation = await nyfed.effr()
    assert observation == EffrObservation(date(2025, 12, 4), 3.89, 3.75, 4.0)
    assert local_server.count(EFFR_PATH) == 1
    assert local_server.total == 1
    assert local_server.seen[0].headers["user-agent"].startswith("Mozilla/5.0")


def test_integer_rates_are_accepted():
    # The API writes whole numbers without a decimal point (0 in 2020-2022).
    observation = parse_effr(body_with(percentRate=0.08, targetRateFrom=0, targetRateTo=0.25))
    assert observation.target_from == 0.0
    assert isinstance(observation.target_from, float)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"refRates": []}, "New York Fed sent no EFFR observation (refRates is empty)"),
        ({}, "New York Fed sent no refRates list"),
        ({"refRates": None}, "New York Fed sent no refRates list"),
        ([], "New York Fed sent no refRates list"),
        ({"refRates": [None]}, "New York Fed sent a refRates entry that is not an object"),
        (body_without("percentRate"), "New York Fed EFFR has no percentRate"),
        (body_without("targetRateFrom"), "New York Fed EFFR has no targetRateFrom"),
        (body_without("targetRateTo"), "New York Fed EFFR has no targetRateTo"),
        (body_without("effectiveDate"), "New York Fed EFFR has no effectiveDate"),
        (body_with(percentRate=None), "New York Fed EFFR has no percentRate"),
        (body_with(targetRateTo=None), "New York Fed EFFR has no targetRateTo"),
        (body_with(percentRate="3.89"), "New York Fed EFFR percentRate is not a number: '3.89'"),
        (body_with(percentRate=True), "New York Fed EFFR percentRate is not a number: True"),
        (
            body_with(percentRate=math.nan),
            "New York Fed EFFR percentRate is not a finite number: nan",
        ),
        (
            body_with(effectiveDate="12/04/2025"),
            "New York Fed EFFR effectiveDate is not a date: '12/04/2025'",
        ),
        (
            body_with(effectiveDate=20251204),
            "New York Fed EFFR effectiveDate is not a date: 20251204",
        ),
        (
            body_with(targetRateFrom=4.0, targetRateTo=3.75),
            "New York Fed sent a target range upside down: 4 to 3.75",
        ),
        (body_with(type="SOFR"), "New York Fed sent a 'SOFR' rate where EFFR was expected"),
    ],
)
async def test_bad_bodies_are_feed_errors_over_http(nyfed, local_server, body, message):
    local_server.add(EFFR_PATH, Reply.json(body))
    with pytest.raises(FeedError) as caught:
        await nyfed.effr()
    assert str(caught.value) == message
    assert local_server.count(EFFR_PATH) == 1


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (
            Reply.html(),
            "New York Fed sent HTML where JSON was expected "
            "(a captive portal or a challenge page?)",
        ),
        (
            Reply.text('{"refRates": [', content_type="application/json"),
            "New York Fed sent malformed JSON",
        ),
        (Reply.json({}, 503), "New York Fed HTTP 503"),
        (Reply.json({}, 404), "New York Fed HTTP 404"),
        (Reply.slow(5.0, BODY), "New York Fed timed out after 2 s"),
    ],
    ids=["html", "malformed", "503", "404", "slow"],
)
async def test_transport_faults_are_feed_errors(nyfed, local_server, reply, message):
    local_server.add(EFFR_PATH, reply)
    with pytest.raises(FeedError) as caught:
        await nyfed.effr()
    assert str(caught.value) == message
    assert local_server.count(EFFR_PATH) == 1


async def test_rate_limit(nyfed, local_server):
    local_server.add(EFFR_PATH, Reply.json({}, 429, {"Retry-After": "120"}))
    with pytest.raises(RateLimited) as caught:
        await nyfed.effr()
    assert caught.value.retry_after_s == 120.0
    assert str(caught.value) == "New York Fed rate limit (HTTP 429), retry in 120 s"


async def test_a_scripted_recovery_is_served_in_order(nyfed, local_server):
    # First a rate limit, then the data: the provider itself never retries, the caller does.
    local_server.add(EFFR_PATH, Reply.json({}, 429, {"Retry-After": "1"}), Reply.json(BODY))
    with pytest.raises(RateLimited):
        await nyfed.effr()
    assert local_server.count(EFFR_PATH) == 1
    assert (await nyfed.effr()).effr == 3.89
    assert local_server.count(EFFR_PATH) == 2


async def test_dropped_connections_are_feed_errors(nyfed, local_server):
    local_server.add(EFFR_PATH, Reply.reset(), Reply.truncated(b'{"refRates": [{"eff', 300))
    with pytest.raises(FeedError, match=r"^New York Fed connection failed: "):
        await nyfed.effr()
    with pytest.raises(FeedError, match=r"^New York Fed response was cut short: "):
        await nyfed.effr()


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(BODY["refRates"][0])), JSON_VALUES)
def test_any_field_value_is_an_observation_or_a_feed_error(key, value):
    try:
        observation = parse_effr(body_with(**{key: value}))
    except FeedError:
        return
    assert math.isfinite(observation.effr)
    assert observation.target_from <= observation.target_to
    assert isinstance(observation.effective_date, date)


@settings(max_examples=200, deadline=None)
@given(JSON_VALUES)
def test_any_json_is_an_observation_or_a_feed_error(payload):
    try:
        observation = parse_effr(payload)
    except FeedError:
        return
    assert isinstance(observation, EffrObservation)
