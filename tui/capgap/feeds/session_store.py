"""Yahoo's cookie and crumb kept between runs: one private file in capgap's cache directory.

A run that finds a session under a day old uses it instead of opening a new one (two
requests saved); Yahoo's refusal (401/403) replaces it. The file is written atomically with
mode 0600 and its contents are never printed or logged: they are a login of sorts.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

import httpx

from capgap.core.atomic import write_atomic

#: A stored session older than this is not used: Yahoo's cookies last longer, but a day
#: bounds what a leaked or half-revoked session can cost.
MAX_SESSION_AGE = timedelta(days=1)
#: The file's format; a file of another version is ignored (and replaced on the next save).
_VERSION = 1
#: Only the owner may read or write the file (the temp file of the atomic write is 0600 too).
_PRIVATE = 0o600


def session_path() -> Path:
    """Return the file of the stored Yahoo session (platformdirs' user cache, ``session/``)."""
    from platformdirs import user_cache_path

    return user_cache_path("capgap", appauthor=False) / "session" / "yahoo.json"


@dataclass(frozen=True, slots=True)
class StoredSession:
    """A crumb, the cookies it goes with, and when they were obtained."""

    crumb: str
    cookies: tuple[tuple[str, str, str, str], ...]  # (name, value, domain, path)
    saved_at: datetime

    def __repr__(self) -> str:
        """Name what is stored, never the tokens themselves."""
        return f"StoredSession(cookies={len(self.cookies)}, saved_at={self.saved_at.isoformat()})"


class SessionStore:
    """Reads and writes one stored session file; every failure means "no stored session"."""

    def __init__(self, path: Path, max_age: timedelta = MAX_SESSION_AGE) -> None:
        """Keep the session in ``path``; older than ``max_age`` it is not used."""
        self.path = path
        self._max_age = max_age

    def __repr__(self) -> str:
        """Name the file, not what it holds."""
        return f"SessionStore({str(self.path)!r})"

    def load(self, now: datetime) -> StoredSession | None:
        """Return the stored session if it is whole, of this format and younger than a day."""
        try:
            raw = json.loads(self.path.read_bytes())
            stored = _session_of(raw)
        except (OSError, ValueError, TypeError, KeyError, RecursionError):
            # Missing, damaged or foreign: a new session is opened and replaces it.
            return None
        age = now - stored.saved_at
        # A time ahead of the clock (a clock set back) is as unknown an age as a day.
        if age < timedelta(0) or age >= self._max_age:
            return None
        return stored

    def save(self, crumb: str, cookies: httpx.Cookies, now: datetime) -> str | None:
        """Store ``crumb`` with ``cookies`` atomically, mode 0600; None, or why it could not.

        Not storing only costs the next run two requests: the reason is for a debug line,
        and it names the file, never the tokens.
        """
        entries = [
            {"name": c.name, "value": c.value or "", "domain": c.domain, "path": c.path}
            for c in cookies.jar
        ]
        payload = {
            "version": _VERSION,
            "saved_at": now.isoformat(),
            "crumb": crumb,
            "cookies": entries,
        }
        data = json.dumps(payload).encode()

        def write(handle: IO[bytes]) -> None:
            # mkstemp makes the temp file 0600 already; said again so no umask or platform
            # default can widen it before the rename.
            os.chmod(handle.name, _PRIVATE)
            handle.write(data)

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_atomic(self.path, write)
        except OSError as exc:
            return f"cannot store the Yahoo session in {self.path}: {exc.strerror or exc}"
        return None


def restore(stored: StoredSession, cookies: httpx.Cookies) -> None:
    """Put the stored cookies into a client's jar."""
    for name, value, domain, path in stored.cookies:
        cookies.set(name, value, domain=domain, path=path)


def _session_of(raw: Any) -> StoredSession:
    if not isinstance(raw, dict) or raw.get("version") != _VERSION:
        raise ValueError("not a stored session of this version")
    crumb = raw["crumb"]
    saved_at = datetime.fromisoformat(raw["saved_at"])
    if not isinstance(crumb, str) or not crumb or saved_at.tzinfo is None:
        raise ValueError("no crumb or no time zone")
    cookies: list[tuple[str, str, str, str]] = []
    for entry in raw["cookies"]:
        fields = (entry["name"], entry["value"], entry["domain"], entry["path"])
        if not all(isinstance(field, str) for field in fields):
            raise ValueError("a cookie field is not text")
        cookies.append(fields)
    if not cookies:
        # A crumb without its cookie is refused by Yahoo: not worth a request to find out.
        raise ValueError("no cookies")
    return StoredSession(crumb, tuple(cookies), saved_at)
