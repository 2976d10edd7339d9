"""The daily holdings update against a local server: good files replace, bad ones are refused.

The server serves holdings files written here (a dozen rows, the real format), then faults;
after each fault the last good universe stays in use and the caller gets one line, and once
the fault clears the next good file replaces it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from capgap.core.clock import ManualClock
from capgap.feeds.holdings import (
    ATTEMPTS_FILE,
    due_funds,
    holdings_url,
    read_attempts,
    store_holdings,
    update_funds,
)
from capgap.feeds.http import USER_AGENT
from capgap.feeds.providers.ishares import parse_holdings
from capgap.market.holdings import FUNDS, cache_dir, file_name, fund_of, write_holdings
from capgap.market.universe import load_universe
from holdings_files import HEADER, SHIPPED_AS_OF, STOCKS, holdings_csv, install_small_shipped
from server import LocalServer, Reply, local_server, provider_test_client

__all__ = ["local_server"]

IWM = fund_of("IWM")
IWM_PATH = "/" + IWM.product_path + "/1467271812596.ajax"
#: 10:00 New York on 2026-05-06.
MORNING = datetime(2026, 5, 6, 14, 0, tzinfo=UTC)
CSV_TYPE = "text/csv; charset=utf-8"


@pytest.fixture
def shipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small shipped universe (ten stocks each, as of 2026-05-05)."""
    return install_small_shipped(tmp_path / "shipped", monkeypatch)


def good(day: date, stocks=STOCKS) -> Reply:
    return Reply(200, holdings_csv(day, stocks), content_type=CSV_TYPE)


async def update_iwm(server: LocalServer, cache: Path) -> tuple[bool, str]:
    [outcome] = await update_funds(
        [IWM], server.base_url, cache, ManualClock(MORNING), settings=provider_test_client("iS")
    )
    return outcome.ok, outcome.line


def test_the_url_is_the_funds_product_page_ajax_csv():
    assert holdings_url("https://www.ishares.com/", IWM) == (
        "https://www.ishares.com/us/products/239710/ishares-russell-2000-etf/1467271812596.ajax"
        "?fileType=csv&fileName=IWM_holdings&dataType=fund"
    )


def test_the_cache_is_capgaps_user_cache_folder(xdg_home):
    assert cache_dir() == xdg_home / "cache" / "capgap" / "universe"


async def test_a_good_download_is_written_to_the_cache_and_becomes_the_universe(
    local_server, shipped, tmp_path
):
    cache = tmp_path / "cache"
    local_server.add(IWM_PATH, good(date(2026, 5, 6), STOCKS[:9]))
    ok, line = await update_iwm(local_server, cache)
    assert ok, line
    assert line == f"IWM (Russell 2000): 9 members as of 2026-05-06, written to {cache / 'IWM.csv'}"
    [seen] = local_server.seen
    # A browser's User-Agent (the real site serves an HTML page otherwise) and the file's query.
    assert seen.headers["user-agent"] == USER_AGENT
    assert parse_qs(seen.query) == {
        "fileType": ["csv"],
        "fileName": ["IWM_holdings"],
        "dataType": ["fund"],
    }
    universe = load_universe(cache_dir=cache)
    small = universe.source("small")
    assert small is not None
    assert (small.origin, small.as_of, small.members) == ("cache", date(2026, 5, 6), 9)
    members = universe.constituents.filter(bucket="small")
    # Equity rows only, in Yahoo's spelling; cash, futures and the unlisted line are dropped.
    assert members.get_column("symbol").to_list() == [
        "AAA", "BBB", "BRK-B", "CCC", "DDD", "EEE", "FFF", "BF-B", "GGG"
    ]  # fmt: skip
    assert members.filter(symbol="EEE").item(0, "sector") == "Communication Services"
    large = universe.source("large")
    assert large is not None and large.origin == "shipped"


FAULTS = {
    "html with a csv type": (
        Reply.text("<!DOCTYPE html><html><body>Choose your region</body></html>", 200, CSV_TYPE),
        "iShares IWM: sent an HTML page where the holdings CSV was expected",
    ),
    "cut inside a row": (
        Reply(200, holdings_csv(date(2026, 5, 7))[:1500], content_type=CSV_TYPE),
        "iShares IWM: the holdings file was cut short inside a row",
    ),
    "connection closed early": (
        Reply.truncated(holdings_csv(date(2026, 5, 7))[:1500], promised=5000),
        "iShares IWM: response was cut short",
    ),
    "far fewer stocks": (
        good(date(2026, 5, 7), STOCKS[:3]),
        "iShares IWM: the holdings file lists 3 stocks, far fewer than the 9 of the last good one",
    ),
    "columns moved": (
        Reply(
            200,
            holdings_csv(date(2026, 5, 7), header=HEADER.replace("Quantity", "Shares")),
            content_type=CSV_TYPE,
        ),
        "iShares IWM: the holdings file lacks the columns Quantity",
    ),
    "http 500": (Reply.text("oops", 500), "iShares IWM: HTTP 500"),
    "timeout": (Reply.slow(4.0), "iShares IWM: timed out after 2 s"),
}


