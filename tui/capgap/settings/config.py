"""Loading the settings from a TOML file, validated: every error names the file, key and line.

The file is found in this order: ``--config FILE``, ``$CAPGAP_CONFIG``, then the platform's
config directory (``capgap/config.toml`` under platformdirs' user config dir). A missing
default file means defaults; a missing file that was asked for by name is an error.
"""

from __future__ import annotations

import importlib.util
import math
import os
import re
import stat
import sys
import tomllib
from collections.abc import Collection, Mapping
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any, cast, get_args
from urllib.parse import urlsplit

from capgap.core.resources import package_data
from capgap.settings.alert_rules import (
    AlertRule,
    Direction,
    FedOddsMove,
    FeedDown,
    FomcSoon,
    SectorSpread,
    SpreadCross,
    SpreadMetric,
)
from capgap.settings.keys import KNOWN_BINDINGS, keymap_conflict
from capgap.settings.model import (
    KEY_ENV,
    PROVIDERS,
    ColorSystem,
    CustomSector,
    ExtraDecision,
    FedwatchSettings,
    FeedsSettings,
    FomcSettings,
    NotifyMethod,
    NotifySettings,
    PollSettings,
    ProviderSettings,
    Settings,
    Transport,
    UiSettings,
    UniverseSettings,
)

CONFIG_ENV = "CAPGAP_CONFIG"
_MONTH_KEY = re.compile(r"^(\d{4})-(\d{2})$")


class ConfigError(ValueError):
    """The config is unusable; the message is one line: file:line: key: problem."""


def default_config_path() -> Path:
    """Return the platform's config file path (it may not exist)."""
    from platformdirs import user_config_path

    return user_config_path("capgap", appauthor=False) / "config.toml"


def config_location(cli_path: str | None, environ: Mapping[str, str] | None = None) -> Path:
    """Return the path the config is read from, or would be: --config, $CAPGAP_CONFIG, default."""
    env = os.environ if environ is None else environ
    named = cli_path or env.get(CONFIG_ENV)
    return Path(named).expanduser() if named else default_config_path()


def find_config(cli_path: str | None, environ: Mapping[str, str] | None = None) -> Path | None:
    """Return the config file to read: --config, then $CAPGAP_CONFIG, then the default if any."""
    env = os.environ if environ is None else environ
    named = cli_path or env.get(CONFIG_ENV)
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            origin = "--config" if cli_path else f"${CONFIG_ENV}"
            raise ConfigError(f"{path}: {_not_a_file(path)} (from {origin})")
        return path
    default = default_config_path()
    return default if default.is_file() else None


def _not_a_file(path: Path) -> str:
    """Say what is at a config path that is not a regular file (or that nothing is there)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return "config file not found"
    kinds = (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a pipe"),
        (stat.S_ISSOCK, "a socket"),
    )
    kind = next((name for test, name in kinds if test(mode)), "not a regular file")
    return f"{kind}, not a config file"


_KEY_PART = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')"""
_HEADER = re.compile(
    rf"^\[(?P<array>\[)?\s*(?P<path>{_KEY_PART}(?:\s*\.\s*{_KEY_PART})*)\s*\]\]?\s*(?:#.*)?$"
)
_KEY_LINE = re.compile(rf"^(?P<path>{_KEY_PART}(?:\s*\.\s*{_KEY_PART})*)\s*=")


def _key_path(text: str) -> tuple[str, ...]:
    """Split a TOML dotted key into its parts, unquoted (dots inside quotes stay)."""
    parts: list[str] = []
    current: list[str] = []
    quote = ""
    escaped = False
    raw: list[str] = []  # a basic string's text as written, escapes and all
    for char in text:
        if quote:
            if escaped:
                escaped = False
                raw.append(char)
            elif char == "\\" and quote == '"':
                escaped = True
                raw.append(char)
            elif char == quote:
                if quote == '"':
                    current.append(_unescape("".join(raw)))
                    raw = []
                quote = ""
            elif quote == '"':
                raw.append(char)
            else:
                current.append(char)
        elif char in "\"'":
            quote = char
        elif char == ".":
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return tuple(parts)


