"""Themes in a running app: capgap's variables resolve under every theme, Textual's included."""

from __future__ import annotations

import re

import pytest
from app_support import SESSION_11AM, wait_for
from capgap.core.resources import themes_dir
from capgap.ui.themes import CAPGAP_VARIABLES, DEFAULT_THEME, load_themes, variable_defaults
from textual.app import App, ComposeResult
from textual.color import Color
from textual.widgets import Static

BUNDLED = load_themes([themes_dir()])


def test_bundled_themes_load_and_include_the_default():
    assert BUNDLED.errors == ()
    assert BUNDLED.names[0] == DEFAULT_THEME
    default = BUNDLED.themes[0]
    assert default.variables["gap-up"] != default.variables["gap-down"]


class ThemedApp(App[None]):
    """The smallest app that uses every capgap variable in TCSS, as the real one does."""

    CSS = "\n".join(
        f"#{name} {{ color: ${name}; background: $panel; }}" for name in CAPGAP_VARIABLES
    )

    def __init__(self) -> None:
        super().__init__()
        for theme in BUNDLED.themes:
            self.register_theme(theme)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return variable_defaults(self.current_theme)

    def compose(self) -> ComposeResult:
        for name in CAPGAP_VARIABLES:
            yield Static(name, id=name)


def wcag(first: str, second: str) -> float:
    """Return the WCAG 2 contrast ratio of two colours, written out from the standard."""

    def luminance(color: str) -> float:
        channels = [value / 255 for value in Color.parse(color).rgb]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_variable_defaults_cover_every_textual_and_capgap_theme():
    themes = ThemedApp().available_themes
    assert {"textual-dark", "ansi-dark", "nord", *BUNDLED.names} <= set(themes)
    for name, theme in themes.items():
        defaults = variable_defaults(theme)
        assert set(CAPGAP_VARIABLES) <= set(defaults), name
        parsed = {key: Color.parse(defaults[key]) for key in CAPGAP_VARIABLES}
        generated = theme.to_color_system().generate()
        own = theme.variables
        # Up/down follow the theme's own values, else its success/error; the Fed's bars
        # follow up/down; a theme's own value is never overridden.
        # ... made readable on the theme's backgrounds where they are not (see the test below).
        for key, base in (("gap-up", "success"), ("gap-down", "error"), ("gap-warn", "warning")):
            if key in own:
                assert defaults[key] == own[key], name
            elif not theme.ansi:
                grounds = [generated[ground] for ground in ("background", "surface", "panel")]
                worst = min(wcag(defaults[key], ground) for ground in grounds)
                assert defaults[key] == generated[base] or worst >= 4.5, (name, key, worst)
        assert defaults["gap-cut"] == own.get("gap-cut", defaults["gap-down"]), name
        assert defaults["gap-hike"] == own.get("gap-hike", defaults["gap-up"]), name
        assert all(defaults[key] == value for key, value in own.items() if key in defaults)
        if not theme.ansi and "gap-stale" not in own:
            # Stale sits between the foreground and the background, nearer the foreground.
            fore, back = Color.parse(generated["foreground"]), Color.parse(generated["background"])
            for a, b, c in zip(fore.rgb, parsed["gap-stale"].rgb, back.rgb, strict=True):
                assert min(a, c) <= b <= max(a, c), name
                assert abs(b - a) <= abs(c - b) + 1, name
        elif theme.ansi and "gap-stale" not in own:
            assert parsed["gap-stale"].ansi is not None, name


async def test_every_theme_applies_and_colours_the_widgets_by_its_variables():
    app = ThemedApp()
    async with app.run_test(size=(40, 10)) as pilot:
        for name in sorted(app.available_themes):
            app.theme = name
            await pilot.pause()
            for variable in CAPGAP_VARIABLES:
                expected = Color.parse(app.theme_variables[variable])
                shown = app.query_one(f"#{variable}", Static).styles.color
                assert shown == expected, f"{name}: {variable}"
            # Toasts use Textual's ansi-* variables, which ANSI themes must still define.
            app.notify(name, timeout=1)
            await pilot.pause()
            assert app.theme == name