@pytest.mark.parametrize("fault", FAULTS)
async def test_a_bad_download_keeps_the_last_good_universe_until_a_good_one_comes(
    local_server, shipped, tmp_path, fault
):
    cache = tmp_path / "cache"
    local_server.add(IWM_PATH, good(date(2026, 5, 6), STOCKS[:9]))
    assert (await update_iwm(local_server, cache))[0]
    kept = (cache / file_name("IWM")).read_bytes()
    reply, reason = FAULTS[fault]
    local_server.replace(IWM_PATH, reply)

    ok, line = await update_iwm(local_server, cache)

    assert not ok
    assert line.startswith(reason), line
    assert line.endswith("; keeping the universe of 2026-05-06 (cache)"), line
    assert "\n" not in line
    assert (cache / file_name("IWM")).read_bytes() == kept
    small = load_universe(cache_dir=cache).source("small")
    assert small is not None and (small.as_of, small.members) == (date(2026, 5, 6), 9)
    # The fault clears: the next good file replaces the one kept.
    local_server.replace(IWM_PATH, good(date(2026, 5, 8)))
    assert (await update_iwm(local_server, cache))[0]
    small = load_universe(cache_dir=cache).source("small")
    assert small is not None and (small.as_of, small.members) == (date(2026, 5, 8), 10)


async def test_a_first_download_that_fails_keeps_the_shipped_universe(
    local_server, shipped, tmp_path
):
    local_server.add(IWM_PATH, Reply.text("oops", 503))
    ok, line = await update_iwm(local_server, tmp_path / "cache")
    assert not ok
    assert line == "iShares IWM: HTTP 503; keeping the universe of 2026-05-05 (shipped)"
    assert not (tmp_path / "cache" / "IWM.csv").exists()


def test_a_file_older_than_the_universe_in_use_is_refused(shipped, tmp_path):
    outcome = store_holdings(holdings_csv(date(2026, 5, 4)), IWM, tmp_path, source="old.csv")
    assert not outcome.ok
    assert outcome.line == (
        "iShares IWM: the holdings file is as of 2026-05-04, older than the universe in use; "
        "keeping the universe of 2026-05-05 (shipped)"
    )
    assert not (tmp_path / "IWM.csv").exists()


async def test_each_fund_is_tried_once_a_new_york_day_success_or_failure(
    local_server, shipped, tmp_path
):
    cache = tmp_path / "cache"
    today = date(2026, 5, 6)
    assert due_funds(cache, today) == list(FUNDS)
    local_server.add(IWM_PATH, Reply.text("oops", 500))
    assert not (await update_iwm(local_server, cache))[0]
    # The failure counts: IWM is not due again today, IVV (never tried) still is.
    assert due_funds(cache, today) == [fund_of("IVV")]
    assert due_funds(cache, date(2026, 5, 7)) == list(FUNDS)
    attempt = read_attempts(cache)["IWM"]
    assert (attempt.day, attempt.ok, attempt.last_ok) == (today, False, None)
    assert attempt.line == "iShares IWM: HTTP 500; keeping the universe of 2026-05-05 (shipped)"


def test_an_unreadable_attempts_file_means_every_fund_is_due(tmp_path):
    tmp_path.joinpath(ATTEMPTS_FILE).write_text("{not json")
    assert due_funds(tmp_path, date(2026, 5, 6)) == list(FUNDS)


def test_the_universe_at_start_uses_the_cache_when_good_and_not_older(shipped, tmp_path):
    cache = tmp_path / "cache"
    newer = store_holdings(holdings_csv(date(2026, 5, 6), STOCKS[:9]), IWM, cache, source="x")
    assert newer.ok
    small = load_universe(cache_dir=cache).source("small")
    assert small is not None and (small.origin, small.members) == ("cache", 9)
    # A cached file older than the shipped one (capgap was upgraded since) is passed over.
    write_holdings(cache, parse_holdings(holdings_csv(date(2026, 5, 4)), "IWM", source="x"))
    small = load_universe(cache_dir=cache).source("small")
    assert small is not None and (small.origin, small.as_of) == ("shipped", SHIPPED_AS_OF)
    # An unreadable cached file is passed over too, and the reason is kept.
    (cache / "IWM.csv").write_text("garbage")
    small = load_universe(cache_dir=cache).source("small")
    assert small is not None and small.origin == "shipped"
    assert small.problem is not None and "no readable fund and as_of lines" in small.problem
