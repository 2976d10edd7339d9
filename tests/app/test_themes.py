"""Themes in a running app: capgap's variables resolve under every theme, Textual's included."""

from __future__ import annotations

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
        assert defaults["gap-up"] == own.get("gap-up", generated["success"]), name
        assert defaults["gap-down"] == own.get("gap-down", generated["error"]), name
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
