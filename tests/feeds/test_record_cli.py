"""`capgap record` polls the local server, is stopped by SIGTERM, and its recording replays."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from datetime import UTC
from pathlib import Path

from server import LocalServer, Reply, local_server
from test_live_engine import QUOTE_PATH, config_for, daily_chart, serve_index_quotes
from test_live_fed import EFFR_BODY, EFFR_PATH

from tui.analytics.universe import load_universe, vars_in_order
from tui.clock import ManualClock, SystemClock
from tui.engine import recording_engine
from tui.feeds.recorded import recording_window
from tui.feeds.yahoo import chart_path

__all__ = ["local_server"]


def test_record_then_replay(local_server: LocalServer, tmp_path: Path):
    now = SystemClock().now().astimezone(UTC)
    stamp = int(now.timestamp()) - 30
    serve_index_quotes(local_server, stamp)
    for symbol in vars_in_order(load_universe().benchmarks):
        local_server.add(chart_path(symbol), Reply.json(daily_chart(symbol, [100.0, 101.0], now)))
    local_server.add(EFFR_PATH, Reply.json(EFFR_BODY))
    config = Path(config_for(local_server, tmp_path))
    config.write_text(config.read_text() + "[poll]\nopen_s = 1\nextended_s = 1\nclosed_s = 1\n")
    out = tmp_path / "rec"
    child = subprocess.Popen(
        [sys.executable, "-m", "tui", "record", "--config", str(config), "--out", str(out)],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        # The EFFR is read last in a poll: quotes asked for after it belong to the next poll,
        # so the first one has ended and its EFFR is recorded. (A stop sent while the EFFR is
        # still in flight would, rightly, record no EFFR.)
        while local_server.count(EFFR_PATH) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        quotes_by_then = local_server.count(QUOTE_PATH)
        while local_server.count(QUOTE_PATH) == quotes_by_then and time.monotonic() < deadline:
            time.sleep(0.05)
        child.send_signal(signal.SIGTERM)
        _, err = child.communicate(timeout=20)
    finally:
        if child.poll() is None:  # a failed wait must not leave a recorder polling
            child.kill()
            child.wait()
    assert child.returncode == 0, err
    assert "wrote 2 rows in 1 files" in err  # an unchanged quote is stored once
    first, last = recording_window(out)
    assert first == last  # both quotes carry the one stamp served
    engine = recording_engine(out, ManualClock(last))
    snapshot = asyncio.run(engine.refresh())
    assert snapshot.spread.large.last == 6870.40
    assert snapshot.spread.small.last == 2521.48
    assert snapshot.fed.target_range == (3.75, 4.0)
    assert not snapshot.demo and snapshot.source == "replay"
