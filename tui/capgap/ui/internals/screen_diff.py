"""Writes only the cells that changed: a terminal-output filter that remembers the screen.

Textual repaints a refreshed region whole: every character of a widget goes to the terminal
again when one figure in it changes, with a full colour sequence per styled run. Over SSH
that is the app's bandwidth. This filter keeps a copy of what the terminal shows (each
cell's text and colours, as written by the frames that went through it) and passes on only
the cells whose text or style differ, with a cursor move where it skips and one colour
sequence per run, the way curses has always done.

It understands the small language Textual's frames speak: absolute cursor moves
(``ESC[y;xH``), colour sequences (``ESC[...m``), printable text, CR and LF. Mode switches
that leave the screen alone (synchronised output, cursor visibility, mouse, paste, keyboard
protocols, queries) pass through, as do OSC sequences (titles, notifications) bare or in tmux's
passthrough. Anything else (erasing, scrolling, the alternate screen,
an unknown escape) passes through as well and makes the filter forget the screen, so the
next frames are written in full: the filter can lose its savings, never the picture.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rich.cells import get_character_cell_size

#: One token of terminal output: CSI, OSC, DCS, another escape, a control byte, or text.
_TOKEN = re.compile(
    r"\x1b\[(?P<csi>[0-?]*[ -/]*[@-~])"
    r"|\x1b\](?P<osc>.*?)(?:\x07|\x1b\\)"
    r"|\x1bP(?P<dcs>.*?)\x1b\\"
    r"|(?P<esc>\x1b.?)"
    r"|(?P<ctl>[\x00-\x1f\x7f])"
    r"|(?P<text>[^\x00-\x1f\x7f\x1b]+)",
    re.S,
)
_CUP = re.compile(r"(\d*);?(\d*)[Hf]")
#: DEC private modes that change what is on screen: the alternate screen buffers.
_SCREEN_MODES = {"47", "1047", "1049"}
#: CSI sequences that change neither the screen nor the cursor: device and mode queries
#: (DSR, DA, DECRQM), the kitty keyboard protocol, the cursor's shape.
_HARMLESS = re.compile(r"[?>=]?[0-9;]*[nc]|[?>=<]?[0-9;]*u|\??[0-9;]*\$p| ?[0-9]* q")
_CONTINUATION = ("", "", 0)  # the right half of a wide character

Cell = tuple[str, str, int]  # text, colour parameters, width


@dataclass
class _Cursor:
    y: int
    x: int


class ScreenDiff:
    """Feed it every string bound for the terminal; it returns what actually has to be sent."""

    def __init__(self, width: int = 0, height: int = 0) -> None:
        self.width = width
        self.height = height
        self._rows: dict[int, list[Cell | None]] = {}
        # Where the frames think the cursor is, and where the terminal's really is (None: unknown).
        self._logical = _Cursor(0, 0)
        self._terminal: _Cursor | None = None
        # Until a frame moves the cursor, it stays wherever the shell left it.
        self._placed = False
        # Colour parameters in force for the frames and on the terminal ("" is the default).
        self._style = ""
        self._terminal_style: str | None = None

    def resize(self, width: int, height: int) -> None:
        """Take a new terminal size: the terminal may have reflowed or cleared, so forget it."""
        self.width, self.height = width, height
        self.forget()

    def forget(self) -> None:
        """Forget the screen, the cursor and the colours: the next frames are written in full."""
        self._rows.clear()
        self._terminal = None
        self._terminal_style = None

    def feed(self, data: str) -> str:
        """Return the part of ``data`` the terminal needs to end up showing what it describes."""
        out: list[str] = []
        for match in _TOKEN.finditer(data):
            kind = match.lastgroup
            if kind == "text":
                self._text(match.group("text"), out)
            elif kind == "csi":
                self._csi(match.group(0), match.group("csi"), out)
            elif kind == "ctl":
                self._control(match.group(0), out)
            elif kind == "osc" or _wrapped_osc(match.group("dcs")):
                # Titles, clipboard, notifications (tmux's passthrough of one, too): nothing
                # on the grid.
                out.append(match.group(0))
            else:
                self._passthrough(match.group(0), out)
        # Leave the terminal in the default colours, and the cursor where the frame put it.
        if self._terminal_style:
            out.append("\x1b[0m")
            self._terminal_style = ""
        self._sync_cursor(out)
        return "".join(out)

    # The tokens.

    def _csi(self, sequence: str, body: str, out: list[str]) -> None:
        final = body[-1]
        if final in "Hf" and (cup := _CUP.fullmatch(body)):
            row, column = cup.group(1), cup.group(2)
            self._logical = _Cursor(int(row or 1) - 1, int(column or 1) - 1)
            self._placed = True
        elif final == "m" and not body[:-1].strip("0123456789;:"):
            self._sgr(body[:-1])
        elif final in "hl" and body.startswith("?"):
            if _SCREEN_MODES & set(body[1:-1].split(";")):
                # Switching screens saves or restores the cursor: leave it where it is, and
                # to the shell after leaving, until a frame moves it again.
                self._passthrough(sequence, out, cursor=False)
                self._placed = False
            else:
                out.append(sequence)
        elif _harmless(body):
            out.append(sequence)
        else:
            self._passthrough(sequence, out)

    def _sgr(self, params: str) -> None:
        # A reset (empty or 0) starts afresh; other parameters add up, colours as one unit.
        parts = params.replace(":", ";").split(";") if params else [""]
        kept = self._style.split(";") if self._style else []
        index = 0
        while index < len(parts):
            part = parts[index]
            if part in ("38", "48", "58"):
                kind = parts[index + 1] if index + 1 < len(parts) else ""
                span = 3 if kind == "5" else 5 if kind == "2" else 1
                kept.extend(parts[index : index + span])
                index += span
                continue
            if part in ("", "0"):
                kept = []
            else:
                kept.append(part)
            index += 1
        self._style = ";".join(kept)

    def _control(self, char: str, out: list[str]) -> None:
        if char == "\r":
            self._logical.x = 0
        elif char == "\n":
            if self.height and self._logical.y >= self.height - 1:
                self._passthrough(char, out)  # a line feed on the last row scrolls
            else:
                self._logical.y += 1
        elif char == "\x07":
            out.append(char)  # the bell
        else:
            self._passthrough(char, out)

    def _passthrough(self, sequence: str, out: list[str], *, cursor: bool = True) -> None:
        # Something this filter does not model: send it as it was, in the frame's own state.
        if cursor:
            self._sync_cursor(out)
        if self._terminal_style != self._style:
            out.append(f"\x1b[0;{self._style}m" if self._style else "\x1b[0m")
        out.append(sequence)
        self.forget()

    def _text(self, text: str, out: list[str]) -> None:
        for cluster in _clusters(text):
            width = get_character_cell_size(cluster[0])
            self._cell(cluster, width, out)

    def _cell(self, text: str, width: int, out: list[str]) -> None:
        y, x = self._logical.y, self._logical.x
        if self.width and x + width > self.width:
            # Past the right margin: Textual never writes there. Best effort, and forget.
            self._passthrough(text, out)
            self._logical.x = x + width
            return
        row = self._rows.setdefault(y, [])
        if len(row) < x + width:
            row.extend([None] * (x + width - len(row)))
        new: Cell = (text, self._style, width)
        unchanged = row[x] == new and (width < 2 or row[x + 1] == _CONTINUATION)
        self._logical.x = x + width
        if unchanged:
            return
        # Writing over half of a wide character blanks its other half on the terminal.
        if row[x] == _CONTINUATION and x > 0:
            row[x - 1] = None
        old = row[x]
        if width < 2 and old is not None and old[2] == 2 and x + 1 < len(row):
            row[x + 1] = None
        covered = row[x + 1] if width == 2 else None
        breaks_next = row[x + 2 : x + 3] == [_CONTINUATION]
        if covered is not None and covered != _CONTINUATION and breaks_next:
            row[x + 2] = None
        if self._terminal is None or (self._terminal.y, self._terminal.x) != (y, x):
            out.append(f"\x1b[{y + 1};{x + 1}H")
        if self._terminal_style != self._style:
            out.append(f"\x1b[0;{self._style}m" if self._style else "\x1b[0m")
            self._terminal_style = self._style
        out.append(text)
        row[x] = new
        if width == 2:
            row[x + 1] = _CONTINUATION
        # At the right margin the terminal's cursor waits to wrap: its position is not x + width.
        at_margin = not self.width or x + width >= self.width
        self._terminal = None if at_margin else _Cursor(y, x + width)

    def _sync_cursor(self, out: list[str]) -> None:
        logical = self._logical
        if not self._placed:
            return
        if self._terminal is None or (self._terminal.y, self._terminal.x) != (logical.y, logical.x):
            out.append(f"\x1b[{logical.y + 1};{logical.x + 1}H")
            self._terminal = _Cursor(logical.y, logical.x)


def _wrapped_osc(dcs: str | None) -> bool:
    """Tell whether a DCS body is tmux's passthrough of a single OSC (a notification)."""
    if dcs is None or not dcs.startswith("tmux;\x1b\x1b]"):
        return False
    inner = _TOKEN.fullmatch(dcs.removeprefix("tmux;").replace("\x1b\x1b", "\x1b"))
    return inner is not None and inner.lastgroup == "osc"


def _harmless(body: str) -> bool:
    """Tell whether a CSI sequence (without ESC[) leaves the screen and the cursor alone."""
    return _HARMLESS.fullmatch(body) is not None


def _clusters(text: str) -> list[str]:
    """Split text into cells: a character with the zero-width ones that follow it."""
    cells: list[str] = []
    for char in text:
        if cells and get_character_cell_size(char) == 0:
            cells[-1] += char
        else:
            cells.append(char)
    return cells
