"""The monitor starts the collector again once its first figures are drawn, or soon anyway."""

from __future__ import annotations

import gc

import pytest
from app_support import ScriptedEngine, wait_for
from capgap.core import collector
from capgap.core.clock import ManualClock
from capgap.ui import app as app_module
from capgap.ui.app import CapgapApp
from test_screen_snapshots import SESSION_11AM, demo_app

pytestmark = pytest.mark.usefixtures("collector_restored")


async def test_the_first_figures_drawn_start_the_collector() -> None:
    app = demo_app("capgap-dark")
    collector.hold()
    async with app.run_test(size=(120, 40)) as pilot:
        assert not gc.isenabled()  # held through the start
        await wait_for(lambda: app.dashboard.latest is not None, pilot)
        await wait_for(gc.isenabled, pilot)
        assert not collector.held()


async def test_with_no_figures_the_collector_starts_all_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(app_module, "COLLECTOR_HELD_S", 0.2)
    engine = ScriptedEngine(ManualClock(SESSION_11AM), fail_with=RuntimeError("feed down"))
    app = CapgapApp(engine, theme="capgap-dark", animation_level="none")  # type: ignore[arg-type]
    collector.hold()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(gc.isenabled, pilot)
        assert app.latest is None and not collector.held()
