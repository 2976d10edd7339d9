"""The output filter that writes only changed cells, checked against a terminal emulator (pyte)."""

from __future__ import annotations

from typing import Any

import pyte
from capgap.ui.internals.screen_diff import ScreenDiff
from hypothesis import given, settings
from hypothesis import strategies as st

WIDTH, HEIGHT = 24, 6
STYLES = (
    "",
    "38;2;216;222;233;48;2;18;26;34",
    "38;2;63;185;80;48;2;18;26;34",
    "1;38;2;248;81;73",
    "38;5;69;48;5;16",
    "7",
)


def terminal(width: int = WIDTH, height: int = HEIGHT) -> tuple[pyte.Screen, pyte.Stream]:
    screen = pyte.Screen(width, height)
    return screen, pyte.Stream(screen)


def picture(screen: pyte.Screen) -> list[list[tuple[Any, ...]]]:
    """Every cell's character and attributes, and the cursor."""
    cells = [
        [
            (c.data, c.fg, c.bg, c.bold, c.reverse, c.italics, c.underscore)
            for c in (screen.buffer[y][x] for x in range(screen.columns))
        ]
        for y in range(screen.lines)
    ]
    return [*cells, [(screen.cursor.y, screen.cursor.x)]]


def line(y: int, x: int, runs: list[tuple[str, str]], width: int = WIDTH) -> str:
    """A frame line the way Textual writes one: move, then set-text-reset per run.

    Like Textual's, it stops at the right margin (a wide character that would straddle it
    becomes a space).
    """
    out = f"\x1b[{y + 1};{x + 1}H"
    room = width - x
    for style, text in runs:
        kept = ""
        for char in text:
            cells = 2 if char == "日" else 1
            if cells > room:
                char, cells = (" ", 1) if room else ("", 0)
            kept += char
            room -= cells
        if kept:
            out += f"\x1b[{style}m{kept}\x1b[0m" if style else kept
    return out


def test_an_unchanged_repaint_sends_only_the_cursor():
    diff = ScreenDiff(WIDTH, HEIGHT)
    frame = line(0, 0, [(STYLES[1], "S&P 500 "), (STYLES[2], "+0.19%")]) + "\x1b[1;1H"
    first = diff.feed(frame)
    assert "S&P 500" in first
    again = diff.feed(frame)
    assert again == ""  # same text, same colours, cursor already there


def test_one_changed_figure_sends_that_figure_only():
    diff = ScreenDiff(WIDTH, HEIGHT)
    diff.feed(line(2, 0, [(STYLES[1], "RUT "), (STYLES[2], "2,531.11")]))
    sent = diff.feed(line(2, 0, [(STYLES[1], "RUT "), (STYLES[2], "2,531.47")]))
    # Only "47" differs: a move to row 3 column 11, its colours, the two characters, a reset.
    assert sent == f"\x1b[3;11H\x1b[0;{STYLES[2]}m47\x1b[0m"


def test_erasing_makes_the_filter_forget_and_write_in_full():
    diff = ScreenDiff(WIDTH, HEIGHT)
    frame = line(1, 0, [(STYLES[1], "Energy")])
    diff.feed(frame)
    assert "\x1b[2J" in diff.feed("\x1b[2J")
    assert "Energy" in diff.feed(frame)


def test_a_resize_forgets_the_screen():
    diff = ScreenDiff(WIDTH, HEIGHT)
    frame = line(0, 0, [(STYLES[1], "capgap")])
    diff.feed(frame)
    diff.resize(WIDTH + 10, HEIGHT)
    assert "capgap" in diff.feed(frame)


def test_real_stream_pieces_pass_through():
    diff = ScreenDiff(WIDTH, HEIGHT)
    for harmless in ("\x1b[?2026h", "\x1b[?25l", "\x1b[?1000h", "\x1b[>1u", "\x1b[<u", "\x07"):
        assert harmless in diff.feed(harmless)


CHARS = st.sampled_from(list("abc XYZ0123.,+-%│─╭▲▼▇日"))
RUN = st.tuples(st.sampled_from(STYLES), st.text(CHARS, min_size=1, max_size=8))


@st.composite
def frames(draw: st.DrawFn) -> list[str]:
    """Frames in the language Textual speaks, with the odd erase and mode switch."""
    result = []
    for _ in range(draw(st.integers(1, 8))):
        parts = []
        for _ in range(draw(st.integers(1, 5))):
            kind = draw(st.sampled_from(["line", "line", "line", "lines", "erase", "mode"]))
            y = draw(st.integers(0, HEIGHT - 1))
            x = draw(st.integers(0, WIDTH - 1))
            runs = draw(st.lists(RUN, min_size=1, max_size=4))
            if kind == "line":
                parts.append(line(y, x, runs))
            elif kind == "lines" and y < HEIGHT - 1:
                parts.append(line(y, x, runs) + "\r\n" + line(y + 1, 0, runs)[len("\x1b[1;1H") :])
            elif kind == "erase":
                # After a cursor move: a terminal waiting to wrap at the margin erases
                # differently from one emulator to the next (Textual never does it).
                erase = draw(st.sampled_from(["\x1b[2J", "\x1b[K", "\x1b[J"]))
                parts.append(f"\x1b[{y + 1};{x + 1}H{erase}")
            else:
                parts.append(draw(st.sampled_from(["\x1b[?2026h", "\x1b[?2026l", "\x1b[?25l"])))
        parts.append(f"\x1b[{draw(st.integers(1, HEIGHT))};{draw(st.integers(1, WIDTH))}H")
        result.append("".join(parts))
    return result


@settings(max_examples=300, deadline=None)
@given(frames())
def test_the_terminal_shows_the_same_picture_with_and_without_the_filter(sequence):
    plain_screen, plain = terminal()
    diffed_screen, diffed = terminal()
    diff = ScreenDiff(WIDTH, HEIGHT)
    for frame in sequence:
        plain.feed(frame)
        diffed.feed(diff.feed(frame))
        assert picture(diffed_screen) == picture(plain_screen)


def test_the_shells_cursor_is_left_alone_until_a_frame_moves_it():
    # Entering the alternate screen saves the cursor: moving it first would lose the
    # shell's line, and the exit would put the prompt at the top of the screen.
    diff = ScreenDiff(WIDTH, HEIGHT)
    assert diff.feed("\x1b[?1049h").endswith("\x1b[?1049h")
    assert diff.feed("\x1b[?25l") == "\x1b[?25l"
    frame = diff.feed(line(3, 4, [(STYLES[1], "DEMO")]))
    assert frame.startswith("\x1b[4;5H")
    # Leaving restores the shell's cursor; nothing may move it afterwards.
    assert diff.feed("\x1b[?1049l").endswith("\x1b[?1049l")
    assert diff.feed("\x1b[?25h") == "\x1b[?25h"