async def test_ansi_theme_keeps_terminal_colours_for_up_and_down():
    app = ThemedApp()
    async with app.run_test(size=(40, 10)) as pilot:
        app.theme = "capgap-ansi"
        await pilot.pause()
        up = app.query_one("#gap-up", Static).styles.color
        down = app.query_one("#gap-down", Static).styles.color
        # ANSI 2 and 1: the terminal's own green and red, not an RGB approximation.
        assert (up.ansi, down.ansi) == (2, 1)
        assert app.theme_variables["ansi-background"] == "ansi_black"


async def test_notifications_show_brackets_as_written():
    """Theme errors, config warnings and engine errors carry [colors], paths and data: no markup."""
    from app_support import ScriptedEngine
    from capgap.core.clock import ManualClock
    from capgap.settings.model import Settings
    from capgap.ui.app import CapgapApp
    from capgap.ui.themes import LoadedThemes

    theme_error = "/home/me/.config/capgap/themes/mine.toml:3: [colors] primary = 'blu' is bad"
    warning = "/tmp/[variables]/config.toml holds an API key and is readable by others"
    themes = LoadedThemes(BUNDLED.themes, (theme_error,))
    engine = ScriptedEngine(
        ManualClock(SESSION_11AM), fail_with=RuntimeError("[variables] gap-up and [b]AAPL[/b]")
    )
    app = CapgapApp(
        engine,  # type: ignore[arg-type]
        animation_level="none",
        settings=Settings(warnings=(warning,)),
        themes=themes,
    )
    # run_test leaves toasts out unless asked: the test reads what the toasts render.
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        from textual.widgets._toast import Toast

        await wait_for(lambda: len(app.screen.query(Toast)) >= 3, pilot)
        shown = [toast.render().plain for toast in app.screen.query(Toast)]
    assert any(theme_error in text for text in shown), shown
    assert any(warning in text for text in shown), shown
    assert any("RuntimeError: [variables] gap-up and [b]AAPL[/b]" in text for text in shown)


#: Themes whose success/error/warning were unreadable on their own backgrounds (the audit
#: measured 2.8:1 for down on textual-dark's rows, 1.5:1 for up and 1.3:1 for the DEMO badge
#: on textual-light), and two of capgap's own that already were readable.
CONTRAST_THEMES = (
    "textual-dark",
    "textual-light",
    "solarized-light",
    "capgap-dark",
    "capgap-light",
)
#: A figure that carries a direction: a signed change with its arrow, or a mover's change.
DIRECTED = re.compile(r"[▲▼][+-]\d|[+-]\d+\.\d")


@pytest.mark.parametrize("theme", CONTRAST_THEMES)
async def test_figures_and_badges_are_readable_in_every_theme(theme: str) -> None:
    from capgap.ui.widgets.sectors_table import SectorsTable
    from test_layout import settled
    from test_screen_snapshots import SCREENS, demo_app

    app = demo_app(theme)
    async with app.run_test(size=(120, 40)) as pilot:
        await SCREENS["dashboard"](app, pilot)
        await settled(app, pilot)
        strips = app.screen._compositor.render_strips()
        table = app.screen.query_one(SectorsTable)
        # The cursor row is drawn in the theme's cursor colours, not on its backgrounds.
        cursor_y = table.region.y + 2 + table.cursor_row - round(table.scroll_y)
    checked = {"figure": 0, "DEMO": 0}
    low = []
    for row, strip in enumerate(strips):
        for segment in strip:
            style = segment.style
            text = segment.text.strip()
            if style is None or style.color is None or style.bgcolor is None:
                continue
            fore, back = style.color.triplet, style.bgcolor.triplet
            if fore is None or back is None:
                continue
            if row == cursor_y:
                continue
            # The badge (in reverse video), not the muted source label that also says DEMO.
            badge = text == "DEMO" and style.reverse
            kind = "DEMO" if badge else "figure" if DIRECTED.match(text) else None
            if kind is None:
                continue
            checked[kind] += 1
            ratio = wcag(fore.hex, back.hex)
            if ratio < 4.5:
                low.append((row, text, round(ratio, 2)))
    # Figures on the panels and every zebra row, and the DEMO badge, were all looked at.
    assert checked["figure"] > 40 and checked["DEMO"] >= 1, checked
    assert low == []
