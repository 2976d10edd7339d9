"""The chart windows (1M..1Y): the one table of their ids, labels, keys and names.

Everything that lists the chart windows derives from CHART_WINDOWS: the window maths'
labels (capgap.market.windows), the key bindings (capgap.ui.windows), the keymap's binding
ids (capgap.settings.keys), the command palette and the spread screen's key hint. It lives in
core because the keymap (settings) needs it and settings may import nothing above core.
"""

from __future__ import annotations

from typing import NamedTuple


class ChartWindow(NamedTuple):
    """One time window of the charts."""

    #: The id the analytics and the window maths use ("ytd").
    id: str
    #: The label shown ("YTD").
    label: str
    #: The default key that switches to it (Textual's key name).
    key: str
    #: Its length in words, for the keys' descriptions ("year to date").
    words: str

    @property
    def binding_id(self) -> str:
        """The id of its key binding, the name a [keymap] rebinds it by ("window_ytd")."""
        return f"window_{self.id}"


#: The chart windows in order, shortest first: the order `[` and `]` step through.
CHART_WINDOWS = (
    ChartWindow("1m", "1M", "1", "one month"),
    ChartWindow("3m", "3M", "3", "three months"),
    ChartWindow("6m", "6M", "6", "six months"),
    ChartWindow("ytd", "YTD", "y", "year to date"),
    ChartWindow("1y", "1Y", "Y", "one year"),
)
#: Their ids, in the same order.
CHART_WINDOW_IDS = tuple(window.id for window in CHART_WINDOWS)