def _unescape(written: str) -> str:
    """Return a TOML basic string's value, its escapes decoded, as tomllib reads it."""
    try:
        value = tomllib.loads(f'k = "{written}"')["k"]
    except (tomllib.TOMLDecodeError, ValueError, RecursionError):
        return written
    return value if isinstance(value, str) else written


class _Reader:
    """Validates one file's tables, naming file, key and line in each error."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()

    def line_of(self, section: str, key: str | None = None, index: int | None = None) -> int:
        """Return the 1-based line of ``key`` in ``[section]`` (of the header without a key).

        ``section`` is a dotted path ("universe.watchlists"); ``index`` picks the n-th (from 0)
        ``[[section]]`` of an array of tables. Keys written inline or as dotted keys are found
        too; failing an exact match, the line of the nearest enclosing key or header is given.
        """
        where = tuple(section.split("."))
        target = where + ((key,) if key is not None else ())
        found = self._scan(where, target, index)
        if not found and index is not None:
            # An array of inline tables (``sectors = [{...}]``) has no [[section]] headers.
            found = self._scan(where, target, None)
        return found or 1

    def _scan(self, where: tuple[str, ...], target: tuple[str, ...], index: int | None) -> int:
        header: tuple[str, ...] = ()
        seen: dict[tuple[str, ...], int] = {}
        best, best_len = 0, 0
        for number, raw in enumerate(self.lines, start=1):
            stripped = raw.strip()
            path: tuple[str, ...] | None = None
            if match := _HEADER.match(stripped):
                header = _key_path(match.group("path"))
                if match.group("array"):
                    seen[header] = seen.get(header, 0) + 1
                path = header
            elif match := _KEY_LINE.match(stripped):
                path = header + _key_path(match.group("path"))
            if path is None:
                continue
            if index is not None and (
                header[: len(where)] != where or seen.get(where, 0) != index + 1
            ):
                # Outside the wanted block of the array of tables.
                continue
            if path == target:
                return number
            if len(path) > best_len and target[: len(path)] == path:
                best, best_len = number, len(path)
        return best

    def fail(
        self, section: str, key: str | None, problem: str, index: int | None = None
    ) -> ConfigError:
        """Return the error for a bad key (or section); ``index``: which ``[[section]]``."""
        name = f"[[{section}]]" if index is not None else f"[{section}]"
        where = f"{name} {key}" if key is not None else name
        line = self.line_of(section, key, index)
        return ConfigError(f"{self.path}:{line}: {where}: {problem}")

    def check_keys(
        self,
        value: Mapping[str, Any],
        allowed: Collection[str],
        section: str,
        index: int | None = None,
        what: str = "key",
    ) -> None:
        """Raise the error for the first key of ``value`` not in ``allowed``."""
        for key in value:
            if key not in allowed:
                known = ", ".join(sorted(allowed)) or "none"
                raise self.fail(section, key, f"unknown {what} (known: {known})", index)

    def table(
        self,
        raw: Mapping[str, Any],
        name: str,
        allowed: Collection[str],
        *,
        section: str | None = None,
        what: str = "key",
    ) -> dict[str, Any]:
        """Return ``raw[name]`` as a table whose keys are all known (``section``: its path)."""
        where = section or name
        value = raw.get(name, {})
        if not isinstance(value, dict):
            raise self.fail(where, None, "must be a table")
        self.check_keys(value, allowed, where, what=what)
        return value


def toml_key_line(text: str, keys: tuple[str, ...]) -> int | None:
    """Return the 1-based line of the dotted key ``keys`` in TOML ``text`` (None if not found).

    ``("colors", "primary")`` is found as ``primary =`` under ``[colors]``, as a dotted key or
    inside an inline table (the line of its nearest enclosing key). For theme files, which
    tomllib reads without line numbers.
    """
    return _Reader(Path(), text)._scan((), keys, None) or None


def config_error(path: Path, section: str, key: str | None, problem: str) -> ConfigError:
    """Return the one-line error for ``[section] key`` of ``path``, naming its line.

    For checks made outside this module, such as a theme name once the themes are loaded.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        text = ""
    return _Reader(path, text).fail(section, key, problem)


