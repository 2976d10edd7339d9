"""Raw sequences to the terminal through Textual's driver (its output thread, in frame order)."""

from __future__ import annotations

from typing import Any

from textual.app import App


def write_to_terminal(app: App[Any], data: str) -> None:
    """Write ``data`` (an escape sequence) to the app's terminal; nothing when headless.

    It goes through the driver as App.bell's BEL does: on the output thread, between frames,
    never in the middle of one.
    """
    driver = app._driver
    if data and not app.is_headless and driver is not None:
        driver.write(data)
