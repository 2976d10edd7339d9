"""The monitor starts the collector again once its first figures are drawn, or soon anyway."""

from __future__ import annotations

import gc
import threading
from datetime import timedelta

import pytest
from app_support import ScriptedEngine, wait_for
from capgap.core import collector
from capgap.core.clock import ManualClock
from capgap.core.snapshot import Snapshot
from capgap.engine.loop import Engine
from capgap.engine.sources import demo_engine
from capgap.engine.startup import DeferredEngine
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


class ReadyFigures:
    """First figures from elsewhere, there at once (the demo's second process)."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    async def first(self) -> Snapshot | None:
        return self.snapshot

    def cancel(self) -> None:
        pass


async def test_figures_from_elsewhere_leave_the_collector_held_until_the_engines_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The engine is built after them (polars' import, the sample's files): still the start.
    monkeypatch.setattr(app_module, "COLLECTOR_HELD_S", 60.0)
    clock = ManualClock(SESSION_11AM)
    early = await demo_engine(ManualClock(SESSION_11AM - timedelta(minutes=1))).refresh()
    build = threading.Event()

    def factory() -> Engine:
        build.wait(30)
        return demo_engine(clock)

    engine = DeferredEngine(
        factory, clock=clock, demo=True, source_label="DEMO", first_figures=ReadyFigures(early)
    )
    app = CapgapApp(engine, theme="capgap-dark", animation_level="none")
    collector.hold()
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(lambda: app.dashboard.latest is early, pilot)
            for _ in range(5):
                await pilot.pause()
            assert collector.held() and not gc.isenabled()
            build.set()
            await wait_for(lambda: app.latest is not early and app.latest is not None, pilot)
            await wait_for(gc.isenabled, pilot)
            assert not collector.held()
    finally:
        build.set()
