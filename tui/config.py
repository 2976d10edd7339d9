"""Settings from a TOML file, validated: every error names the file, the key and the line.

The file is found in this order: ``--config FILE``, ``$CAPGAP_CONFIG``, then the platform's
config directory (``capgap/config.toml`` under platformdirs' user config dir). A missing
default file means defaults; a missing file that was asked for by name is an error.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from tui.alerts import AlertRule

CONFIG_ENV = "CAPGAP_CONFIG"
_MONTH_KEY = re.compile(r"^(\d{4})-(\d{2})$")


class ConfigError(ValueError):
    """The config is unusable; the message is one line: file:line: key: problem."""


@dataclass(frozen=True, slots=True)
class ExtraDecision:
    """An FOMC decision the user adds: a later year, or an unscheduled meeting."""

    date: date
    sep: bool = False


@dataclass(frozen=True, slots=True)
class FomcSettings:
    """[fomc]: decisions added to the schedule that ships with capgap."""

    extra_decisions: tuple[ExtraDecision, ...] = ()


@dataclass(frozen=True, slots=True)
class FedwatchSettings:
    """[fedwatch]: manual ZQ prices by contract month, for what-if work."""

    prices: Mapping[tuple[int, int], float] = field(default_factory=dict)


YAHOO_BASE_URL = "https://query1.finance.yahoo.com"
YAHOO_COOKIE_URL = "https://fc.yahoo.com"
NYFED_BASE_URL = "https://markets.newyorkfed.org"
FRED_BASE_URL = "https://api.stlouisfed.org"
FINNHUB_BASE_URL = "https://finnhub.io"
#: Environment variables that may carry API keys (they win over the config file).
KEY_ENV = {"fred": "FRED_API_KEY", "finnhub": "FINNHUB_API_KEY"}


@dataclass(frozen=True, slots=True)
class ProviderSettings:
    """[feeds.<name>]: where a provider lives (tests and users behind mirrors change it)."""

    base_url: str
    cookie_url: str | None = None
    # A secret: never printed, logged or shown (repr hides it too).
    api_key: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class FeedsSettings:
    """[feeds.*]: the providers' endpoints and keys."""

    yahoo: ProviderSettings = ProviderSettings(YAHOO_BASE_URL, YAHOO_COOKIE_URL)
    nyfed: ProviderSettings = ProviderSettings(NYFED_BASE_URL)
    fred: ProviderSettings = ProviderSettings(FRED_BASE_URL)
    finnhub: ProviderSettings = ProviderSettings(FINNHUB_BASE_URL)


@dataclass(frozen=True, slots=True)
class PollSettings:
    """[poll]: seconds between polls by market session."""

    # 10 s keeps the default universe (7 quote batches a poll) under Yahoo's ~60 requests/min.
    open_s: float = 10.0
    extended_s: float = 30.0
    closed_s: float = 300.0


@dataclass(frozen=True, slots=True)
class CustomSector:
    """[[universe.sectors]]: a user's sector (ETFs optional; constituents stand in for them)."""

    name: str
    large: tuple[str, ...] = ()
    small: tuple[str, ...] = ()
    large_etf: str | None = None
    small_etf: str | None = None
    tag: str = "cyclical"


@dataclass(frozen=True, slots=True)
class UniverseSettings:
    """[universe]: custom sectors, named watchlists and display aliases of symbols."""

    sectors: tuple[CustomSector, ...] = ()
    watchlists: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # symbol -> the label shown and accepted in search ("^GSPC" -> "SPX").
    aliases: Mapping[str, str] = field(default_factory=dict)


ColorSystem = Literal["16", "256", "truecolor"]


@dataclass(frozen=True, slots=True)
class UiSettings:
    """[ui]: theme, terminal conditions and the demo/refresh defaults."""

    theme: str | None = None
    colors: ColorSystem | None = None
    ascii: bool = False
    mouse: bool = True
    compact: bool = False


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the config file can set; defaults when there is no file."""

    source: Path | None = None
    fomc: FomcSettings = field(default_factory=FomcSettings)
    fedwatch: FedwatchSettings = field(default_factory=FedwatchSettings)
    feeds: FeedsSettings = field(default_factory=FeedsSettings)
    poll: PollSettings = field(default_factory=PollSettings)
    ui: UiSettings = field(default_factory=UiSettings)
    universe: UniverseSettings = field(default_factory=UniverseSettings)
    # binding id -> comma-separated keys, as Textual's App.set_keymap takes them.
    keymap: Mapping[str, str] = field(default_factory=dict)
    alerts: tuple[AlertRule, ...] = ()


def default_config_path() -> Path:
    """Return the platform's config file path (it may not exist)."""
    from platformdirs import user_config_path

    return user_config_path("capgap", appauthor=False) / "config.toml"


