"""The Textual app: screens on a stack, the engine in one long-lived worker, app-wide keys."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.drivers.linux_driver import LinuxDriver
from textual.reactive import var
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from capgap.alerts.notify import Notifier
from capgap.alerts.watch import Alert, AlertMonitor
from capgap.core import collector
from capgap.core.snapshot import Snapshot
from capgap.engine.startup import DEBUG_ENV
from capgap.settings.model import Settings
from capgap.settings.state import UiState, save_state
from capgap.ui.commands import capgap_commands
from capgap.ui.format import fmt_age
from capgap.ui.glyphs import use_ascii
from capgap.ui.internals.driver import FULL_REPAINT_ENV, DiffingDriver
from capgap.ui.internals.job_control import shell_can_resume
from capgap.ui.internals.lifeline import (
    WATCH_EVERY_S,
    install_exit_signals,
    terminal_alive,
    terminal_fd,
)
from capgap.ui.internals.terminal_out import write_to_terminal
from capgap.ui.messages import DetailsWanted, OpenSector, OpenSymbol, SnapshotReady
from capgap.ui.screens.cycles import CyclesLoader, CyclesScreen
from capgap.ui.screens.dashboard import DashboardScreen
from capgap.ui.screens.fed_detail import FedDetailScreen
from capgap.ui.screens.feeds import FeedsScreen
from capgap.ui.screens.help import HelpScreen, Scope
from capgap.ui.screens.live import LiveScreen
from capgap.ui.screens.rotation import RotationScreen
from capgap.ui.screens.sector import SectorScreen
from capgap.ui.screens.spread import SpreadScreen
from capgap.ui.screens.symbol import SymbolScreen
from capgap.ui.themes import (
    DEFAULT_THEME,
    LoadedThemes,
    load_themes,
    theme_cycle,
    variable_defaults,
)
from capgap.ui.widgets.fed_panel import FedPanel
from capgap.ui.widgets.keyed_table import KeyedTable
from capgap.ui.widgets.spread_panel import SpreadPanel
from capgap.ui.windows import step

if TYPE_CHECKING:
    from textual.driver import Driver
    from textual.types import AnimationLevel

    from capgap.engine.startup import MonitorEngine
    from capgap.ui.host import CapgapHost

ENGINE_WORKER = "engine"
#: The worker running the alerts' processes (notify-send, the command hook), in a queue.
NOTIFY_WORKER = "notify"
#: Seconds after the start at which the collector runs again even with no figures yet.
COLLECTOR_HELD_S = 10.0


class CapgapApp(App[None]):
    """Thin shell: the engine computes, screens render, this routes snapshots and keys."""

    CSS_PATH = "styles/app.tcss"
    TITLE = "capgap"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("question_mark", "help", "Keys", id="help"),
        Binding("e", "feeds", "Feeds", id="feeds", show=False),
        Binding("ctrl+p", "command_palette", "Palette", id="palette", show=False, priority=True),
        Binding("t", "cycle_theme", "Theme", id="theme"),
        Binding("p", "pause", "Pause", id="pause"),
        Binding("r", "refresh", "Refresh", id="refresh", show=False),
        Binding("c", "compact", "Compact", id="compact", show=False),
        Binding("ctrl+l", "redraw", "Redraw", id="redraw", show=False),
        Binding("ctrl+z", "suspend", "Suspend", id="suspend", show=False),
    ]

    #: The time window of the charts ("1m", "3m", "6m", "ytd", "1y"); live screens watch it.
    window = var("1y")

    def __init__(
        self,
        engine: MonitorEngine,
        *,
        theme: str | None = None,
        animation_level: AnimationLevel | None = None,
        settings: Settings | None = None,
        ascii: bool = False,
        state_path: Path | None = None,
        themes: LoadedThemes | None = None,
        cycles: CyclesLoader | None = None,
    ) -> None:
        super().__init__()
        self.engine = engine
        #: Reads the indices' history for the cycles screen (None: this run has none).
        self.cycles = cycles
        self.settings = settings or Settings()
        # Glyphs are module state: every app sets them, so one app's --ascii never leaks.
        use_ascii(ascii)
        self.set_class(ascii, "-ascii")
        loaded = themes or load_themes()
        for bundled in loaded.themes:
            self.register_theme(bundled)
        self._capgap_themes = tuple(t.name for t in loaded.themes)
        self._notes = list(loaded.errors)
        self._choose_theme(theme)
        if animation_level is not None:
            self.animation_level = animation_level
        self._state_path = state_path
        self.latest: Snapshot | None = None
        self.aliases = dict(self.settings.universe.aliases)
        self.alerts = AlertMonitor(self.settings.alerts)
        self.notifier = Notifier(self.settings.notify, self._notify_failed)
        self._focus: tuple[str | None, str | None] | None = None
        #: True once the engine's loop has ended (a replay at its last instant).
        self._engine_done = False
        self.dashboard = DashboardScreen(
            engine.clock, demo=engine.demo, source_label=engine.source_label
        )
        self.dashboard.set_class(self.settings.ui.compact, "-compact")
        #: The unhandled exception that ended the app, if one did (see _handle_exception).
        self.crash: Exception | None = None

    def _choose_theme(self, theme: str | None) -> None:
        if theme is not None and theme not in self.available_themes:
            self._notes.append(f"theme {theme!r} not found; using {DEFAULT_THEME}")
            theme = None
        if theme is None and DEFAULT_THEME in self.available_themes:
            theme = DEFAULT_THEME
        if theme is not None:
            self.theme = theme

    def _handle_exception(self, error: Exception) -> None:
        # Kept for the command line, which names it in its one line on the way out.
        if getattr(self, "crash", None) is None:  # the first one is the cause
            self.crash = error
        super()._handle_exception(error)

    def _fatal_error(self) -> None:
        """End the app after an unhandled exception, without Textual's traceback of locals.

        Textual's shows every frame's local variables, and those may hold API keys or
        account data: capgap prints one line instead (capgap.cli.main), or with CAPGAP_DEBUG set a
        traceback without locals.
        """
        if os.environ.get(DEBUG_ENV):
            import rich
            from rich.segment import Segments
            from rich.traceback import Traceback

            traceback = Traceback(show_locals=False, width=None, suppress=[rich])
            self._exit_renderables.append(
                Segments(self.console.render(traceback, self.console.options))
            )
        self._close_messages_no_wait()

    def get_driver_class(self) -> type[Driver]:
        """Textual's driver, or on Linux and macOS one that writes only the changed cells."""
        driver = super().get_driver_class()
        if driver is LinuxDriver and not os.environ.get(FULL_REPAINT_ENV):
            return DiffingDriver
        return driver

    def on_resize(self, event: events.Resize) -> None:
        """Start the output filter afresh: a resized terminal may have reflowed or cleared."""
        self._forget_screen(event.size.width, event.size.height)

    def _forget_screen(self, width: int, height: int) -> None:
        diff = getattr(self._driver, "screen_diff", None)
        if diff is not None:
            diff.resize(width, height)

    def action_redraw(self) -> None:
        """Repaint the whole screen (after something else wrote over it)."""
        self._forget_screen(self.size.width, self.size.height)
        self.screen.refresh(repaint=True)

    def action_suspend(self) -> None:
        """Stop capgap and give the terminal back to the shell (`fg` resumes it)."""
        if shell_can_resume():
            # On `fg` Textual enters the alternate screen again and posts a Resize; the output
            # filter forgets its picture of the terminal on both, so the first frame is whole.
            self.action_suspend_process()
        else:
            # Stopped with no job-control shell above it, capgap would never be resumed.
            self.notify(
                "no shell to return to here: capgap keeps running",
                title="Ctrl+Z",
                timeout=5,
                markup=False,
            )

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """Give capgap's colour variables defaults from the theme, so every theme works."""
        return variable_defaults(self.current_theme)

    def on_mount(self) -> None:
        """Apply the keymap, show the dashboard and start the engine's loop."""
        if self.settings.keymap:
            self.set_keymap(dict(self.settings.keymap))
        self.push_screen(self.dashboard)
        # Every notification is plain text: theme errors ("[colors] primary"), paths, symbols
        # and error messages carry brackets that Textual's markup would eat.
        for note in self._notes:
            self.notify(note, title="theme", severity="warning", timeout=10, markup=False)
        for warning in self.settings.warnings:
            self.notify(warning, title="config", severity="warning", timeout=10, markup=False)
        self.theme_changed_signal.subscribe(self, lambda theme: self._remember_theme(theme.name))
        self.run_worker(self._run_engine(), name=ENGINE_WORKER, exit_on_error=False)
        # Without figures (a feed down, an engine that failed) the start ends all the same.
        self.set_timer(COLLECTOR_HELD_S, collector.release, name="collector")
        if self.notifier.runs_processes:
            # One long-lived worker runs the alerts' processes one after another (a queue).
            self.run_worker(self.notifier.serve(), name=NOTIFY_WORKER, exit_on_error=False)
        if not self.is_headless:
            self._watch_terminal()

    def _watch_terminal(self) -> None:
        # SIGTERM/SIGHUP and a hung-up TTY end capgap like `q`: terminal restored, recording kept.
        install_exit_signals(self._exit_on_signal)
        fd = terminal_fd()
        if fd is not None:
            self.set_interval(WATCH_EVERY_S, lambda: self._check_terminal(fd), name="tty-watchdog")

    def _exit_on_signal(self, signum: int) -> None:
        self.exit()

    def _check_terminal(self, fd: int) -> None:
        if not terminal_alive(fd):
            self.exit()

    async def on_unmount(self) -> None:
        """Close the engine before the app's loop ends: a recording is flushed to disk."""
        await self.engine.aclose()

    async def _run_engine(self) -> None:
        try:
            await self.engine.run(self._publish)
        finally:
            await self.engine.aclose()

    def _publish(self, snapshot: Snapshot) -> None:
        # SnapshotReady collapses a backlog: a slow repaint never queues stale snapshots.
        self.post_message(SnapshotReady(snapshot))

    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        """Raise due alerts and show the snapshot on the top live screen, in one repaint."""
        snapshot = message.snapshot
        if collector.held() and self.engine.latest is not None:
            # The start is over once the engine's own first figures are drawn (see
            # core/collector); the demo's first figures come before its engine is built.
            self.call_after_refresh(collector.release)
        self.latest = snapshot
        for alert in self.alerts.check(snapshot):
            self.notify(
                alert.message,
                title=alert.title,
                severity=alert.severity,
                timeout=15,
                markup=False,
            )
            self._reach_out(alert, snapshot)
        screen = self.top_live_screen()
        # A snapshot can land while the app is quitting and the screens are being taken down,
        # or just after a push, before the new screen has its widgets (its resume catches up).
        if screen is not None and screen.is_mounted and not self._exit and not screen._closing:
            with self.batch_update():
                screen.apply_snapshot(snapshot)

    def _reach_out(self, alert: Alert, snapshot: Snapshot) -> None:
        # The bell and the OSC notification go out now; the processes (notify-send, the hook)
        # are queued for the notify worker, so a slow or hung hook never holds the screen up.
        if self.notifier.rings:
            self.bell()
        write_to_terminal(self, self.notifier.terminal_text(alert))
        if self.notifier.runs_processes:
            self.notifier.submit(alert, snapshot)

    def _notify_failed(self, line: str) -> None:
        self.notify(line, title="notify", severity="error", timeout=15, markup=False)

    def top_live_screen(self) -> LiveScreen | None:
        """Return the highest screen in the stack that shows snapshots (under any modal)."""
        for screen in reversed(self.screen_stack):
            if isinstance(screen, LiveScreen):
                return screen
        return None

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Handle engine failures and the end of a replay (the one place for both)."""
        if event.worker.name != ENGINE_WORKER:
            return
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            message = f"{type(error).__name__}: {error}" if error else "unknown error"
            self.notify(message, title="engine stopped", severity="error", timeout=10, markup=False)
            self.dashboard.engine_failed(message)
        elif event.state == WorkerState.SUCCESS and self.engine.clock.finished:
            self._engine_done = True
            self.dashboard.replay_ended(self.engine.clock.now())

    # Navigation: every screen is pushed on the stack, so Esc goes back one level.

    def on_details_wanted(self, message: DetailsWanted) -> None:
        """Ask the engine for drilldown details (only when they change: focus polls at once)."""
        sector, symbol = message.sector, message.symbol
        if (sector, symbol) != self._focus:
            self._focus = (sector, symbol)
            self.engine.focus(sector=sector, symbol=symbol)
            if self._engine_done:
                # The replay has ended and its loop with it: build the details from the store.
                self.run_worker(self._rebuild(), name="rebuild", group="rebuild", exclusive=True)

    async def _rebuild(self) -> None:
        self._publish(await self.engine.rebuild())

    def trail(self) -> list[str]:
        """Return the breadcrumb: the crumb of every live screen on the stack."""
        return [screen.crumb for screen in self.screen_stack if isinstance(screen, LiveScreen)]

    def sector_below(self, screen: Screen[None]) -> str | None:
        """Return the sector (or watchlist) screen's target under ``screen``, if any."""
        stack = self.screen_stack
        below = stack[: stack.index(screen)] if screen in stack else stack
        for candidate in reversed(below):
            if isinstance(candidate, SectorScreen):
                return candidate.target
        return None

    def index_name(self, symbol: str) -> str:
        """Return the display name of a benchmark index ("S&P 500")."""
        if self.latest is not None:
            for quote in (self.latest.spread.large, self.latest.spread.small):
                if quote.symbol == symbol:
                    return quote.name
        return self.aliases.get(symbol, symbol)

    def on_open_sector(self, message: OpenSector) -> None:
        """Open a sector's (or watchlist's) constituents."""
        self.push_screen(SectorScreen(message.name, kind=message.kind))

    def on_open_symbol(self, message: OpenSymbol) -> None:
        """Open a symbol's screen."""
        self.push_screen(SymbolScreen(message.symbol))

    def action_open_spread(self) -> None:
        """Open the spread screen (not on top of itself)."""
        if not isinstance(self.screen, SpreadScreen):
            self.push_screen(SpreadScreen())

    def action_fed(self) -> None:
        """Open the Fed screen on the latest Fed figures."""
        if not isinstance(self.screen, FedDetailScreen):
            self.push_screen(FedDetailScreen(self.latest.fed if self.latest else None))

    def action_rotation(self) -> None:
        """Open the rotation map: each sector's small caps against its large caps, weekly."""
        if not isinstance(self.screen, RotationScreen):
            self.push_screen(RotationScreen())

    def action_cycles(self) -> None:
        """Open the cutting cycles; the screen reads the indices' history once, as it opens."""
        if not isinstance(self.screen, CyclesScreen):
            self.push_screen(CyclesScreen(self.cycles))

    def action_feeds(self) -> None:
        """Open the feeds screen: every feed's state and error, the symbols it let down."""
        if not isinstance(self.screen, FeedsScreen):
            self.push_screen(FeedsScreen())

    def action_dashboard(self) -> None:
        """Go back to the dashboard."""
        while len(self.screen_stack) > 2:
            self.pop_screen()

    def action_help(self) -> None:
        """Show every key binding."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.binding_scopes(), self.settings.keymap))

    def binding_scopes(self) -> list[Scope]:
        """Return where each group of bindings applies, for the help screen."""
        return [
            ("everywhere", (CapgapApp,)),
            ("dashboard", (DashboardScreen,)),
            ("spread, Fed panels", (SpreadPanel, FedPanel)),
            ("tables", (KeyedTable,)),
            ("sector", (SectorScreen,)),
            ("symbol, spread", (SymbolScreen, SpreadScreen)),
            ("Fed", (FedDetailScreen,)),
        ]

    # Switches.

    def action_set_window(self, window: str) -> None:
        """Set the time window of the charts (the live screens watch it)."""
        self.window = window

    def action_step_window(self, by: int) -> None:
        """Move to the next (1) or previous (-1) time window."""
        self.action_set_window(step(self.window, by))

    def capgap_theme_names(self) -> tuple[str, ...]:
        """Return the names of capgap's themes (bundled and the user's)."""
        return self._capgap_themes

    def action_cycle_theme(self) -> None:
        """Switch to the next capgap theme and say which it is."""
        name = theme_cycle(self._capgap_themes, self.theme)
        self.action_set_theme(name)
        self.notify(name, title="theme", timeout=2, markup=False)

    def action_set_theme(self, name: str) -> None:
        """Switch theme (remembered for the next start by the theme-changed signal)."""
        self.theme = name

    def _remember_theme(self, name: str) -> None:
        if self._state_path is None:
            return
        error = save_state(self._state_path, UiState(theme=name))
        if error:
            self.notify(error, title="theme not remembered", severity="warning", markup=False)

    def action_pause(self) -> None:
        """Pause or resume polling (and a replay's clock)."""
        if self.engine.paused:
            self.engine.resume()
        else:
            self.engine.pause()
        self.dashboard.set_paused(self.engine.paused)
        screen = self.top_live_screen()
        if screen is not None and self.latest is not None:
            screen.show_time(self.latest)

    def action_refresh(self) -> None:
        """Poll now instead of at the next planned time (once per Retry-After or backoff)."""
        wait_s = self.engine.refresh_now()
        if wait_s is not None:
            # The source asked for a pause, or is failing: one manual try per wait, no storm.
            self.notify(
                f"already tried once in this wait: next try in {fmt_age(math.ceil(wait_s))}",
                title="refresh",
                timeout=5,
                markup=False,
            )

    def action_compact(self) -> None:
        """Switch the dashboard's compact layout on or off."""
        self.dashboard.toggle_class("-compact")

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Offer capgap's commands first, then Textual's own."""
        yield from capgap_commands(self, self.engine, self._capgap_themes)
        yield from super().get_system_commands(screen)


if TYPE_CHECKING:
    # Screens read the app through CapgapHost (they never import it): mypy holds the app to it.
    _HOST: type[CapgapHost] = CapgapApp
