"""The key bar builds its keys again only when what they show changed.

Textual's Footer rebuilds every key whenever the screen's bindings are updated (a mount, a
focus moving), even into the same keys: three times before the dashboard's first figures,
20-56 ms of the start's CPU each.
"""

from __future__ import annotations

from typing import ClassVar

from capgap.ui.internals.key_bar import KeyBar
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static
from textual.widgets._footer import FooterKey


class _KeysApp(App[None]):
    """Two keys; ``b`` shown while ``show_b`` holds, dimmed while ``dim_b`` does."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "noop", "Alpha"),
        Binding("b", "other", "Beta"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.show_b = True
        self.dim_b = False

    def compose(self) -> ComposeResult:
        yield Static("body")
        yield KeyBar()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "other":
            if not self.show_b:
                return False
            return None if self.dim_b else True
        return True

    def action_noop(self) -> None:
        """Do nothing."""

    def action_other(self) -> None:
        """Do nothing either."""


def _keys(app: App[None]) -> list[FooterKey]:
    return list(app.query_one(KeyBar).query(FooterKey))


def _shown(app: App[None]) -> list[tuple[str, bool]]:
    """Each key shown, and whether it is dimmed (Footer marks a disabled key by a class)."""
    return [(key.key, key.has_class("-disabled")) for key in _keys(app) if key.display]


async def test_an_update_to_the_same_keys_keeps_them() -> None:
    app = _KeysApp()
    async with app.run_test(size=(80, 10)) as pilot:
        await pilot.pause()
        built = _keys(app)
        assert [key.key for key in built if key.key in "ab"] == ["a", "b"]
        # The screen says its bindings changed, but nothing the bar shows did.
        for _ in range(3):
            app.screen.bindings_updated_signal.publish(app.screen)
            await pilot.pause()
        assert [id(key) for key in _keys(app)] == [id(key) for key in built]


async def test_keys_are_built_again_when_one_is_hidden_or_dimmed() -> None:
    app = _KeysApp()
    async with app.run_test(size=(80, 10)) as pilot:
        await pilot.pause()
        assert ("b", False) in _shown(app)
        app.dim_b = True
        app.refresh_bindings()
        await pilot.pause()
        await pilot.pause()
        assert ("b", True) in _shown(app)
        app.show_b = False
        app.refresh_bindings()
        await pilot.pause()
        await pilot.pause()
        assert [key for key, _ in _shown(app) if key in "ab"] == ["a"]
