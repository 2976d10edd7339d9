"""`capgap check` against the local server: one probe per provider, exit code by the default."""

from __future__ import annotations

from pathlib import Path

from server import LocalServer, Reply, local_server
from test_live_fed import EFFR_BODY, EFFR_PATH, chart

from tui.cli import main
from tui.feeds.yahoo import chart_path

__all__ = ["local_server"]


def config_for(server: LocalServer, tmp_path: Path) -> str:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[feeds.yahoo]\nbase_url = "{server.base_url}"\n'
        f'[feeds.nyfed]\nbase_url = "{server.base_url}"\n'
    )
    return str(path)


def test_all_providers_work(local_server: LocalServer, tmp_path: Path, capsys):
    for symbol, price in (("^GSPC", 6870.40), ("^RUT", 2521.48)):
        local_server.add(chart_path(symbol), Reply.json(chart(symbol, price)))
    local_server.add(EFFR_PATH, Reply.json(EFFR_BODY))
    assert main(["check", "--config", config_for(local_server, tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:5] == ["provider", "endpoint", "status", "latency", "symbols"]
    yahoo = next(line for line in lines if line.startswith("yahoo"))
    nyfed = next(line for line in lines if line.startswith("nyfed"))
    assert " ok " in yahoo and yahoo.split()[-1] == "2"
    assert " ok " in nyfed
    # One request per probe: the check is a probe, not a poll.
    assert local_server.total == 3


def test_the_default_source_failing_exits_1(local_server: LocalServer, tmp_path: Path, capsys):
    local_server.add(chart_path("^GSPC"), Reply.html(200))
    local_server.add(chart_path("^RUT"), Reply.html(200))
    local_server.add(EFFR_PATH, Reply.json(EFFR_BODY))
    assert main(["check", "--config", config_for(local_server, tmp_path)]) == 1
    out = capsys.readouterr().out
    yahoo = next(line for line in out.splitlines() if line.startswith("yahoo"))
    assert "FAIL" in yahoo and "HTML" in yahoo
