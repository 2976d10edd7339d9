"""What every capgap widget takes from its composer: Textual's name, id, classes, disabled."""

from __future__ import annotations

from typing import TypedDict


class WidgetOptions(TypedDict, total=False):
    """Textual's Widget keywords; a capgap widget passes them on to Textual unchanged."""

    name: str | None
    id: str | None
    classes: str | None
    disabled: bool
