"""The Textual app: pushes the dashboard and runs the engine in one long-lived worker."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.worker import Worker, WorkerState

from tui.analytics.snapshot import Snapshot
from tui.ui.messages import SnapshotReady
from tui.ui.screens.dashboard import DashboardScreen
from tui.ui.themes import DEFAULT_THEME, load_themes

if TYPE_CHECKING:
    from textual.types import AnimationLevel

    from tui.launch import MonitorEngine

ENGINE_WORKER = "engine"


class CapgapApp(App[None]):
    """Thin shell: the engine computes, the dashboard renders, this wires them together."""

    CSS_PATH = "styles/app.tcss"
    TITLE = "capgap"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="quit"),
    ]

    def __init__(
        self,
        engine: MonitorEngine,
        *,
        theme: str | None = None,
        animation_level: AnimationLevel | None = None,
    ) -> None:
        super().__init__()
        self.engine = engine
        loaded = load_themes()
        for bundled in loaded.themes:
            self.register_theme(bundled)
        self._theme_errors = loaded.errors
        if theme is None and DEFAULT_THEME in self.available_themes:
            theme = DEFAULT_THEME
        if theme is not None:
            self.theme = theme
        if animation_level is not None:
            self.animation_level = animation_level
        self.dashboard = DashboardScreen(
            engine.clock, demo=engine.demo, source_label=engine.source_label
        )

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """Up/down colours default to the theme's success/error, so every theme works."""
        colors = self.current_theme.to_color_system().generate()
        return {"gap-up": colors["success"], "gap-down": colors["error"]}

    def on_mount(self) -> None:
        """Show the dashboard and start the engine's loop."""
        self.push_screen(self.dashboard)
        for error in self._theme_errors:
            self.notify(error, title="theme file ignored", severity="warning", timeout=10)
        self.run_worker(self._run_engine(), name=ENGINE_WORKER, exit_on_error=False)

    async def _run_engine(self) -> None:
        try:
            await self.engine.run(self._publish)
        finally:
            await self.engine.aclose()

    def _publish(self, snapshot: Snapshot) -> None:
        # SnapshotReady collapses a backlog: a slow repaint never queues stale snapshots.
        self.dashboard.post_message(SnapshotReady(snapshot))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Handle engine failures and the end of a replay (the one place for both)."""
        if event.worker.name != ENGINE_WORKER:
            return
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            message = f"{type(error).__name__}: {error}" if error else "unknown error"
            self.notify(message, title="engine stopped", severity="error", timeout=10)
            self.dashboard.engine_failed(message)
        elif event.state == WorkerState.SUCCESS and self.engine.clock.finished:
            self.dashboard.replay_ended(self.engine.clock.now())
