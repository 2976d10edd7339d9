"""What every command shares: the exit codes, the two errors it reports, and the stderr writer."""

from __future__ import annotations

import argparse
import sys

from capgap.core.text import printable as one_line

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """A flag or its value is wrong; the message is printed as one line and capgap exits 2."""


class DataError(Exception):
    """The data needed is not to be had; printed as one line, and capgap exits 1."""


def say(message: str) -> None:
    """Write one line on stderr, ``capgap: message``, non-printable characters escaped.

    Messages quote what the user typed (keys, paths, values) and what providers sent: echoed
    raw, a newline would split the line and an escape sequence would be obeyed by the terminal.
    """
    print(f"capgap: {one_line(message)}", file=sys.stderr)


def output_format(args: argparse.Namespace) -> str:
    """Return the --format asked for, else a table on a terminal and JSON into a pipe."""
    return str(args.format) if args.format else ("table" if sys.stdout.isatty() else "json")