def find_config(cli_path: str | None, environ: Mapping[str, str] | None = None) -> Path | None:
    """Return the config file to read: --config, then $CAPGAP_CONFIG, then the default if any."""
    env = os.environ if environ is None else environ
    named = cli_path or env.get(CONFIG_ENV)
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            origin = "--config" if cli_path else f"${CONFIG_ENV}"
            raise ConfigError(f"{path}: config file not found (from {origin})")
        return path
    default = default_config_path()
    return default if default.is_file() else None


class _Reader:
    """Validates one file's tables, naming file, key and line in each error."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()

    def line_of(self, section: str, key: str | None = None) -> int:
        """Return the 1-based line of ``key`` in ``[section]`` (of the header without a key)."""
        current = ""
        header = 0
        for number, raw in enumerate(self.lines, start=1):
            stripped = raw.strip()
            if stripped.startswith("["):
                current = stripped.strip("[]").strip()
                if current == section:
                    header = number
                continue
            if key is not None and current == section:
                name = stripped.split("=", 1)[0].strip().strip('"')
                if name == key:
                    return number
        return header or 1

    def fail(self, section: str, key: str | None, problem: str) -> ConfigError:
        """Return the error for a bad key (or section)."""
        where = f"[{section}] {key}" if key else f"[{section}]"
        return ConfigError(f"{self.path}:{self.line_of(section, key)}: {where}: {problem}")

    def table(
        self,
        raw: Mapping[str, Any],
        name: str,
        allowed: set[str],
        *,
        section: str | None = None,
    ) -> dict[str, Any]:
        """Return ``raw[name]`` as a table whose keys are all known (``section``: its path)."""
        where = section or name
        value = raw.get(name, {})
        if not isinstance(value, dict):
            raise self.fail(where, None, "must be a table")
        for key in value:
            if key not in allowed:
                known = ", ".join(sorted(allowed)) or "none"
                raise self.fail(where, key, f"unknown key (known: {known})")
        return value


def _fomc(reader: _Reader, raw: Mapping[str, Any]) -> FomcSettings:
    table = reader.table(raw, "fomc", {"extra_decisions"})
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
    table = reader.table(raw, "fedwatch", {"prices"})
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
    return value.rstrip("/")


def _provider(
    reader: _Reader,
    feeds: Mapping[str, Any],
    name: str,
    default: ProviderSettings,
    environ: Mapping[str, str],
) -> ProviderSettings:
    section = f"feeds.{name}"
    keys = {"base_url", "cookie_url"} | ({"api_key"} if name in KEY_ENV else set())
    table = reader.table(feeds, name, keys, section=section)
    base = _url(reader, section, "base_url", table["base_url"]) if "base_url" in table else None
    cookie = (
        _url(reader, section, "cookie_url", table["cookie_url"]) if "cookie_url" in table else None
    )
    key = table.get("api_key")
    if key is not None and (not isinstance(key, str) or not key.strip()):
        # Never echo the value: it is meant to be a secret.
        raise reader.fail(section, "api_key", "must be a non-empty string")
    env_key = environ.get(KEY_ENV.get(name, ""), "").strip()
    return ProviderSettings(
        base or default.base_url, cookie or default.cookie_url, env_key or key or None
    )


def _feeds(reader: _Reader, raw: Mapping[str, Any], environ: Mapping[str, str]) -> FeedsSettings:
    feeds = reader.table(raw, "feeds", {"yahoo", "nyfed", "fred", "finnhub"})
    defaults = FeedsSettings()
    return FeedsSettings(
        **{
            name: _provider(reader, feeds, name, getattr(defaults, name), environ)
            for name in ("yahoo", "nyfed", "fred", "finnhub")
        }
    )


def _poll(reader: _Reader, raw: Mapping[str, Any]) -> PollSettings:
    table = reader.table(raw, "poll", {"open_s", "extended_s", "closed_s"})
    values: dict[str, float] = {}
    for key, value in table.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise reader.fail("poll", key, f"{value!r} is not a number of seconds")
        if not math.isfinite(value) or not 1 <= value <= 86_400:
            raise reader.fail("poll", key, f"{value} is outside 1..86400 seconds")
        values[key] = float(value)
    return PollSettings(**values)


_SECTIONS = {"fomc", "fedwatch", "feeds", "poll"}


def load_settings(path: Path | None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate a config file (None: the defaults); API keys may come from ``environ``."""
    env = os.environ if environ is None else environ
    if path is None:
        return Settings(feeds=_feeds(_Reader(Path("<defaults>"), ""), {}, env))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message already ends with "(at line N, column M)".
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    reader = _Reader(path, text)
    for section in raw:
        if section not in _SECTIONS:
            raise ConfigError(
                f"{path}:{reader.line_of(section)}: [{section}]: unknown section "
                f"(known: {', '.join(sorted(_SECTIONS))})"
            )
    return Settings(
        source=path,
        fomc=_fomc(reader, raw),
        fedwatch=_fedwatch(reader, raw),
        feeds=_feeds(reader, raw, env),
        poll=_poll(reader, raw),
    )
