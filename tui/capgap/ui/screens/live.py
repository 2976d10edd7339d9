"""The base of every screen that shows snapshots: Esc goes back, focus follows the stack."""

from __future__ import annotations

from typing import ClassVar, Generic, TypeVar, cast

from textual.binding import Binding, BindingType
from textual.screen import Screen

from capgap.core.snapshot import Snapshot
from capgap.ui import sizes
from capgap.ui.host import CapgapHost
from capgap.ui.internals.watchers import forget_watchers
from capgap.ui.messages import DetailsWanted
from capgap.ui.widgets.breadcrumb import Breadcrumb
from capgap.ui.widgets.too_small import TooSmall

DetailT = TypeVar("DetailT")


class LiveScreen(Screen[None]):
    """A screen the app hands each snapshot to while it is the top live screen.

    A screen under another keeps its widgets (cursor, sort, filter) and catches up with the
    latest snapshot when it is shown again, so hidden screens cost nothing per tick.
    """

    HORIZONTAL_BREAKPOINTS = sizes.HORIZONTAL_BREAKPOINTS
    VERTICAL_BREAKPOINTS = sizes.VERTICAL_BREAKPOINTS

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="back"),
    ]

    #: This screen's step in the breadcrumb.
    crumb = "capgap"

    @property
    def capgap(self) -> CapgapHost:
        """The app's state this screen reads, typed (the app satisfies CapgapHost)."""
        return cast(CapgapHost, self.app)

    def on_mount(self) -> None:
        """Add the too-small notice; follow the app's chart window from now on."""
        self.mount(TooSmall(id="too-small"))
        self.watch(self.app, "window", self.window_changed, init=False)

    def on_unmount(self) -> None:
        """Stop following the chart window, so that the app's watchers do not keep this alive."""
        forget_watchers(self.app, "window", self)

    def focus_target(self) -> tuple[str | None, str | None]:
        """Return the (sector or watchlist, symbol) whose details this screen needs."""
        return (None, None)

    def apply_snapshot(self, snapshot: Snapshot) -> None:
        """Show a snapshot (subclasses render their part of it)."""

    def window_changed(self, window: str) -> None:
        """Redraw what follows the charts' time window (subclasses with charts)."""

    def on_screen_resume(self) -> None:
        """Ask the engine for this screen's details and catch up with the latest snapshot."""
        app = self.capgap
        self.post_message(DetailsWanted(*self.focus_target()))
        for crumb in self.query(Breadcrumb):
            crumb.show_trail(app.trail())
        if app.latest is not None:
            self.apply_snapshot(app.latest)

    def show_time(self, snapshot: Snapshot) -> None:
        """Update the breadcrumb's feeds, time and paused mark."""
        for crumb in self.query(Breadcrumb):
            crumb.show_feeds(snapshot.feeds, snapshot.as_of)
            crumb.show_time(snapshot.as_of, paused=self.capgap.engine.paused)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide Back on the first screen: there is nowhere to go back to."""
        stack = self.app.screen_stack
        return not (action == "back" and self in stack and stack.index(self) <= 1)

    def action_back(self) -> None:
        """Go back one level (the screen below keeps its cursor)."""
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()


class DetailScreen(LiveScreen, Generic[DetailT]):
    """A live screen of one target's details (a sector, a symbol) that the engine sends apart.

    A snapshot carries the details of the target in focus only: this screen shows them when
    they are its own and keeps the last ones it showed otherwise.
    """

    #: The details last shown (None until the engine sent this target's).
    detail: DetailT | None = None

    def detail_in(self, snapshot: Snapshot) -> DetailT | None:
        """Return the snapshot's details when they are this screen's target's (else None)."""
        raise NotImplementedError

    def show_detail(self, detail: DetailT, snapshot: Snapshot) -> None:
        """Render this target's details (the snapshot gives the rest, such as its day)."""

    def apply_snapshot(self, snapshot: Snapshot) -> None:
        """Update the breadcrumb; show the details when the snapshot carries this target's."""
        self.show_time(snapshot)
        detail = self.detail_in(snapshot)
        if detail is not None:
            self.detail = detail
            self.show_detail(detail, snapshot)
