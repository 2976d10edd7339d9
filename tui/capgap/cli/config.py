"""`capgap config`, and the settings every command reads (the file, FOMC schedule, universe)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from capgap.cli.output import EXIT_OK, say
from capgap.settings.config import ConfigError, config_location, find_config, load_settings
from capgap.settings.model import Settings

if TYPE_CHECKING:
    from capgap.market.fomc import FomcMeeting
    from capgap.market.universe import Universe


def run(args: argparse.Namespace) -> int:
    """Print the default file, the settings in effect, or the path (a bad file is no bar)."""
    from capgap.settings.documented import default_config_text, render_settings

    if args.path:
        print(config_location(getattr(args, "config", None)))
    elif args.default:
        sys.stdout.write(default_config_text())
    else:
        sys.stdout.write(render_settings(load(args)))
    return EXIT_OK


def load(args: argparse.Namespace) -> Settings:
    """Load the settings and print their warnings (one line each) to stderr."""
    settings = load_settings(find_config(getattr(args, "config", None)))
    for warning in settings.warnings:
        say(f"warning: {warning}")
    return settings


def schedule(settings: Settings) -> tuple[FomcMeeting, ...]:
    """Return the FOMC schedule with the user's additions."""
    from capgap.market.fomc import default_schedule, extend_schedule

    extra = [(decision.date, decision.sep) for decision in settings.fomc.extra_decisions]
    return extend_schedule(default_schedule(), extra)


def universe(settings: Settings, *, cached: bool = True, members: bool = True) -> Universe:
    """Return the universe in effect with the config's sectors, watchlists and aliases.

    The members come from the newest good holdings in the cache directory (``cached``), else
    from the universe that ships with capgap; the demo passes ``cached=False``, as its
    sample session covers the shipped members; ``members`` False leaves the funds' members
    out (the tmux line shows none). It loads polars: the monitor calls it inside the engine
    factory, off the first paint.
    """
    from capgap.market.holdings import cache_dir
    from capgap.market.universe import universe_in_effect

    try:
        return universe_in_effect(
            settings.universe, cache_dir() if cached else None, members=members
        )
    except ValueError as exc:
        where = f"{settings.source}: " if settings.source else ""
        raise ConfigError(f"{where}[universe]: {exc}") from None
