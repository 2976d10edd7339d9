"""The settings model: every value the config file can set, with its default."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

from capgap.settings.alert_rules import AlertRule


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
#: FRED's public CSV download (no key), the rates' last resort: another host than its API.
FRED_CSV_BASE_URL = "https://fred.stlouisfed.org"
FINNHUB_BASE_URL = "https://finnhub.io"
#: Where the funds' holdings files are published (the members of both indices).
ISHARES_BASE_URL = "https://www.ishares.com"
#: Environment variables that may carry API keys (they win over the config file).
KEY_ENV = {"fred": "FRED_API_KEY", "finnhub": "FINNHUB_API_KEY"}


#: How capgap speaks HTTP to a provider: httpx itself, or curl_cffi impersonating Chrome's TLS
#: (the optional extra capgap[impersonate]; for a provider that rejects non-browser clients).
Transport = Literal["httpx", "impersonate"]


@dataclass(frozen=True, slots=True)
class ProviderSettings:
    """[feeds.<name>]: where a provider lives (tests and users behind mirrors change it)."""

    base_url: str
    cookie_url: str | None = None
    # A secret: never printed, logged or shown (repr hides it too).
    api_key: str | None = field(default=None, repr=False)
    # Where the key came from: "env" (it wins) or "file"; None without a key.
    api_key_from: Literal["env", "file"] | None = None
    # Only [feeds.yahoo] sets it: the one provider known to check TLS fingerprints.
    transport: Transport = "httpx"
    # FRED alone: where its keyless CSV download lives (the API's host is base_url).
    csv_base_url: str | None = None


@dataclass(frozen=True, slots=True)
class FeedsSettings:
    """[feeds.*]: the providers' endpoints and keys."""

    yahoo: ProviderSettings = ProviderSettings(YAHOO_BASE_URL, YAHOO_COOKIE_URL)
    nyfed: ProviderSettings = ProviderSettings(NYFED_BASE_URL)
    fred: ProviderSettings = ProviderSettings(FRED_BASE_URL, csv_base_url=FRED_CSV_BASE_URL)
    finnhub: ProviderSettings = ProviderSettings(FINNHUB_BASE_URL)
    ishares: ProviderSettings = ProviderSettings(ISHARES_BASE_URL)


#: The providers of [feeds.*], in the order the config documents them.
PROVIDERS = ("yahoo", "nyfed", "fred", "finnhub", "ishares")


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


NotifyMethod = Literal["bell", "osc9", "osc777", "notify-send"]


@dataclass(frozen=True, slots=True)
class NotifySettings:
    """[notify]: how an alert reaches you besides the toast in the pane, and the command hook."""

    # bell: the terminal's bell; osc9 / osc777: a desktop notification through the terminal
    # (wrapped for tmux when $TMUX is set); notify-send: the desktop's own, where installed.
    methods: tuple[NotifyMethod, ...] = ("bell",)
    # Run with `sh -c` for every alert, the alert as one JSON object on standard input.
    command: str | None = None
    timeout_s: float = 5.0


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
    notify: NotifySettings = field(default_factory=NotifySettings)
    # One line each, e.g. a file holding an API key that others can read; capgap goes on.
    warnings: tuple[str, ...] = ()
