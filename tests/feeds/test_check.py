"""`capgap check` against the local server: one probe per provider, exit code by the default."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs

from capgap.cli.main import main
from capgap.feeds.providers.fred_csv import CSV_PATH
from capgap.feeds.providers.yahoo import chart_path
from capgap.feeds.providers.yahoo_quote import QUOTE_PATH
from capgap.feeds.session_store import session_path
from server import LocalServer, Reply, local_server
from test_live_engine import config_for
from test_live_fed import EFFR_BODY, EFFR_PATH, chart
from test_yahoo_consent import consent_host, play_flow
from test_yahoo_quote import COOKIE_PATH, answer, item, open_session

__all__ = ["consent_host", "local_server"]

DFF_CSV = "observation_date,DFF\n2025-12-04,3.89\n2025-12-05,.\n"


def serve_yahoo_and_the_new_york_fed(local_server: LocalServer) -> None:
    """Answer the index charts, a session, the quote batch and the EFFR as a working day."""
    for symbol, price in (("^GSPC", 6870.40), ("^RUT", 2521.48)):
        local_server.add(chart_path(symbol), Reply.json(chart(symbol, price)))
    open_session(local_server)
    local_server.add(
        QUOTE_PATH,
        Reply.json(answer(*(item(s) for s in ("^GSPC", "^RUT", "SPY", "IWM")))),
    )
    local_server.add(EFFR_PATH, Reply.json(EFFR_BODY))


def test_all_providers_work(local_server: LocalServer, tmp_path: Path, capsys):
    serve_yahoo_and_the_new_york_fed(local_server)
    local_server.add(CSV_PATH, Reply.text(DFF_CSV, content_type="text/csv"))
    assert main(["check", "--config", config_for(local_server, tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:5] == ["provider", "endpoint", "status", "latency", "symbols"]
    chart_line = next(line for line in lines if "v8 chart" in line)
    quote_line = next(line for line in lines if "v7 quote" in line)
    nyfed = next(line for line in lines if line.startswith("nyfed"))
    cookie_line = next(line for line in lines if line.split()[:2] == ["yahoo", "cookie"])
    # No consent flow here: the cookie row says ok and nothing more.
    assert cookie_line.split()[2] == "ok" and cookie_line.endswith(" 0")
    assert " ok " in chart_line and chart_line.split()[-1] == "2"
    assert " ok " in quote_line and quote_line.split()[-1] == "4"
    assert " ok " in nyfed
    # FRED's keyless CSV is probed with one series, as the rates' last resort.
    fred_csv = next(line for line in lines if line.startswith("fred"))
    assert fred_csv.split()[:3] == ["fred", "CSV", "ok"] and fred_csv.split()[-1] == "1"
    assert [parse_qs(seen.query)["id"] for seen in local_server.seen if seen.path == CSV_PATH] == [
        ["DFF"]
    ]
    # No key, no probe: FRED's API and Finnhub are left out rather than reported failing.
    assert not any(line.startswith(("finnhub", "fred     series")) for line in lines)
    # One request per probe (plus the quote session's cookie and crumb): a probe, not a poll.
    assert local_server.total == 2 + 3 + 1 + 1


def test_the_default_source_failing_exits_1(local_server: LocalServer, tmp_path: Path, capsys):
    local_server.add(chart_path("^GSPC"), Reply.html(200))
    local_server.add(chart_path("^RUT"), Reply.html(200))
    open_session(local_server)
    local_server.add(QUOTE_PATH, Reply.html(200))
    local_server.add(EFFR_PATH, Reply.json(EFFR_BODY))
    assert main(["check", "--config", config_for(local_server, tmp_path)]) == 1
    out = capsys.readouterr().out
    yahoo = [line for line in out.splitlines() if line.startswith("yahoo")]
    # The session opened (its row says ok); the chart and the quote sent HTML.
    assert [line.split()[1] for line in yahoo] == ["cookie", "v8", "v7"]
    assert yahoo[0].split()[2] == "ok"
    assert all("FAIL" in line and "HTML" in line for line in yahoo[1:])


def test_the_cookie_row_says_when_the_eu_consent_was_given(
    local_server: LocalServer, consent_host: tuple[LocalServer, str], tmp_path: Path, capsys
):
    consent, consent_url = consent_host
    for symbol, price in (("^GSPC", 6870.40), ("^RUT", 2521.48)):
        local_server.add(chart_path(symbol), Reply.json(chart(symbol, price)))
    play_flow(local_server, consent, consent_url)
    local_server.replace(
        QUOTE_PATH, Reply.json(answer(*(item(s) for s in ("^GSPC", "^RUT", "SPY", "IWM"))))
    )
    local_server.add(EFFR_PATH, Reply.json(EFFR_BODY))
    assert main(["check", "--config", config_for(local_server, tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    cookie_line = next(line for line in lines if line.split()[:2] == ["yahoo", "cookie"])
    assert cookie_line.split()[2] == "ok"
    assert cookie_line.endswith(" 0  (EU consent given)")
    # The flow ran once, for the cookie row and the quote probe together.
    assert consent.count("/copyConsent") == 1


def test_a_failing_fred_csv_is_a_fail_line_but_not_a_failed_check(
    local_server: LocalServer, tmp_path: Path, capsys
):
    serve_yahoo_and_the_new_york_fed(local_server)
    local_server.add(CSV_PATH, Reply.html(200))
    # The default source (Yahoo) works: the exit code is its, the CSV's failure is shown.
    assert main(["check", "--config", config_for(local_server, tmp_path)]) == 0
    fred_csv = next(
        line for line in capsys.readouterr().out.splitlines() if line.startswith("fred")
    )
    assert "FAIL" in fred_csv and "FRED CSV sent an HTML page" in fred_csv


def test_the_cookie_row_says_when_the_session_cannot_be_stored(
    local_server: LocalServer, tmp_path: Path, capsys
):
    serve_yahoo_and_the_new_york_fed(local_server)
    local_server.add(CSV_PATH, Reply.text(DFF_CSV, content_type="text/csv"))
    # A folder where the session's file goes: refused whoever runs the test.
    session_path().mkdir(parents=True)
    assert main(["check", "--config", config_for(local_server, tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    cookie_line = next(line for line in lines if line.split()[:2] == ["yahoo", "cookie"])
    # The cookie works (ok, exit 0); the row says the next run will need a new one.
    assert cookie_line.split()[2] == "ok"
    said = f"cannot store the Yahoo session in {session_path()}: Is a directory"
    assert cookie_line.endswith(f" 0  ({said})")
    assert local_server.count(COOKIE_PATH) == 1


def test_check_opens_its_own_session_and_stores_it(
    local_server: LocalServer, tmp_path: Path, capsys
):
    serve_yahoo_and_the_new_york_fed(local_server)
    local_server.add(CSV_PATH, Reply.text(DFF_CSV, content_type="text/csv"))
    config = config_for(local_server, tmp_path)
    assert main(["check", "--config", config]) == 0
    # The session it opened is stored for the next run; a second check opens its own again
    # (it checks the cookie endpoint, not the file).
    assert json.loads(session_path().read_text())["crumb"] == "haT3oykhHqZ"
    assert main(["check", "--config", config]) == 0
    assert local_server.count(COOKIE_PATH) == 2
