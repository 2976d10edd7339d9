"""The documented default config file, and the effective settings written back as TOML."""

from __future__ import annotations

import textwrap
import tomllib

from capgap.core.toml import toml_string, toml_value
from capgap.settings.alert_rules import AlertRule, rule_kind
from capgap.settings.config import (
    COLOR_SYSTEMS,
    DIRECTIONS,
    MAX_NOTIFY_TIMEOUT_S,
    NOTIFY_METHODS,
    SECTION_KEYS,
    SECTOR_TAGS,
    SPREAD_METRICS,
)
from capgap.settings.keys import KNOWN_BINDINGS
from capgap.settings.model import KEY_ENV, PROVIDERS, ProviderSettings, Settings

#: What `config --show` prints in place of an API key.
MASK = "***"


def _bundled_theme_names() -> list[str]:
    """Return the names in the bundled theme files (read with tomllib: no textual needed)."""
    from capgap.core.resources import themes_dir

    names = []
    try:
        files = sorted(themes_dir().glob("*.toml"))
    except FileNotFoundError:
        return []
    for path in files:
        try:
            name = tomllib.loads(path.read_text(encoding="utf-8")).get("name")
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        if isinstance(name, str):
            names.append(name)
    return names


def _keymap_lines() -> list[str]:
    width = max(len(binding) for binding in KNOWN_BINDINGS)
    lines = []
    for binding, (keys, description) in KNOWN_BINDINGS.items():
        entry = f"# {binding} = {toml_string(keys)}"
        lines.append(f"{entry:<{width + 30}}# {description}")
    return lines


