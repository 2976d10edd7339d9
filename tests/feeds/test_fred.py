"""FRED over a local server: the latest valid values, the key kept secret, faults, conformance."""

from __future__ import annotations

import json
import traceback
from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from capgap.feeds.base import FeedError, RateLimited
from capgap.feeds.http import make_client
from capgap.feeds.providers.fred import (
    DEFAULT_BASE_URL,
    MISSING_KEY,
    OBSERVATIONS_PATH,
    RATE_SERIES,
    Fred,
    FredRates,
    Observation,
    SeriesError,
    error_message,
    latest_observation,
    parse_observations,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from json_strategies import JSON_VALUES
from server import LocalServer, Reply, local_server, provider_test_client

__all__ = ["local_server"]

SHARED = Path(__file__).parents[3] / "shared" / "fixtures" / "providers"
CLIENT = provider_test_client("FRED")
KEY = "abcdef0123456789abcdef0123456789"
PATH = OBSERVATIONS_PATH


def observations(*points: tuple[str, str], **extra: Any) -> dict[str, Any]:
    """A series/observations body in FRED's shape, points given newest first (sort_order=desc)."""
    return {
        "realtime_start": "2025-12-08",
        "realtime_end": "2025-12-08",
        "observation_start": "1600-01-01",
        "observation_end": "9999-12-31",
        "units": "lin",
        "output_type": 1,
        "file_type": "json",
        "order_by": "observation_date",
        "sort_order": "desc",
        "count": 25_000,
        "offset": 0,
        "limit": 10,
        "observations": [
            {"realtime_start": "2025-12-08", "realtime_end": "2025-12-08", "date": d, "value": v}
            for d, v in points
        ],
        **extra,
    }


# Friday 2025-12-05 and the weekend after it: DFF repeats Friday's rate on Saturday and Sunday,
# DGS2 has no Saturday or Sunday rows at all and "." on a holiday.
DFF = observations(("2025-12-07", "."), ("2025-12-06", "3.89"), ("2025-12-05", "3.89"))
UPPER = observations(("2025-12-07", "4.00"), ("2025-12-06", "4.00"))
LOWER = observations(("2025-12-07", "3.75"), ("2025-12-06", "3.75"))
DGS2 = observations(("2025-12-05", "3.56"), ("2025-12-04", "3.52"))
BAD_SERIES = {
    "error_code": 400,
    "error_message": "Bad Request.  Invalid value for variable series_id.  "
    "Series IDs should be 25 or less alphanumeric characters.",
}


@pytest.fixture
async def fred(local_server: LocalServer) -> AsyncIterator[Fred]:
    async with make_client(CLIENT, trust_env=False) as client:
        yield Fred(client, local_server.base_url + "/", api_key=KEY)


def queries(server: LocalServer) -> list[dict[str, list[str]]]:
    return [parse_qs(seen.query) for seen in server.seen]


def chain(error: BaseException) -> Iterator[BaseException]:
    """The error and every exception chained to it."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def assert_secret(error: BaseException) -> None:
    """The key is in no message, no repr and no formatted traceback of the error."""
    # httpx exceptions carry the request, whose URL holds the key: none may be chained.
    assert error.__cause__ is None
    assert error.__context__ is None
    for item in chain(error):
        assert KEY not in str(item)
        assert KEY not in repr(item)
    assert KEY not in "".join(traceback.format_exception(error))


def test_defaults():
    assert DEFAULT_BASE_URL == "https://api.stlouisfed.org"
    assert PATH == "/fred/series/observations"
    assert RATE_SERIES == ("DFF", "DFEDTARU", "DFEDTARL", "DGS2")


async def test_latest_is_one_get_with_every_parameter(fred, local_server):
    local_server.add(PATH, Reply.json(DGS2))
    assert await fred.latest("DGS2") == Observation(date(2025, 12, 5), 3.56)
    assert local_server.total == 1
    assert queries(local_server) == [
        {
            "series_id": ["DGS2"],
            "api_key": [KEY],
            "file_type": ["json"],
            "sort_order": ["desc"],
            "limit": ["10"],
        }
    ]


async def test_missing_values_are_skipped_to_the_previous_one(fred, local_server):
    local_server.add(PATH, Reply.json(DFF))
    assert await fred.latest("DFF") == Observation(date(2025, 12, 6), 3.89)


async def test_rates_are_the_numbers_served_one_request_per_series(fred, local_server):
    # One at a time, the server answers in the order the series are asked.
    local_server.add(PATH, *(Reply.json(body) for body in (DFF, UPPER, LOWER, DGS2)))
    rates = await fred.rates(concurrency=1)
    assert rates == FredRates(
        effr=3.89,
        effr_date=date(2025, 12, 6),
        target_range=(3.75, 4.0),
        target_date=date(2025, 12, 7),
        two_year=3.56,
        two_year_date=date(2025, 12, 5),
        problems={},
    )
    assert [query["series_id"] for query in queries(local_server)] == [
        ["DFF"],
        ["DFEDTARU"],
        ["DFEDTARL"],
        ["DGS2"],
    ]
    assert local_server.total == 4


async def test_rates_give_what_they_can(fred, local_server):
    holidays = observations(*((f"2025-12-{day:02d}", ".") for day in range(10, 0, -1)))
    local_server.add(PATH, Reply.json(DFF), Reply.json(UPPER), Reply.json(LOWER))
    local_server.add(PATH, Reply.json(holidays))
    rates = await fred.rates(concurrency=1)
    assert rates.effr == 3.89
    assert rates.target_range == (3.75, 4.0)
    assert rates.two_year is None
    assert rates.two_year_date is None
    assert rates.problems == {"DGS2": "FRED has no recent value for DGS2"}
    assert local_server.total == 4


async def test_target_bounds_from_different_days_are_not_paired(fred, local_server):
    lower = observations(("2025-12-06", "3.75"))
    local_server.add(PATH, Reply.json(DFF), Reply.json(UPPER), Reply.json(lower), Reply.json(DGS2))
    rates = await fred.rates(concurrency=1)
    assert rates.target_range is None
    assert rates.target_date is None
    assert rates.problems == {
        "DFEDTARU": "FRED target range bounds are from different days (2025-12-06 and 2025-12-07)"
    }
    assert rates.effr == 3.89


async def test_an_upside_down_target_range_is_refused(fred, local_server):
    local_server.add(PATH, Reply.json(DFF), Reply.json(LOWER), Reply.json(UPPER), Reply.json(DGS2))
    rates = await fred.rates(concurrency=1)
    assert rates.target_range is None
    assert rates.problems == {"DFEDTARU": "FRED sent a target range upside down: 4 to 3.75"}


async def test_rates_keep_to_their_concurrency(fred, local_server):
    local_server.add(PATH, Reply.slow(0.05, UPPER))
    rates = await fred.rates(concurrency=2)
    assert rates.effr == 4.0
    assert rates.target_range == (4.0, 4.0)
    assert local_server.total == 4
    assert local_server.max_in_flight <= 2


@pytest.mark.parametrize("key", [None, "", "   "])
async def test_a_missing_key_is_a_feed_error_before_any_request(local_server, key):
    async with make_client(CLIENT, trust_env=False) as client:
        fred = Fred(client, local_server.base_url, api_key=key)
        with pytest.raises(FeedError) as caught:
            await fred.rates()
        assert str(caught.value) == MISSING_KEY
        with pytest.raises(FeedError, match="needs an API key"):
            await fred.latest("DFF")
    assert MISSING_KEY == "FRED needs an API key ([feeds.fred] api_key or FRED_API_KEY)"
    assert local_server.total == 0


async def test_a_bad_series_id_is_refused_before_any_request(fred, local_server):
    with pytest.raises(SeriesError, match=r"^FRED: 'DFF&x=1' is not a series id$"):
        await fred.latest("DFF&x=1")
    assert local_server.total == 0


async def test_a_400_error_carries_the_message_but_never_the_key(fred, local_server):
    local_server.add(PATH, Reply.json(BAD_SERIES, 400))
    with pytest.raises(FeedError) as caught:
        await fred.rates(concurrency=1)
    assert str(caught.value) == (
        "FRED HTTP 400: Bad Request. Invalid value for variable series_id. "
        "Series IDs should be 25 or less alphanumeric characters."
    )
    assert_secret(caught.value)
    # The whole provider failed: nothing more was asked.
    assert local_server.total == 1


async def test_a_key_echoed_by_the_provider_is_masked(fred, local_server):
    echo = {
        "error_code": 400,
        "error_message": f"Bad Request. The api_key {KEY} is not registered.",
    }
    local_server.add(PATH, Reply.json(echo, 400))
    with pytest.raises(FeedError) as caught:
        await fred.latest("DFF")
    assert str(caught.value) == "FRED HTTP 400: Bad Request. The api_key *** is not registered."
    assert_secret(caught.value)


async def test_an_error_object_in_a_200_body_fails_the_provider(fred, local_server):
    local_server.add(PATH, Reply.json({"error_code": 500, "error_message": "Internal error"}))
    with pytest.raises(FeedError) as caught:
        await fred.rates(concurrency=1)
    assert str(caught.value) == "FRED error: Internal error"
    assert not isinstance(caught.value, SeriesError)
    assert local_server.total == 1


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply.json({}, 401), "FRED HTTP 401"),
        (Reply.json({"error_code": 500}, 500), "FRED HTTP 500"),
        (Reply.json({}, 503), "FRED HTTP 503"),
        (Reply.text("Not here", 404), "FRED HTTP 404"),
        (
            Reply.html(),
            "FRED sent HTML where JSON was expected (a captive portal or a challenge page?)",
        ),
        (
            Reply.text('{"observations": [', content_type="application/json"),
            "FRED sent malformed JSON",
        ),
        (Reply.slow(5.0, DFF), "FRED timed out after 2 s"),
    ],
    ids=["401", "500", "503", "404-text", "html", "malformed", "slow"],
)
async def test_faults_are_feed_errors_without_the_key(fred, local_server, reply, message):
    local_server.add(PATH, reply)
    with pytest.raises(FeedError) as caught:
        await fred.rates(concurrency=1)
    assert str(caught.value) == message
    assert_secret(caught.value)
    assert local_server.total == 1


async def test_rate_limit_is_rate_limited_without_retries(fred, local_server):
    local_server.add(PATH, Reply.json({}, 429, {"Retry-After": "30"}))
    with pytest.raises(RateLimited) as caught:
        await fred.rates(concurrency=1)
    assert caught.value.retry_after_s == 30.0
    assert str(caught.value) == "FRED rate limit (HTTP 429), retry in 30 s"
    assert_secret(caught.value)
    assert local_server.total == 1


async def test_reset_and_truncation_are_feed_errors_without_the_key(fred, local_server):
    local_server.add(PATH, Reply.reset(), Reply.truncated(b'{"observations": [{"da', 400))
    with pytest.raises(FeedError, match=r"^FRED connection failed: ") as reset:
        await fred.latest("DFF")
    assert_secret(reset.value)
    with pytest.raises(FeedError, match=r"^FRED response was cut short: ") as cut:
        await fred.latest("DFF")
    assert_secret(cut.value)
    assert local_server.total == 2


async def test_a_failing_provider_stops_at_the_requests_in_flight(fred, local_server):
    local_server.add(PATH, Reply.reset())
    with pytest.raises(FeedError, match=r"^FRED connection failed: "):
        await fred.rates(concurrency=2)
    assert 1 <= local_server.total <= 2


def test_the_provider_repr_hides_the_key():
    client = make_client(CLIENT, trust_env=False)
    fred = Fred(client, "http://127.0.0.1:9", api_key=KEY)
    assert KEY not in repr(fred)
    assert repr(fred) == "Fred(base_url='http://127.0.0.1:9', api_key=set)"


def test_latest_is_by_date_not_by_position():
    # An ascending body (FRED's default order) gives the same answer as a descending one.
    ascending = observations(("2025-12-04", "3.52"), ("2025-12-05", "3.56"), ("2025-12-06", "."))
    assert latest_observation(ascending, "DGS2") == Observation(date(2025, 12, 5), 3.56)


@pytest.mark.parametrize(
    "value", [".", "", "NaN", "nan", "inf", "-Infinity", "1_0", "3.5%", " ", "0x10", "1e400"]
)
def test_non_decimal_values_are_skipped(value):
    body = observations(("2025-12-05", value), ("2025-12-04", "3.52"))
    assert parse_observations(body, "DGS2") == [Observation(date(2025, 12, 4), 3.52)]


@pytest.mark.parametrize(
    "row",
    [
        {"date": "2025-12-05", "value": 3.6},
        {"date": "12/05/2025", "value": "3.6"},
        {"date": None, "value": "3.6"},
        {"value": "3.6"},
        "2025-12-05,3.6",
        None,
    ],
)
def test_malformed_rows_are_skipped(row):
    body = observations(("2025-12-04", "3.52"))
    body["observations"].insert(0, row)
    assert parse_observations(body, "DGS2") == [Observation(date(2025, 12, 4), 3.52)]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "FRED sent something other than observations"),
        ({}, "FRED sent no observations list for DFF"),
        ({"observations": None}, "FRED sent no observations list for DFF"),
        (observations(), "FRED has no recent value for DFF"),
    ],
)
def test_unusable_bodies_are_series_errors(body, message):
    with pytest.raises(SeriesError) as caught:
        latest_observation(body, "DFF")
    assert str(caught.value) == message
    assert caught.value.series_id == "DFF"


def test_error_message_is_one_line_cut_only_after_masking():
    assert error_message({"error_code": 400, "error_message": "a\n  b"}) == "a b"
    assert error_message({"error_code": 423, "error_message": ""}) == "error code 423"
    assert error_message(DFF) is None
    # Cutting here could halve an echoed key; scrubbed() masks it, then cuts the message
    # (tests/feeds/test_secret_masking.py).
    assert error_message({"error_message": "x" * 500}) == "x" * 500


GOOD_DATES = st.dates(min_value=date(1950, 1, 1), max_value=date(2100, 1, 1)).map(date.isoformat)
GOOD_VALUES = st.floats(min_value=-50, max_value=50, allow_nan=False).map(lambda x: f"{x:.2f}")
BAD_VALUES = st.sampled_from([".", "", "NaN", "n/a"]) | JSON_VALUES.filter(
    lambda value: not isinstance(value, str)
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.booleans(), GOOD_DATES, st.booleans(), GOOD_VALUES, BAD_VALUES), max_size=8
    )
)
def test_rows_keep_exactly_the_valid_ones_latest_per_date(spec):
    rows = []
    expected: dict[date, float] = {}
    for date_ok, day, value_ok, good, bad in spec:
        rows.append(
            {"date": day if date_ok else day.replace("-", "/"), "value": good if value_ok else bad}
        )
        if date_ok and value_ok:
            # A date listed twice: the later row wins, as a revision would.
            expected[date.fromisoformat(day)] = float(good)
    result = parse_observations({"observations": rows}, "DFF")
    assert result == [Observation(day, expected[day]) for day in sorted(expected)]


@settings(max_examples=200, deadline=None)
@given(JSON_VALUES)
def test_any_json_is_observations_or_a_feed_error(payload):
    try:
        result = parse_observations(payload, "DFF")
    except FeedError:
        return
    assert isinstance(result, list)


# --- conformance: the real responses in ../shared/fixtures/providers -------------------------

requires_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/fixtures is absent")


def _shared(name: str) -> Any:
    return json.loads((SHARED / name).read_text(encoding="utf-8"))


@requires_shared
def test_shared_dff_observations():
    body = _shared("fred_observations_DFF_2023-01-01_to_2023-06-06.json")
    parsed = parse_observations(body, "DFF")
    # An independent reading: every row whose value is not "." counts, in date order.
    expected = sorted(
        (date.fromisoformat(row["date"]), float(row["value"]))
        for row in body["observations"]
        if row["value"] != "."
    )
    assert [(item.date, item.value) for item in parsed] == expected
    assert len(parsed) == body["count"] == 157
    assert latest_observation(body, "DFF") == Observation(date(2023, 6, 6), 5.08)


@requires_shared
def test_shared_limit_10_observations():
    body = _shared("fred_observations_GNPCA_limit10.fredr-fixture.json")
    parsed = parse_observations(body, "GNPCA")
    assert len(parsed) == len(body["observations"]) == 10
    last = body["observations"][-1]
    assert latest_observation(body, "GNPCA") == Observation(
        date.fromisoformat(last["date"]), float(last["value"])
    )


@requires_shared
def test_shared_empty_observations_have_no_value():
    body = _shared("fred_observations_empty_future_start.fredr-fixture.json")
    assert parse_observations(body, "GNPCA") == []
    with pytest.raises(SeriesError, match="no recent value for GNPCA"):
        latest_observation(body, "GNPCA")


@requires_shared
def test_shared_400_body_is_the_error_message():
    body = _shared("fred_error_400_invalid_series_id.body.json")
    assert error_message(body) == (
        "Bad Request. Invalid value for variable series_id. "
        "Series IDs should be 25 or less alphanumeric characters."
    )
    with pytest.raises(FeedError, match=r"^FRED error: Bad Request\. Invalid value"):
        parse_observations(body, "DFF")


@requires_shared
async def test_shared_400_body_over_http(fred, local_server):
    raw = (SHARED / "fred_error_400_invalid_series_id.body.json").read_bytes()
    local_server.add(PATH, Reply(400, raw))
    with pytest.raises(FeedError, match=r"^FRED HTTP 400: Bad Request\. Invalid value") as caught:
        await fred.latest("DFF")
    assert_secret(caught.value)
