"""Quiet updates: a widget changes only when what it shows changes.

Textual repaints a refreshed widget's whole area and writes it all to the terminal, whether
or not a character changed; over SSH that is the bandwidth of the app. Setting the same text
or border title again would still cost a repaint, so these helpers compare first.
"""

from __future__ import annotations

from textual.content import Content
from textual.reactive import Reactive
from textual.visual import VisualType
from textual.widget import Widget
from textual.widgets import Static


class Plain(Static):
    """A Static that never looks for links in what it shows.

    Textual styles clickable links on every render of every widget, one new segment per
    segment, unless ``auto_links`` is off. capgap shows no links, and its clocks and figures
    render every second.
    """

    auto_links = Reactive(False)


def show(static: Static, content: VisualType, *, layout: bool = True) -> bool:
    """Update ``static`` unless it already shows ``content``; return whether it changed."""
    current = static.content
    if isinstance(content, Content) and isinstance(current, Content):
        if content.is_same(current):
            return False
    elif isinstance(content, str) and current == content:
        return False
    static.update(content, layout=layout)
    return True


def set_title(widget: Widget, title: str | None) -> None:
    """Set the border title unless it is already ``title`` (plain text)."""
    if widget.border_title != title:
        widget.border_title = title


def set_subtitle(widget: Widget, subtitle: str | None) -> None:
    """Set the border subtitle unless it is already ``subtitle`` (plain text)."""
    if widget.border_subtitle != subtitle:
        widget.border_subtitle = subtitle