def default_config_text() -> str:
    """Return the documented default config file: loading it gives the default Settings."""
    defaults = Settings()
    poll, feeds = defaults.poll, defaults.feeds
    themes = ", ".join(_bundled_theme_names()) or "capgap-dark"
    theme_doc = textwrap.fill(
        f"The theme. Bundled: {themes}. Textual's own themes work too, and theme files of "
        "your own go in the themes/ folder of capgap's config directory. The theme at start-up "
        "is the first of: --theme NAME, the last theme chosen with `t` in the app (capgap "
        "remembers it in its state file), this key, capgap-dark.",
        width=96,
        break_on_hyphens=False,
        initial_indent="# ",
        subsequent_indent="# ",
    )
    choices = ", ".join(f'"{name}"' for name in COLOR_SYSTEMS)
    tags = " or ".join(f'"{tag}"' for tag in SECTOR_TAGS)
    metrics = " or ".join(f'"{metric}"' for metric in SPREAD_METRICS)
    directions = ", ".join(f'"{direction}"' for direction in DIRECTIONS)
    notify_methods = ", ".join(f'"{method}"' for method in NOTIFY_METHODS)
    max_timeout = MAX_NOTIFY_TIMEOUT_S
    return f"""\
# capgap configuration (TOML).
#
# capgap reads its settings from --config FILE, else $CAPGAP_CONFIG, else this file in the
# platform's config directory (`capgap config --path` prints which). Every key is optional: the
# values below are the defaults, and the commented-out lines are examples to copy.
# `capgap config --show` prints the settings in effect. A mistake (an unknown key, a wrong type,
# a bad value) stops capgap with one line naming the file, the line and the key.

[ui]
{theme_doc}
# theme = "capgap-light"
#
# Colours: one of {choices} (default: what the terminal reports). The --colors flag
# wins over $TEXTUAL_COLOR_SYSTEM, which wins over this key. NO_COLOR=1 turns colour off.
# colors = "256"
#
# ASCII borders and glyphs, for fonts and terminals without box drawing (--ascii, --no-ascii).
ascii = {toml_value(defaults.ui.ascii)}
# The mouse: false leaves it to the terminal, e.g. for selecting text (--mouse, --no-mouse).
mouse = {toml_value(defaults.ui.mouse)}
# Start in the compact layout (the `c` key switches it).
compact = {toml_value(defaults.ui.compact)}

[poll]
# Seconds between polls of the live source, by market session (1 to 86400).
open_s = {poll.open_s!r}  # the regular session, 09:30-16:00 New York
extended_s = {poll.extended_s!r}  # pre-market and after hours
closed_s = {poll.closed_s!r}  # nights, weekends and holidays

# Where each data provider lives: change base_url only for a mirror or a local test server.
[feeds.yahoo]
base_url = {toml_string(feeds.yahoo.base_url)}
cookie_url = {toml_string(feeds.yahoo.cookie_url or "")}  # where Yahoo's consent cookie is set
# "httpx", or "impersonate": speak to Yahoo as Chrome does (its TLS fingerprint), for when
# Yahoo refuses non-browser clients. Needs curl_cffi: pip install 'capgap[impersonate]'.
transport = {toml_string(feeds.yahoo.transport)}

[feeds.nyfed]
base_url = {toml_string(feeds.nyfed.base_url)}
# cookie_url = "https://..."  # none needed

[feeds.fred]
base_url = {toml_string(feeds.fred.base_url)}
# FRED's public CSV download (no key): the rates when the New York Fed (and the API) fail.
csv_base_url = {toml_string(feeds.fred.csv_base_url or "")}
# cookie_url = "https://..."  # none needed
# A FRED API key (free at fred.stlouisfed.org). ${KEY_ENV["fred"]} wins over this key. A file
# holding a key should be readable by you alone (chmod 600): capgap warns otherwise.
# api_key = "your-fred-key"

[feeds.finnhub]
base_url = {toml_string(feeds.finnhub.base_url)}
# cookie_url = "https://..."  # none needed
# A Finnhub API key, needed by --source finnhub. ${KEY_ENV["finnhub"]} wins over this key.
# api_key = "your-finnhub-key"

[feeds.ishares]
# The funds' holdings files (IVV: the S&P 500, IWM: the Russell 2000), fetched at most once a
# day by the live monitor and by `capgap universe update`: the members of both indices.
base_url = {toml_string(feeds.ishares.base_url)}

[fomc]
# FOMC decisions added to the schedule capgap ships (a later year, an unscheduled meeting).
# A decision with sep = true comes with a Summary of Economic Projections.
# extra_decisions = [{{date = 2028-01-26}}, {{date = 2028-03-15, sep = true}}]

[fedwatch]
# Manual 30-day Fed funds futures (ZQ) prices by contract month, for what-if odds: they take
# the place of the quoted prices of those months.
# prices = {{"2026-01" = 96.37, "2026-03" = 96.50}}

[universe]
# Aliases: the label shown for a symbol, also accepted when searching.
# aliases = {{"^GSPC" = "SPX", "^RUT" = "RUT"}}
#
# Watchlists: named lists of symbols, each opened like a sector (they are quoted too). A name
# may not repeat a sector's name, and a list needs at least one symbol, each once.
# watchlists = {{mega = ["AAPL", "MSFT", "NVDA"], banks = ["JPM", "BAC", "ZION", "WAL"]}}
#
# Custom sectors are added after the GICS sectors, one [[universe.sectors]] table each:
#   name       shown in the sector table; must differ from the GICS sectors' names
#   large      large-cap symbols    small      small-cap symbols
#   large_etf  small_etf            optional ETFs for each side; without one, the side's
#                                   figure is the equal-weighted mean of its symbols
#   tag        {tags} (default "cyclical")
# Each side needs at least one symbol or an ETF.
#
# [[universe.sectors]]
# name = "Regional banks"
# large = ["USB", "PNC", "TFC"]
# small = ["ZION", "WAL", "CFR"]
# large_etf = "KBE"
# small_etf = "KRE"
# tag = "cyclical"

[keymap]
# Rebind a key: binding id = keys (Textual's key names, comma-separated for several keys).
# The ids and their default keys:
{chr(10).join(_keymap_lines())}

# Alerts: one [[alerts]] table per rule. Each raises a notification and rings the terminal bell
# once when its condition starts to hold, not on every tick. The kinds:
#   kind = "spread"     the RUT-SPX spread crosses level; metric = {metrics}
#                       (default "gap_1d", the 1-day gap in pp; "ratio" is RUT/SPX);
#                       direction = {directions} (default "either")
#   kind = "sector"     the sector's small-minus-large spread goes beyond pp (either sign);
#                       sector = a GICS sector or one of yours
#   kind = "fomc"       the next FOMC decision is within minutes
#   kind = "feed_down"  a data feed has been down for minutes
#   kind = "fed_odds"   the next FOMC meeting's cut odds move by pp or more within minutes;
#                       fires again once the move within the last minutes is back under pp
#
# [[alerts]]
# kind = "spread"
# level = -0.5
# metric = "gap_1d"
# direction = "below"
#
# [[alerts]]
# kind = "sector"
# sector = "Industrials"
# pp = 1.5
#
# [[alerts]]
# kind = "fomc"
# minutes = 30
#
# [[alerts]]
# kind = "feed_down"
# minutes = 5
#
# [[alerts]]
# kind = "fed_odds"
# pp = 10
# minutes = 60

[notify]
# How an alert reaches you besides the notification in the pane, a list of
# {notify_methods}:
#   "bell"         the terminal's bell
#   "osc9"         a desktop notification through the terminal (OSC 9: iTerm2, kitty, WezTerm,
#                  Windows Terminal, ghostty); "osc777" is the other dialect (OSC 777: foot,
#                  urxvt, WezTerm, ghostty). Pick one: a terminal that knows both shows two.
#                  Under tmux it is wrapped for passthrough: tmux needs
#                  `set -g allow-passthrough on`.
#   "notify-send"  the desktop's notification (libnotify), where notify-send is installed
# `capgap record` uses "bell", "osc9" and "osc777" only when its standard error is a terminal.
methods = {toml_value(list(defaults.notify.methods))}
#
# A command run with `sh -c` for every alert (by the monitor and by `capgap record`), the alert
# as one JSON object on its standard input: {{"rule": {{"kind": ..., and the rule's keys}},
# "title", "message", "value", "severity", "time" (ISO 8601, UTC), "source"}}. Its output is
# discarded. It is killed after timeout_s seconds (at most {max_timeout:g}); a failure (an
# exit other than 0, the time limit, a command not found) is reported once, until it works
# again, and never stops capgap.
# command = "ntfy publish capgap-alerts"
timeout_s = {toml_value(defaults.notify.timeout_s)}
"""