def _fomc(reader: _Reader, raw: Mapping[str, Any]) -> FomcSettings:
    table = reader.table(raw, "fomc", SECTION_KEYS["fomc"])
    entries = table.get("extra_decisions", [])
    if not isinstance(entries, list):
        raise reader.fail("fomc", "extra_decisions", "must be a list of {date = ..., sep = ...}")
    decisions = []
    for entry in entries:
        if not isinstance(entry, dict) or set(entry) - {"date", "sep"}:
            raise reader.fail(
                "fomc", "extra_decisions", "each entry is {date = YYYY-MM-DD, sep = true|false}"
            )
        day = entry.get("date")
        if not isinstance(day, date) or isinstance(day, datetime):
            raise reader.fail("fomc", "extra_decisions", f"date {day!r} is not a TOML date")
        sep = entry.get("sep", False)
        if not isinstance(sep, bool):
            raise reader.fail("fomc", "extra_decisions", f"sep must be true or false, got {sep!r}")
        decisions.append(ExtraDecision(day, sep))
    return FomcSettings(tuple(decisions))


def _fedwatch(reader: _Reader, raw: Mapping[str, Any]) -> FedwatchSettings:
    table = reader.table(raw, "fedwatch", SECTION_KEYS["fedwatch"])
    prices_raw = table.get("prices", {})
    if not isinstance(prices_raw, dict):
        raise reader.fail("fedwatch", "prices", 'must be a table like {"2026-01" = 96.37}')
    prices: dict[tuple[int, int], float] = {}
    for month, price in prices_raw.items():
        match = _MONTH_KEY.match(month)
        if match is None or not 1 <= int(match.group(2)) <= 12:
            raise reader.fail("fedwatch", "prices", f"{month!r} is not a month (YYYY-MM)")
        if isinstance(price, bool) or not isinstance(price, int | float):
            raise reader.fail("fedwatch", "prices", f"{month}: {price!r} is not a number")
        if not math.isfinite(price) or not 0 < price <= 100:
            raise reader.fail("fedwatch", "prices", f"{month}: {price} is outside (0, 100]")
        prices[(int(match.group(1)), int(match.group(2)))] = float(price)
    return FedwatchSettings(prices)


def _url(reader: _Reader, section: str, key: str, value: Any) -> str:
    if not isinstance(value, str) or not re.match(r"^https?://[^\s/]+", value):
        raise reader.fail(section, key, f"{value!r} is not an http(s) URL")
    problem = url_problem(value, base=key.endswith("base_url"))
    if problem is not None:
        raise reader.fail(section, key, f"{value!r}: {problem}")
    return value.rstrip("/")


#: The ports a URL may name (0 is "any port" to a socket, never a server's).
_PORTS = range(1, 65536)


def url_problem(url: str, *, base: bool) -> str | None:
    """Return why an http(s) ``url`` cannot be fetched (None when it can).

    Checked when the config loads: a port out of range or a broken host otherwise ends in
    an exception at the first request. A ``base`` URL has paths appended, so it takes no
    query or fragment.
    """
    if any(char.isspace() or not char.isprintable() for char in url):
        return "it contains spaces or control characters"
    try:
        parts = urlsplit(url)
    except ValueError:
        return "its host is not valid"
    if not parts.hostname:
        return "it has no host"
    host_port = parts.netloc.rpartition("@")[2]
    port = host_port.rpartition("]")[2] if host_port.startswith("[") else host_port
    port_text = port.partition(":")[2]
    if port_text:
        if not (port_text.isascii() and port_text.isdigit()):
            return "its port is not a number"
        # A long run of digits is out of range without converting it (int() has a limit).
        if len(port_text) > 5 or int(port_text) not in _PORTS:
            shown = port_text if len(port_text) <= 8 else port_text[:8] + "\u2026"
            return f"port {shown} is outside {_PORTS.start}..{_PORTS.stop - 1}"
    if base and ("?" in url or "#" in url):
        return "a base URL takes no query or fragment"
    return None


