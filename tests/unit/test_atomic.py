"""Atomic writes (capgap.core.atomic): a failed write leaves the old file and no temp file."""

from __future__ import annotations

from pathlib import Path
from typing import IO

import pytest
from capgap.core.atomic import write_atomic, write_bytes_atomic


def test_a_write_that_raises_leaves_the_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "state.toml"
    write_bytes_atomic(target, b"old\n")

    def fail(handle: IO[bytes]) -> None:
        handle.write(b"half")
        raise RuntimeError("disk gone")

    with pytest.raises(RuntimeError, match="disk gone"):
        write_atomic(target, fail)
    assert target.read_bytes() == b"old\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["state.toml"]


def test_a_rename_that_fails_leaves_no_temp(tmp_path: Path) -> None:
    # A folder in the file's place: the rename is refused after the temp file was written.
    target = tmp_path / "session.toml"
    target.mkdir()
    (target / "inside").write_text("x")
    with pytest.raises(OSError):
        write_bytes_atomic(target, b"new\n")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["session.toml"]
