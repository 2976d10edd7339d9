"""--source finnhub: indices through ETF proxies, rates from the NY Fed, a key required."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from capgap.cli.main import main
from capgap.core.clock import SystemClock
from capgap.feeds import live
from capgap.feeds.providers.finnhub import QUOTE_PATH
from server import LocalServer, Reply, local_server
from test_live_fed import EFFR_BODY, EFFR_PATH

__all__ = ["local_server"]


def test_finnhub_snapshot_quotes_indices_through_proxies(
    local_server: LocalServer, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
):
    # The pacing (about one request a second) has tests of its own; here it would only make
    # the ~30 proxies' requests take half a minute.
    monkeypatch.setattr(live, "FINNHUB_BURST", 100)
    stamp = int(SystemClock().now().timestamp()) - 30
    # One answer for every symbol asked: enough to follow a price through the proxy.
    local_server.add(
        QUOTE_PATH,
        Reply.json({"c": 685.0, "d": 1.0, "dp": 0.146, "h": 686.0, "l": 683.0, "o": 684.5,
                    "pc": 684.0, "t": stamp}),
    )  # fmt: skip
    local_server.add(EFFR_PATH, Reply.json(EFFR_BODY))
    config = tmp_path / "config.toml"
    config.write_text(
        f'[feeds.finnhub]\nbase_url = "{local_server.base_url}"\napi_key = "test-key"\n'
        f'[feeds.nyfed]\nbase_url = "{local_server.base_url}"\n'
    )
    code = main(["snapshot", "--source", "finnhub", "--config", str(config), "--format", "json"])
    snap = json.loads(capsys.readouterr().out)
    assert code == 0
    assert snap["source"] == "finnhub"
    assert snap["spread"]["large"]["last"] == 685.0  # ^GSPC through SPY
    assert snap["fed"]["target_range"] == [3.75, 4.0]
    asked = {seen.query for seen in local_server.seen if seen.path == QUOTE_PATH}
    assert not any("symbol=%5EGSPC" in query for query in asked)  # never the index itself
    assert any("symbol=SPY" in query for query in asked)
    assert all("token=test-key" in query for query in asked)


def test_finnhub_without_a_key_is_refused_in_one_line(tmp_path: Path):
    result = subprocess.run(
        [sys.executable, "-m", "capgap", "snapshot", "--source", "finnhub"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "CAPGAP_CONFIG": "", "HOME": str(tmp_path)},
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "capgap: error: --source finnhub needs an API key: "
        "[feeds.finnhub] api_key or FINNHUB_API_KEY"
    ]