def _provider(
    reader: _Reader,
    feeds: Mapping[str, Any],
    name: str,
    default: ProviderSettings,
    environ: Mapping[str, str],
) -> ProviderSettings:
    section = f"feeds.{name}"
    table = reader.table(feeds, name, SECTION_KEYS[section], section=section)
    base = _url(reader, section, "base_url", table["base_url"]) if "base_url" in table else None
    cookie = (
        _url(reader, section, "cookie_url", table["cookie_url"]) if "cookie_url" in table else None
    )
    csv = (
        _url(reader, section, "csv_base_url", table["csv_base_url"])
        if "csv_base_url" in table
        else None
    )
    key = table.get("api_key")
    if key is not None and (not isinstance(key, str) or not key.strip()):
        # Never echo the value: it is meant to be a secret.
        raise reader.fail(section, "api_key", "must be a non-empty string")
    env_key = environ.get(KEY_ENV.get(name, ""), "").strip()
    transport = _transport(reader, section, table["transport"]) if "transport" in table else None
    return ProviderSettings(
        base or default.base_url,
        cookie or default.cookie_url,
        env_key or key or None,
        "env" if env_key else "file" if key else None,
        transport or default.transport,
        csv_base_url=csv or default.csv_base_url,
    )


TRANSPORTS: tuple[Transport, ...] = get_args(Transport)
#: What installs the impersonating transport's library (named when it is missing).
IMPERSONATE_INSTALL = "pip install 'capgap[impersonate]'"


def _transport(reader: _Reader, section: str, value: Any) -> Transport:
    """Return a provider's transport; "impersonate" needs curl_cffi installed."""
    if value not in TRANSPORTS:
        choices = ", ".join(f'"{name}"' for name in TRANSPORTS)
        raise reader.fail(section, "transport", f"{value!r} is not one of {choices}")
    # find_spec looks without importing: curl_cffi is slow to import, and only the feed needs it.
    if value == "impersonate" and importlib.util.find_spec("curl_cffi") is None:
        raise reader.fail(
            section, "transport", f'"impersonate" needs curl_cffi: {IMPERSONATE_INSTALL}'
        )
    return cast(Transport, value)


def _feeds(reader: _Reader, raw: Mapping[str, Any], environ: Mapping[str, str]) -> FeedsSettings:
    feeds = reader.table(raw, "feeds", SECTION_KEYS["feeds"])
    defaults = FeedsSettings()
    return FeedsSettings(
        **{
            name: _provider(reader, feeds, name, getattr(defaults, name), environ)
            for name in PROVIDERS
        }
    )


def _poll(reader: _Reader, raw: Mapping[str, Any]) -> PollSettings:
    table = reader.table(raw, "poll", SECTION_KEYS["poll"])
    values: dict[str, float] = {}
    for key, value in table.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise reader.fail("poll", key, f"{value!r} is not a number of seconds")
        if not math.isfinite(value) or not 1 <= value <= 86_400:
            raise reader.fail("poll", key, f"{value} is outside 1..86400 seconds")
        values[key] = float(value)
    return PollSettings(**values)


COLOR_SYSTEMS: tuple[ColorSystem, ...] = get_args(ColorSystem)
SECTOR_TAGS = ("cyclical", "defensive")
SPREAD_METRICS: tuple[SpreadMetric, ...] = get_args(SpreadMetric)
DIRECTIONS: tuple[Direction, ...] = get_args(Direction)

