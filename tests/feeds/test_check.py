"""`capgap check` against the local server: one probe per provider, exit code by the default."""

from __future__ import annotations

from pathlib import Path

from capgap.cli.main import main
from capgap.feeds.providers.yahoo import chart_path
from capgap.feeds.providers.yahoo_quote import QUOTE_PATH
from server import LocalServer, Reply, local_server
from test_live_engine import config_for
from test_live_fed import EFFR_BODY, EFFR_PATH, chart
from test_yahoo_quote import answer, item, open_session

__all__ = ["local_server"]


def test_all_providers_work(local_server: LocalServer, tmp_path: Path, capsys):
    for symbol, price in (("^GSPC", 6870.40), ("^RUT", 2521.48)):
        local_server.add(chart_path(symbol), Reply.json(chart(symbol, price)))
    open_session(local_server)
    local_server.add(
        QUOTE_PATH,
        Reply.json(answer(*(item(s) for s in ("^GSPC", "^RUT", "SPY", "IWM")))),
    )
    local_server.add(EFFR_PATH, Reply.json(EFFR_BODY))
    assert main(["check", "--config", config_for(local_server, tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:5] == ["provider", "endpoint", "status", "latency", "symbols"]
    chart_line = next(line for line in lines if "v8 chart" in line)
    quote_line = next(line for line in lines if "v7 quote" in line)
    nyfed = next(line for line in lines if line.startswith("nyfed"))
    assert " ok " in chart_line and chart_line.split()[-1] == "2"
    assert " ok " in quote_line and quote_line.split()[-1] == "4"
    assert " ok " in nyfed
    # No key, no probe: FRED and Finnhub are left out rather than reported failing.
    assert not any(line.startswith(("fred", "finnhub")) for line in lines)
    # One request per probe (plus the quote session's cookie and crumb): a probe, not a poll.
    assert local_server.total == 2 + 3 + 1


def test_the_default_source_failing_exits_1(local_server: LocalServer, tmp_path: Path, capsys):
    local_server.add(chart_path("^GSPC"), Reply.html(200))
    local_server.add(chart_path("^RUT"), Reply.html(200))
    open_session(local_server)
    local_server.add(QUOTE_PATH, Reply.html(200))
    local_server.add(EFFR_PATH, Reply.json(EFFR_BODY))
    assert main(["check", "--config", config_for(local_server, tmp_path)]) == 1
    out = capsys.readouterr().out
    yahoo = [line for line in out.splitlines() if line.startswith("yahoo")]
    assert len(yahoo) == 2 and all("FAIL" in line and "HTML" in line for line in yahoo)