def _provider_lines(name: str, provider: ProviderSettings) -> list[str]:
    lines = [f"[feeds.{name}]", f"base_url = {toml_string(provider.base_url)}"]
    if provider.cookie_url is not None:
        lines.append(f"cookie_url = {toml_string(provider.cookie_url)}")
    if "transport" in SECTION_KEYS[f"feeds.{name}"]:
        lines.append(f"transport = {toml_string(provider.transport)}")
    if provider.csv_base_url is not None:
        lines.append(f"csv_base_url = {toml_string(provider.csv_base_url)}")
    if name in KEY_ENV:
        if provider.api_key is None:
            lines.append(f"# api_key is not set (${KEY_ENV[name]} or this key)")
        else:
            origin = f"${KEY_ENV[name]}" if provider.api_key_from == "env" else "the config file"
            lines.append(f"api_key = {toml_string(MASK)}  # masked; from {origin}")
    return lines


def _alert_lines(rule: AlertRule) -> list[str]:
    lines = ["[[alerts]]", f"kind = {toml_string(rule_kind(rule))}"]
    for name in type(rule).__slots__:
        lines.append(f"{name} = {toml_value(getattr(rule, name))}")
    return lines


def render_settings(settings: Settings) -> str:
    """Return the effective settings as TOML, API keys masked, the source named at the top."""
    origin = str(settings.source) if settings.source else "defaults (no config file)"
    ui, poll = settings.ui, settings.poll
    lines = [
        f"# capgap settings in effect: {origin}, with API keys from the environment.",
        "",
        "[ui]",
        f"theme = {toml_string(ui.theme)}" if ui.theme else "# theme is not set",
        f"colors = {toml_string(ui.colors)}" if ui.colors else "# colors is not set",
        f"ascii = {toml_value(ui.ascii)}",
        f"mouse = {toml_value(ui.mouse)}",
        f"compact = {toml_value(ui.compact)}",
        "",
        "[poll]",
        f"open_s = {poll.open_s!r}",
        f"extended_s = {poll.extended_s!r}",
        f"closed_s = {poll.closed_s!r}",
    ]
    for name in PROVIDERS:
        lines.append("")
        lines += _provider_lines(name, getattr(settings.feeds, name))
    decisions = [{"date": d.date, "sep": d.sep} for d in settings.fomc.extra_decisions]
    prices = {
        f"{year:04d}-{month:02d}": price
        for (year, month), price in settings.fedwatch.prices.items()
    }
    universe = settings.universe
    lines += [
        "",
        "[fomc]",
        f"extra_decisions = {toml_value(decisions)}",
        "",
        "[fedwatch]",
        f"prices = {toml_value(prices)}",
        "",
        "[universe]",
        f"aliases = {toml_value(dict(universe.aliases))}",
        f"watchlists = {toml_value(dict(universe.watchlists))}",
    ]
    for sector in universe.sectors:
        lines += ["", "[[universe.sectors]]", f"name = {toml_string(sector.name)}"]
        lines += [f"large = {toml_value(sector.large)}", f"small = {toml_value(sector.small)}"]
        for key in ("large_etf", "small_etf"):
            etf = getattr(sector, key)
            lines.append(f"{key} = {toml_string(etf)}" if etf else f"# {key} is not set")
        lines.append(f"tag = {toml_string(sector.tag)}")
    lines += ["", "[keymap]"]
    for binding, (keys, _) in KNOWN_BINDINGS.items():
        if binding in settings.keymap:
            lines.append(f"{binding} = {toml_string(settings.keymap[binding])}")
        else:
            lines.append(f"# {binding} = {toml_string(keys)}  (the default)")
    for rule in settings.alerts:
        lines.append("")
        lines += _alert_lines(rule)
    notify = settings.notify
    lines += [
        "",
        "[notify]",
        f"methods = {toml_value(list(notify.methods))}",
        f"command = {toml_string(notify.command)}" if notify.command else "# command is not set",
        f"timeout_s = {toml_value(notify.timeout_s)}",
    ]
    return "\n".join(lines) + "\n"