#: The keys each table accepts, by its dotted path: the parser's one list (the default file's
#: test checks it documents every one of them).
SECTION_KEYS: Mapping[str, frozenset[str]] = {
    "fomc": frozenset({"extra_decisions"}),
    "fedwatch": frozenset({"prices"}),
    "feeds": frozenset(PROVIDERS),
    "feeds.yahoo": frozenset({"base_url", "cookie_url", "transport"}),
    "feeds.nyfed": frozenset({"base_url", "cookie_url"}),
    "feeds.fred": frozenset({"base_url", "csv_base_url", "cookie_url", "api_key"}),
    "feeds.finnhub": frozenset({"base_url", "cookie_url", "api_key"}),
    "feeds.ishares": frozenset({"base_url"}),
    "poll": frozenset({"open_s", "extended_s", "closed_s"}),
    "ui": frozenset({"theme", "colors", "ascii", "mouse", "compact"}),
    "universe": frozenset({"sectors", "watchlists", "aliases"}),
    "universe.sectors": frozenset({"name", "large", "small", "large_etf", "small_etf", "tag"}),
    "keymap": frozenset(KNOWN_BINDINGS),
    "notify": frozenset({"methods", "command", "timeout_s"}),
}
#: [[alerts]]: the keys of each kind of rule.
ALERT_KEYS: Mapping[str, frozenset[str]] = {
    "spread": frozenset({"kind", "level", "metric", "direction"}),
    "sector": frozenset({"kind", "sector", "pp"}),
    "fomc": frozenset({"kind", "minutes"}),
    "feed_down": frozenset({"kind", "minutes"}),
    "fed_odds": frozenset({"kind", "pp", "minutes"}),
}
_SECTIONS = {"fomc", "fedwatch", "feeds", "poll", "ui", "universe", "keymap", "alerts", "notify"}
NOTIFY_METHODS: tuple[NotifyMethod, ...] = get_args(NotifyMethod)
#: A hook that needs longer than this is better run in the background by the hook itself.
MAX_NOTIFY_TIMEOUT_S = 300.0


