"""An alert in the app reaches the terminal (bell, OSC 9 for tmux) and the command hook; a
failing hook is one error notification, the app goes on."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import capgap.ui.app as app_module
import pytest
from app_support import SESSION_11AM, ScriptedEngine, counted, make_snapshot, received, wait_for
from capgap.alerts.notify import osc_sequence
from capgap.core.clock import ManualClock
from capgap.settings.alert_rules import SectorSpread
from capgap.settings.model import NotifySettings, Settings
from capgap.ui.app import CapgapApp

#: Room for a subprocess to start on a loaded machine (each round is 10 ms of the app's time).
HOOK_ROUNDS = 3000


def energy_app(notify: NotifySettings) -> tuple[CapgapApp, ScriptedEngine, float]:
    """An app with one Energy rule just beyond the first snapshot's spread, and its engine."""
    clock = ManualClock(SESSION_11AM)
    engine = ScriptedEngine(clock, make_snapshot(clock.now()))
    energy = next(row for row in engine._first.sectors if row.sector == "Energy")
    assert energy.spread_pp is not None
    level = abs(energy.spread_pp) + 0.10
    settings = Settings(alerts=(SectorSpread(sector="Energy", pp=level),), notify=notify)
    app = CapgapApp(engine, animation_level="none", settings=settings)  # type: ignore[arg-type]
    counted(app)
    return app, engine, level


@pytest.mark.asyncio
async def test_an_alert_rings_writes_osc_for_tmux_and_runs_the_hook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMUX", "/tmp/tmux-1000/default,1,0")
    got = tmp_path / "alert.json"
    app, engine, level = energy_app(
        NotifySettings(methods=("bell", "osc9"), command=f"cat > {got}", timeout_s=30)
    )
    bells: list[bool] = []
    written: list[str] = []
    app.bell = lambda: bells.append(True)  # type: ignore[method-assign]
    monkeypatch.setattr(app_module, "write_to_terminal", lambda _app, data: written.append(data))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: app.latest is not None, pilot)
        assert not bells and not written
        engine.push(make_snapshot(SESSION_11AM, bump=-1.0))
        await wait_for(lambda: received(app) >= 2, pilot)
        await wait_for(
            lambda: got.exists() and got.read_text().endswith("\n"), pilot, rounds=HOOK_ROUNDS
        )
    assert bells == [True]
    alert = json.loads(got.read_text())
    assert alert["rule"] == {"kind": "sector", "sector": "Energy", "pp": level}
    assert alert["title"] == "Energy spread"
    assert abs(alert["value"]) > level
    # The OSC 9 notification, wrapped for tmux, with the same text as the toast.
    assert written == [osc_sequence("osc9", alert["title"], alert["message"], tmux=True)]
    assert written[0].startswith("\x1bPtmux;\x1b\x1b]9;Energy spread: Energy small-large spread")


@pytest.mark.asyncio
async def test_a_failing_hook_is_one_error_notification_and_the_app_goes_on(
    tmp_path: Path,
) -> None:
    runs = tmp_path / "runs"
    command = f"echo run >> {runs}; exit 3"
    app, engine, _ = energy_app(NotifySettings(methods=(), command=command, timeout_s=30))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: app.latest is not None, pilot)

        def failures() -> list[str]:
            return [n.message for n in app._notifications if "notify command" in n.message]

        def taken_in(count: int) -> Callable[[], bool]:
            return lambda: received(app) >= count

        for round_ in range(2):  # two crossings, the hook failing each time
            engine.push(make_snapshot(SESSION_11AM, bump=-1.0))
            await wait_for(taken_in(2 + 2 * round_), pilot)
            await wait_for(failures, pilot, rounds=HOOK_ROUNDS)
            engine.push(make_snapshot(SESSION_11AM))
            await wait_for(taken_in(3 + 2 * round_), pilot)

        # Let the second run end: its failure is not reported again.
        def second_run_over() -> bool:
            ran = runs.exists() and runs.read_text().count("run") == 2
            return ran and app.notifier.idle

        await wait_for(second_run_over, pilot, rounds=HOOK_ROUNDS)
        assert failures() == [
            "the notify command failed: exited 3 (not reported again until it works)"
        ]
        assert app.is_running
