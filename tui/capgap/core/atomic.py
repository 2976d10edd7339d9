"""Atomic file writes: a synced temp file renamed in place, or linked to a name nobody holds."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO

#: Temp files of an unfinished write: "." + the target's name + random part + this suffix.
TEMP_SUFFIX = ".tmp"


def fsync_dir(folder: Path) -> None:
    """Make a folder's entries (a rename, a new file) durable; a no-op where unsupported."""
    # Without this the rename itself may not survive a power cut; some platforms refuse it.
    if not hasattr(os, "O_DIRECTORY"):
        return
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _removed_on_failure(tmp: Path) -> Iterator[None]:
    """Remove the temp file ``tmp`` when the block fails; the failure goes on."""
    try:
        yield
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _process_umask() -> int:
    """Return the process's umask (read once, at import, before any thread writes files)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: The mode of a file others read (a recording followed by other users): what open() would
#: give under the process's umask. Temp files are otherwise 0600, for secrets.
SHARED_MODE = 0o666 & ~_process_umask()


def _write_temp(
    folder: Path, name: str, write: Callable[[IO[bytes]], None], mode: int | None = None
) -> Path:
    """Write a synced temp file in ``folder`` (hidden, named after ``name``); return its path.

    ``mode`` is set before the content is written (default: 0600, the temp file's own).
    """
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed before it is returned
        dir=folder, prefix=f".{name}.", suffix=TEMP_SUFFIX, delete=False
    )
    tmp = Path(handle.name)
    with _removed_on_failure(tmp), handle:
        if mode is not None:
            os.fchmod(handle.fileno(), mode)
        write(handle)
        handle.flush()
        os.fsync(handle.fileno())
    return tmp


def write_atomic(
    path: Path, write: Callable[[IO[bytes]], None], *, mode: int | None = None
) -> None:
    """Write ``path`` through a synced temp file in the same folder, then rename it in place.

    Readers see the old file or the complete new one, never a partial one. The old file is
    replaced: for files one writer owns (settings, a recording's session.toml). ``mode``
    defaults to 0600 (SHARED_MODE for files other users read).
    """
    tmp = _write_temp(path.parent, path.name, write, mode)
    with _removed_on_failure(tmp):
        os.replace(tmp, path)
    fsync_dir(path.parent)


def write_bytes_atomic(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` atomically (see write_atomic)."""

    def write(handle: IO[bytes]) -> None:
        handle.write(data)

    write_atomic(path, write, mode=mode)


def check_writable_folder(folder: Path) -> None:
    """Make ``folder`` if it is missing and prove a file can be made in it; OSError if not.

    A probe file is created and removed: permissions alone do not tell (root, read-only
    mounts, full quotas).
    """
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".capgap-probe.", suffix=TEMP_SUFFIX):
        pass


def process_token() -> str:
    """Return a name part no other process (or writer) shares: the pid and a random part."""
    return f"{os.getpid()}{secrets.token_hex(4)}"


def write_new(
    folder: Path,
    names: Iterable[str],
    write: Callable[[IO[bytes]], None],
    unique: str,
    *,
    mode: int | None = None,
) -> Path:
    """Write a new file under the first of ``names`` no file holds yet; return its path.

    The name is claimed by a hard link, which fails when the name exists: two writers into
    one folder (two recorders) never replace each other's files, whatever their timing. On
    a file system without hard links (FAT, some network shares) the file takes the first
    name with ``-unique`` before its suffix instead, which no other writer uses. ``mode`` as
    for write_atomic.
    """
    tmp = _write_temp(folder, "new", write, mode)
    try:
        for name in names:
            target = folder / name
            try:
                os.link(tmp, target)
            except FileExistsError:
                continue
            except OSError:
                # No hard links here: a name of this writer's own, renamed into place.
                stem, dot, suffix = name.partition(".")
                target = folder / f"{stem}-{unique}{dot}{suffix}"
                os.replace(tmp, target)
            break
        else:
            raise FileExistsError(f"no free name for a new file in {folder}")
    finally:
        # After a link the temp name is a second name of the file: only it goes.
        with contextlib.suppress(OSError):
            tmp.unlink()
    fsync_dir(folder)
    return target