def _bool(reader: _Reader, section: str, key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise reader.fail(section, key, f"must be true or false, got {value!r}")
    return value


def _ui(reader: _Reader, raw: Mapping[str, Any]) -> UiSettings:
    table = reader.table(raw, "ui", SECTION_KEYS["ui"])
    theme = table.get("theme")
    if theme is not None and (not isinstance(theme, str) or not theme.strip()):
        raise reader.fail("ui", "theme", f"must be a theme name, got {theme!r}")
    colors = table.get("colors")
    if isinstance(colors, int) and not isinstance(colors, bool):
        colors = str(colors)  # colors = 256 reads as well as colors = "256"
    if colors is not None and colors not in COLOR_SYSTEMS:
        choices = ", ".join(f'"{name}"' for name in COLOR_SYSTEMS)
        raise reader.fail("ui", "colors", f"{table['colors']!r} is not one of {choices}")
    flags = {
        key: _bool(reader, "ui", key, table[key])
        for key in ("ascii", "mouse", "compact")
        if key in table
    }
    return UiSettings(
        theme=theme.strip() if theme else None, colors=cast(ColorSystem | None, colors), **flags
    )


def _symbol(reader: _Reader, section: str, key: str, value: Any, index: int | None = None) -> str:
    """Return a symbol upper-cased: a non-empty string without spaces."""
    if not isinstance(value, str) or not value or any(char.isspace() for char in value):
        raise reader.fail(section, key, f"{value!r} is not a symbol (text without spaces)", index)
    return value.upper()


def _symbols(
    reader: _Reader, section: str, key: str, value: Any, index: int | None = None
) -> tuple[str, ...]:
    """Return a list of symbols, upper-cased; a symbol twice is an error."""
    if not isinstance(value, list):
        raise reader.fail(section, key, 'must be a list of symbols like ["AAPL", "MSFT"]', index)
    symbols = [_symbol(reader, section, key, item, index) for item in value]
    for position, symbol in enumerate(symbols):
        if symbol in symbols[:position]:
            raise reader.fail(section, key, f"{symbol} is listed twice", index)
    return tuple(symbols)


@cache
def builtin_sector_names() -> tuple[str, ...]:
    """Return the names of the GICS sectors capgap ships (tui/data/sectors.toml)."""
    data = tomllib.loads(package_data("sectors.toml").read_text(encoding="utf-8"))
    return tuple(str(entry["name"]) for entry in data["sector"])


def _custom_sector(reader: _Reader, entry: Any, index: int, taken: dict[str, str]) -> CustomSector:
    section = "universe.sectors"
    if not isinstance(entry, dict):
        raise reader.fail(section, None, "each entry is a table: [[universe.sectors]]", index)
    reader.check_keys(entry, SECTION_KEYS[section], section, index)
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise reader.fail(section, "name", f"must be a sector name, got {name!r}", index)
    name = name.strip()
    if name.casefold() in taken:
        raise reader.fail(section, "name", f"{name!r} is already {taken[name.casefold()]}", index)
    taken[name.casefold()] = "a sector"
    tag = entry.get("tag", "cyclical")
    if tag not in SECTOR_TAGS:
        raise reader.fail(section, "tag", f"{tag!r} is not one of {', '.join(SECTOR_TAGS)}", index)
    large = _symbols(reader, section, "large", entry.get("large", []), index)
    small = _symbols(reader, section, "small", entry.get("small", []), index)
    for symbol in small:
        if symbol in large:
            raise reader.fail(section, "small", f"{symbol} is also in large", index)
    etfs = {
        key: _symbol(reader, section, key, entry[key], index) if key in entry else None
        for key in ("large_etf", "small_etf")
    }
    for side, members in (("large", large), ("small", small)):
        if not members and etfs[f"{side}_etf"] is None:
            raise reader.fail(
                section, side, f"{name!r} needs {side} symbols or a {side}_etf", index
            )
    return CustomSector(name, large, small, etfs["large_etf"], etfs["small_etf"], tag)


def _watchlists(reader: _Reader, value: Any, taken: dict[str, str]) -> dict[str, tuple[str, ...]]:
    section = "universe.watchlists"
    if not isinstance(value, dict):
        raise reader.fail("universe", "watchlists", 'must be a table: name = ["SYMBOL", ...]')
    watchlists: dict[str, tuple[str, ...]] = {}
    for name, symbols in value.items():
        if not name.strip():
            raise reader.fail(section, name, "a watchlist needs a name")
        if name.casefold() in taken:
            raise reader.fail(section, name, f"{name!r} is already {taken[name.casefold()]}")
        taken[name.casefold()] = "a watchlist"
        listed = _symbols(reader, section, name, symbols)
        if not listed:
            raise reader.fail(section, name, "a watchlist needs at least one symbol")
        watchlists[name] = listed
    return watchlists


def _aliases(reader: _Reader, value: Any) -> dict[str, str]:
    section = "universe.aliases"
    if not isinstance(value, dict):
        raise reader.fail("universe", "aliases", 'must be a table: "SYMBOL" = "alias"')
    aliases: dict[str, str] = {}
    owners: dict[str, str] = {}
    for key, alias in value.items():
        symbol = _symbol(reader, section, key, key)
        if symbol in aliases:
            raise reader.fail(section, key, f"{symbol} has an alias already")
        if not isinstance(alias, str) or not alias.strip():
            raise reader.fail(section, key, f"the alias must be non-empty text, got {alias!r}")
        alias = alias.strip()
        owner = owners.get(alias.casefold())
        if owner is not None:
            raise reader.fail(section, key, f"alias {alias!r} is taken by {owner}")
        owners[alias.casefold()] = symbol
        aliases[symbol] = alias
    return aliases


def _universe(reader: _Reader, raw: Mapping[str, Any]) -> UniverseSettings:
    table = reader.table(raw, "universe", SECTION_KEYS["universe"])
    # Sector and watchlist names share one namespace: the drilldown opens either by name.
    taken = {name.casefold(): "a GICS sector" for name in builtin_sector_names()}
    entries = table.get("sectors", [])
    if not isinstance(entries, list):
        raise reader.fail("universe", "sectors", "must be an array of tables: [[universe.sectors]]")
    sectors = tuple(
        _custom_sector(reader, entry, index, taken) for index, entry in enumerate(entries)
    )
    return UniverseSettings(
        sectors=sectors,
        watchlists=_watchlists(reader, table.get("watchlists", {}), taken),
        aliases=_aliases(reader, table.get("aliases", {})),
    )


def _keymap(reader: _Reader, raw: Mapping[str, Any]) -> dict[str, str]:
    table = reader.table(raw, "keymap", SECTION_KEYS["keymap"], what="binding id")
    keymap: dict[str, str] = {}
    for binding, keys in table.items():
        parts = [part.strip() for part in keys.split(",")] if isinstance(keys, str) else []
        if not parts or any(not part or any(c.isspace() for c in part) for part in parts):
            raise reader.fail(
                "keymap", binding, f'{keys!r} is not a list of keys like "j" or "j,down"'
            )
        keymap[binding] = ",".join(parts)
    conflict = keymap_conflict(keymap)
    if conflict is not None:
        key, first, second, where = conflict
        raise reader.fail(
            "keymap", second, f"{key!r} is bound to both {second} and {first} ({where})"
        )
    return keymap


def _number(
    reader: _Reader, key: str, entry: Mapping[str, Any], index: int, *, positive: bool
) -> float:
    if key not in entry:
        raise reader.fail("alerts", None, f"kind = {entry['kind']!r} needs {key}", index)
    value = entry[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise reader.fail("alerts", key, f"{value!r} is not a number", index)
    if positive and value <= 0:
        raise reader.fail("alerts", key, f"must be more than 0, got {value!r}", index)
    return float(value)


def _choice(
    reader: _Reader,
    entry: Mapping[str, Any],
    key: str,
    choices: tuple[str, ...],
    default: str,
    index: int,
) -> str:
    value = entry.get(key, default)
    if value not in choices:
        raise reader.fail("alerts", key, f"{value!r} is not one of {', '.join(choices)}", index)
    return str(value)


def _alert(reader: _Reader, entry: Any, index: int, sectors: Collection[str]) -> AlertRule:
    if not isinstance(entry, dict):
        raise reader.fail("alerts", None, "each alert is a table: [[alerts]]", index)
    kinds = ", ".join(ALERT_KEYS)
    if "kind" not in entry:
        raise reader.fail("alerts", None, f"missing kind (one of: {kinds})", index)
    kind = entry["kind"]
    if not isinstance(kind, str) or kind not in ALERT_KEYS:  # a list is not even hashable
        raise reader.fail("alerts", "kind", f"unknown kind {kind!r} (known: {kinds})", index)
    reader.check_keys(entry, ALERT_KEYS[kind], "alerts", index, what=f"key for kind {kind!r}")
    if kind == "spread":
        metric = cast(
            SpreadMetric, _choice(reader, entry, "metric", SPREAD_METRICS, "gap_1d", index)
        )
        level = _number(reader, "level", entry, index, positive=metric == "ratio")
        direction = cast(
            Direction, _choice(reader, entry, "direction", DIRECTIONS, "either", index)
        )
        return SpreadCross(level, metric, direction)
    if kind == "sector":
        name = entry.get("sector")
        if name is None:
            raise reader.fail("alerts", None, "kind = 'sector' needs sector", index)
        by_fold = {sector.casefold(): sector for sector in sectors}
        if not isinstance(name, str) or name.strip().casefold() not in by_fold:
            raise reader.fail(
                "alerts", "sector", f"{name!r} is not a sector (known: {', '.join(sectors)})", index
            )
        return SectorSpread(
            by_fold[name.strip().casefold()], _number(reader, "pp", entry, index, positive=True)
        )
    if kind == "fed_odds":
        pp = _number(reader, "pp", entry, index, positive=True)
        if pp > 100:
            # Odds are percentages: a move of more than 100 pp could never fire.
            raise reader.fail("alerts", "pp", f"must be at most 100, got {entry['pp']!r}", index)
        return FedOddsMove(pp, _number(reader, "minutes", entry, index, positive=True))
    minutes = _number(reader, "minutes", entry, index, positive=True)
    return FomcSoon(minutes) if kind == "fomc" else FeedDown(minutes)


def _alerts(
    reader: _Reader, raw: Mapping[str, Any], universe: UniverseSettings
) -> tuple[AlertRule, ...]:
    entries = raw.get("alerts", [])
    if not isinstance(entries, list):
        raise reader.fail("alerts", None, "must be an array of tables: [[alerts]]")
    sectors = builtin_sector_names() + tuple(sector.name for sector in universe.sectors)
    return tuple(_alert(reader, entry, index, sectors) for index, entry in enumerate(entries))


def _notify(reader: _Reader, raw: Mapping[str, Any]) -> NotifySettings:
    table = reader.table(raw, "notify", SECTION_KEYS["notify"])
    defaults = NotifySettings()
    methods = table.get("methods", list(defaults.methods))
    choices = ", ".join(f'"{name}"' for name in NOTIFY_METHODS)
    if not isinstance(methods, list):
        raise reader.fail("notify", "methods", f"must be a list of {choices}, got {methods!r}")
    for method in methods:
        if method not in NOTIFY_METHODS:
            raise reader.fail("notify", "methods", f"{method!r} is not one of {choices}")
    command = table.get("command")
    if command is not None and (not isinstance(command, str) or not command.strip()):
        raise reader.fail("notify", "command", f"must be a shell command, got {command!r}")
    timeout = table.get("timeout_s", defaults.timeout_s)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise reader.fail("notify", "timeout_s", f"{timeout!r} is not a number of seconds")
    if not 0 < timeout <= MAX_NOTIFY_TIMEOUT_S:  # NaN fails this too
        raise reader.fail(
            "notify", "timeout_s", f"must be more than 0 and at most {MAX_NOTIFY_TIMEOUT_S:g}"
        )
    return NotifySettings(
        # A method named twice acts once.
        methods=tuple(dict.fromkeys(cast(list[NotifyMethod], methods))),
        command=command,
        timeout_s=float(timeout),
    )


def _permission_warnings(path: Path, raw: Mapping[str, Any]) -> tuple[str, ...]:
    """Warn when a file holding an API key can be read by the group or others (POSIX)."""
    feeds = raw.get("feeds", {})
    holds_key = any(isinstance(table, dict) and "api_key" in table for table in feeds.values())
    if not holds_key or os.name != "posix":
        return ()
    try:
        mode = path.stat().st_mode
    except OSError:
        return ()
    if mode & 0o044:
        return (f"{path} holds an API key and is readable by others (chmod 600 {path})",)
    return ()


def load_settings(path: Path | None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate a config file (None: the defaults); API keys may come from ``environ``."""
    env = os.environ if environ is None else environ
    if path is None:
        return Settings(feeds=_feeds(_Reader(Path("<defaults>"), ""), {}, env))
    try:
        # utf-8-sig: a byte-order mark (Windows editors write one) is read, not an error.
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    raw = _parse(path, text)
    try:
        return _settings(path, text, raw, env)
    except RecursionError:
        # Values nested a few hundred deep pass tomllib but not a repr of them in a message.
        raise ConfigError(f"{path}: not valid TOML: nested too deeply") from None


#: A run of digits longer than Python reads as an int (tomllib then raises ValueError).
_LONG_NUMBER = re.compile(rf"\d{{{sys.get_int_max_str_digits() + 1},}}")


def _parse(path: Path, text: str) -> dict[str, Any]:
    """Parse TOML text; every failure is a ConfigError (line given where it is known)."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message already ends with "(at line N, column M)".
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML: nested too deeply") from None
    except ValueError:
        # Python's limit on the digits of an int (sys.get_int_max_str_digits).
        match = _LONG_NUMBER.search(text)
        line = f":{text.count(chr(10), 0, match.start()) + 1}" if match else ""
        digits = sys.get_int_max_str_digits()
        raise ConfigError(
            f"{path}{line}: not valid TOML: a number of more than {digits} digits"
        ) from None


def _settings(path: Path, text: str, raw: Mapping[str, Any], env: Mapping[str, str]) -> Settings:
    """Validate the parsed tables of ``path`` into Settings."""
    reader = _Reader(path, text)
    known = ", ".join(sorted(_SECTIONS))
    for section, value in raw.items():
        if section in _SECTIONS:
            continue
        if isinstance(value, dict | list):
            raise ConfigError(
                f"{path}:{reader.line_of(section)}: [{section}]: unknown section (known: {known})"
            )
        raise ConfigError(
            f"{path}:{reader.line_of(section)}: {section}: a key outside any section "
            f"(settings go in sections: {known})"
        )
    universe = _universe(reader, raw)
    return Settings(
        source=path,
        fomc=_fomc(reader, raw),
        fedwatch=_fedwatch(reader, raw),
        feeds=_feeds(reader, raw, env),
        poll=_poll(reader, raw),
        ui=_ui(reader, raw),
        universe=universe,
        keymap=_keymap(reader, raw),
        alerts=_alerts(reader, raw, universe),
        notify=_notify(reader, raw),
        warnings=_permission_warnings(path, raw),
    )
