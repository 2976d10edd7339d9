"""FRED's keyless CSV download: the parser's refusals, and the provider over a local server."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from capgap.core.clock import ManualClock
from capgap.core.market_types import NEW_YORK
from capgap.feeds.base import FeedError
from capgap.feeds.http import make_client
from capgap.feeds.providers.fred import SeriesError
from capgap.feeds.providers.fred_csv import (
    CSV_PATH,
    DEFAULT_BASE_URL,
    LOOKBACK_DAYS,
    FredCsv,
    parse_fredgraph,
)
from server import LocalServer, Reply, local_server, provider_test_client

__all__ = ["local_server"]

SHARED = Path(__file__).parents[3] / "shared" / "fixtures" / "providers"
TODAY = date(2025, 12, 8)  # a Monday


def fredgraph(series: str, *rows: tuple[str, str], header: str | None = None) -> str:
    """A fredgraph.csv body as FRED writes it: a header, then one 'date,value' line a day."""
    lines = [header if header is not None else f"observation_date,{series}"]
    lines += [f"{day},{value}" for day, value in rows]
    return "\n".join(lines) + "\n"


def csv_reply(body: str) -> Reply:
    """A body served as FRED serves its download."""
    return Reply.text(body, content_type="text/csv")


def serve_fred_csv(server: LocalServer, today: date, *, effr: str = "3.64") -> None:
    """Answer DFF, DFEDTARU and DFEDTARL as FRED writes them, up to ``today`` ("." for its EFFR).

    The EFFR is 3.89 three and two days ago, ``effr`` yesterday; the range is 3.50-3.75.
    """
    days = [(today - timedelta(days=back)).isoformat() for back in (3, 2, 1, 0)]
    values = {
        "DFF": ["3.89", "3.89", effr, "."],
        "DFEDTARU": ["3.75"] * 4,
        "DFEDTARL": ["3.50"] * 4,
    }
    for series, column in values.items():
        body = fredgraph(series, *zip(days, column, strict=True))
        server.add(f"{CSV_PATH}?id={series}", csv_reply(body))


# Friday 2025-12-05 and the weekend after it; Monday's EFFR is not out yet (".").
DFF = fredgraph("DFF", ("2025-12-05", "3.89"), ("2025-12-06", "3.89"), ("2025-12-07", "3.88"))
DFF_MISSING_TAIL = DFF + "2025-12-08,.\n"
UPPER = fredgraph("DFEDTARU", ("2025-12-07", "4.00"), ("2025-12-08", "4.00"))
LOWER = fredgraph("DFEDTARL", ("2025-12-07", "3.75"), ("2025-12-08", "3.75"))


def parse(body: str, series: str = "DFF", content_type: str = "text/csv") -> tuple[date, float]:
    """The (date, value) parse_fredgraph reads from ``body`` on TODAY."""
    found = parse_fredgraph(body.encode(), series, today=TODAY, content_type=content_type)
    return found.date, found.value


def test_the_latest_real_value_is_read_past_empty_and_dot_values():
    assert parse(DFF) == (date(2025, 12, 7), 3.88)
    assert parse(DFF_MISSING_TAIL) == (date(2025, 12, 7), 3.88)
    assert parse(DFF + "2025-12-08,\n") == (date(2025, 12, 7), 3.88)
    # A byte-order mark and Windows line ends are the same file.
    assert parse("\ufeff" + DFF.replace("\n", "\r\n")) == (date(2025, 12, 7), 3.88)
    # FRED's older header said DATE.
    assert parse(fredgraph("DFF", ("2025-12-05", "3.89"), header="DATE,DFF")) == (
        date(2025, 12, 5),
        3.89,
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (fredgraph("DFF"), "FRED CSV has no recent value for DFF"),
        (fredgraph("DFF", ("2025-12-05", "."), ("2025-12-06", "")), "no recent value for DFF"),
        ("", "FRED CSV sent an empty DFF file"),
        (fredgraph("DFF", ("2025-12-05", "3.89"), header="DFF,observation_date"), "header is"),
        (fredgraph("DFF", ("2025-12-05", "3.89"), header="observation_date,DFEDTARU"), "header"),
        ("Title:,Federal Funds\n" + DFF, "header is 'Title:,Federal Funds'"),
        (fredgraph("DFF", ("12/05/2025", "3.89")), "'12/05/2025' is not a date"),
        (fredgraph("DFF", ("2025-12-05", "n/a")), "'n/a' is not a number"),
        (fredgraph("DFF", ("2025-12-05", "3.89,x")), "line 2 has not 2 cells"),
        (fredgraph("DFF", ("2025-12-05", "389")), "389 % is not a plausible rate"),
        (DFF + "2025-12-09,3.64\n", "dated 2025-12-09, after today (2025-12-08)"),
    ],
)
def test_a_file_that_is_not_what_fred_writes_is_refused_with_its_reason(body, message):
    with pytest.raises(SeriesError, match=re.escape(message)) as e:
        parse(body)
    assert e.value.series_id == "DFF"


def test_an_html_page_served_as_csv_fails_the_provider_not_just_a_series():
    page = "<!DOCTYPE html><html><body>Please verify you are a human</body></html>"
    for content_type in ("text/csv", "text/html; charset=utf-8"):
        with pytest.raises(FeedError, match="FRED CSV sent an HTML page") as caught:
            parse(page, content_type=content_type)
        assert not isinstance(caught.value, SeriesError)
    # Declared HTML is refused even when the body looks like a CSV.
    with pytest.raises(FeedError, match="HTML page"):
        parse(DFF, content_type="text/html")


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/fixtures is absent")
def test_the_real_download_reads_its_last_line():
    # The real file ends "2025-06-29,4.50" (checked by eye); its header is FRED's current one.
    (path,) = SHARED.glob("fred_fredgraph_DFEDTARU_*.csv")
    found = parse_fredgraph(path.read_bytes(), "DFEDTARU", today=date(2025, 6, 30))
    assert (found.date, found.value) == (date(2025, 6, 29), 4.5)


@pytest.fixture
async def fred_csv(local_server: LocalServer) -> AsyncIterator[FredCsv]:
    clock = ManualClock(datetime(2025, 12, 8, 15, 0, tzinfo=NEW_YORK))
    async with make_client(provider_test_client("FRED CSV"), trust_env=False) as client:
        yield FredCsv(client, local_server.base_url, clock=clock)


def serve_series(server: LocalServer, **bodies: Reply) -> None:
    """Answer the one CSV endpoint by the series asked for (``id``)."""
    for series, reply in bodies.items():
        server.add(f"{CSV_PATH}?id={series}", reply)


def test_the_default_host_is_freds_public_site():
    assert DEFAULT_BASE_URL == "https://fred.stlouisfed.org"


async def test_rates_are_the_served_numbers_one_download_per_series(fred_csv, local_server):
    serve_series(
        local_server,
        DFF=csv_reply(DFF_MISSING_TAIL),
        DFEDTARU=csv_reply(UPPER),
        DFEDTARL=csv_reply(LOWER),
    )
    rates = await fred_csv.rates()
    assert rates.effr == 3.88 and rates.effr_date == date(2025, 12, 7)
    assert rates.target_range == (3.75, 4.0) and rates.target_date == date(2025, 12, 8)
    assert rates.two_year is None and dict(rates.problems) == {}
    asked = sorted(parse_qs(seen.query)["id"][0] for seen in local_server.seen)
    assert asked == ["DFEDTARL", "DFEDTARU", "DFF"]
    # cosd keeps each download to the last two weeks (of New York's today).
    starts = {parse_qs(seen.query)["cosd"][0] for seen in local_server.seen}
    assert starts == {(TODAY - timedelta(days=LOOKBACK_DAYS)).isoformat()}


async def test_a_refused_series_leaves_its_figure_out_and_says_why(fred_csv, local_server):
    serve_series(
        local_server,
        DFF=csv_reply(DFF),
        DFEDTARU=csv_reply(fredgraph("DFEDTARU", header="observation_date,VALUE")),
        DFEDTARL=csv_reply(LOWER),
    )
    rates = await fred_csv.rates()
    assert rates.effr == 3.88 and rates.target_range is None
    assert "DFEDTARU header is 'observation_date,VALUE'" in rates.problems["DFEDTARU"]


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply.json({}, status=500), "FRED CSV HTTP 500"),
        (Reply.html(), "FRED CSV sent an HTML page"),
        (Reply.slow(5.0), "FRED CSV timed out"),
    ],
)
async def test_a_failing_download_fails_the_provider(fred_csv, local_server, reply, message):
    local_server.add(CSV_PATH, reply)
    with pytest.raises(FeedError, match=message):
        await fred_csv.rates()
