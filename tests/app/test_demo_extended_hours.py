"""The demo outside the regular session (issue 17, item 4): pre/post prices and index futures.

The expected figures are worked out here straight from the sample's files (the last trade or
bar done by the replay clock's instant, against the previous close or settlement), a second
way beside the replay feed and the analytics that the app and `capgap snapshot` go through.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl
import pytest
from app_support import SNAPSHOT_THEME, wait_for
from capgap.cli.main import main
from capgap.core.clock import ManualClock
from capgap.core.market_types import NEW_YORK
from capgap.core.resources import sample_data_dir
from capgap.engine.sources import demo_engine
from capgap.ui.app import CapgapApp
from capgap.ui.widgets.spread_panel import SpreadPanel
from textual.widgets import Static

SAMPLE = sample_data_dir()
LAST_DAILY = date(2025, 12, 4)
MINUTE = timedelta(minutes=1)


def ny(hour: int, minute: int) -> datetime:
    """An instant of the sample session day (Friday 2025-12-05) by its New York wall time."""
    return datetime(2025, 12, 5, hour, minute, tzinfo=NEW_YORK).astimezone(UTC)


def _daily_close(symbol: str) -> float:
    daily = pl.read_parquet(SAMPLE / "daily.parquet")
    return float(
        daily.filter((pl.col("symbol") == symbol) & (pl.col("date") == LAST_DAILY)).item(0, "close")
    )


def _last_done(symbol: str, now: datetime, since: datetime) -> tuple[float, datetime]:
    """Return the close and end of ``symbol``'s last extended bar from ``since`` done by ``now``."""
    bars = pl.read_parquet(SAMPLE / "extended.parquet").filter(
        (pl.col("symbol") == symbol) & (pl.col("time") >= since) & (pl.col("time") + MINUTE <= now)
    )
    return float(bars.item(-1, "close")), bars.item(-1, "time") + MINUTE


def signed(value: float) -> str:
    """Two decimals with a sign; a figure that rounds to zero is shown unsigned, 0.00."""
    text = f"{value:+.2f}"
    return "0.00" if text in ("+0.00", "-0.00") else text


def expected_extended(now: datetime, session: str) -> dict[str, Any]:
    """spread.extended at ``now``, by hand: each ETF's trade against its last regular price."""
    if session == "pre":
        since = ny(4, 0)
        bases = {etf: _daily_close(etf) for etf in ("SPY", "IWM")}
    else:
        since = ny(16, 0)
        intraday = pl.read_parquet(SAMPLE / "intraday.parquet")
        bases = {
            etf: float(intraday.filter(pl.col("symbol") == etf).sort("time").item(-1, "close"))
            for etf in ("SPY", "IWM")
        }
    trades = {etf: _last_done(etf, now, since) for etf in bases}
    change = {etf: (trades[etf][0] / bases[etf] - 1.0) * 100.0 for etf in bases}
    return {
        "session": session,
        "large": change["SPY"],
        "small": change["IWM"],
        "gap_pp": change["IWM"] - change["SPY"],
        "as_of": min(trades["SPY"][1], trades["IWM"][1]),
    }


def expected_future(symbol: str, now: datetime) -> tuple[float, float]:
    """A future's last price done by ``now`` and its change since the last settlement (%)."""
    last, _ = _last_done(symbol, now, ny(4, 0) - timedelta(hours=10))
    return last, (last / _daily_close(symbol) - 1.0) * 100.0


def _snapshot_json(capsys: pytest.CaptureFixture[str], at: str) -> dict[str, Any]:
    assert main(["snapshot", "--demo", "--at", at, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


@pytest.mark.parametrize(("at", "session"), [("08:00", "pre"), ("17:30", "post")])
def test_the_demo_json_carries_extended_prices_and_futures(
    capsys: pytest.CaptureFixture[str], at: str, session: str
) -> None:
    hour, minute = (int(part) for part in at.split(":"))
    now = ny(hour, minute)
    data = _snapshot_json(capsys, at)
    assert data["demo"] is True and data["market"]["state"] == session
    got = data["spread"]["extended"]
    want = expected_extended(now, session)
    assert got["session"] == session
    for key in ("large", "small", "gap_pp"):
        assert got[key] == pytest.approx(want[key], abs=1e-4), key
    assert datetime.fromisoformat(got["as_of"]) == want["as_of"]
    for leg, symbol in (("large", "ES=F"), ("small", "RTY=F")):
        last, change = expected_future(symbol, now)
        assert data["futures"][leg]["symbol"] == symbol
        assert data["futures"][leg]["last"] == pytest.approx(last)
        assert data["futures"][leg]["change_pct"] == pytest.approx(change, abs=1e-4)


def test_the_demo_json_at_eleven_has_no_extended_gap(capsys: pytest.CaptureFixture[str]) -> None:
    data = _snapshot_json(capsys, "11:00")
    assert data["market"]["state"] == "open"
    assert data["spread"]["extended"] is None
    # The futures are quoted all day (as live); the panel shows them only outside the session.
    last, change = expected_future("ES=F", ny(11, 0))
    assert data["futures"]["large"]["last"] == pytest.approx(last)
    assert data["futures"]["large"]["change_pct"] == pytest.approx(change, abs=1e-4)


async def _panel_and_status(now: datetime) -> tuple[str, str, bool]:
    app = CapgapApp(demo_engine(ManualClock(now)), theme=SNAPSHOT_THEME, animation_level="none")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: app.dashboard.latest is not None, pilot)
        await pilot.pause()
        panel = str(app.dashboard.query_one(SpreadPanel).content)
        status = str(app.screen.query_one("#market-state", Static).content)
        return panel, status, bool(app.dashboard.query_one("#demo-badge").display)


@pytest.mark.parametrize(
    ("hour", "minute", "session", "label"), [(8, 0, "pre", "pre"), (17, 30, "post", "post")]
)
async def test_the_demo_shows_the_extended_line_and_the_futures(
    hour: int, minute: int, session: str, label: str
) -> None:
    now = ny(hour, minute)
    panel, status, demo = await _panel_and_status(now)
    want = expected_extended(now, session)
    as_of = want["as_of"].astimezone(NEW_YORK).strftime("%H:%M")
    # The panel is 46 columns wide at 120: the tighter form, two decimals, the gap in pp.
    line = (
        f"{label} {as_of} ET S&P {signed(want['large'])}% R2K {signed(want['small'])}% "
        f"gap {signed(want['gap_pp'])}pp"
    )
    assert line in panel
    for short, symbol in (("ES", "ES=F"), ("RTY", "RTY=F")):
        last, change = expected_future(symbol, now)
        assert f"{short} {last:,.2f} {signed(change)}%" in panel
    assert status.endswith(f"{label} {as_of} ET prices")
    assert demo  # the DEMO badge


async def test_the_demo_at_eleven_shows_neither() -> None:
    panel, status, demo = await _panel_and_status(ny(11, 0))
    assert " ET S&P " not in panel and "pre " not in panel and "post " not in panel
    assert "fut " not in panel and "ES " not in panel and "RTY " not in panel
    assert not status.endswith("prices")
    assert demo
