"""`python -m capgap.sample`: the generator's command needs numpy, an extra of its own."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import polars as pl

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
NEEDS_NUMPY = "capgap: the sample generator needs numpy: pip install 'capgap[sample]'\n"

# `python -m capgap.sample` where numpy cannot be imported: None in sys.modules makes every
# `import numpy` raise ImportError, as on a plain install without the extra.
WITHOUT_NUMPY = """
import runpy, sys
sys.modules["numpy"] = None
sys.argv[0] = "capgap.sample"
runpy.run_module("capgap.sample", run_name="__main__", alter_sys=True)
"""


def run_without_numpy(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_NUMPY, *argv],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )


def test_without_numpy_the_generator_says_so_in_one_line_and_exits_2(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = run_without_numpy("--out", str(out))
    assert done.returncode == 2
    assert done.stderr == NEEDS_NUMPY
    assert done.stdout == ""
    assert not out.exists()


def test_without_numpy_the_help_still_shows() -> None:
    done = run_without_numpy("--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: python -m capgap.sample ")
    assert done.stderr == ""


def test_the_extra_the_message_names_brings_numpy() -> None:
    extras = tomllib.loads(PYPROJECT.read_text())["project"]["optional-dependencies"]
    assert [req for req in extras["sample"] if req.split(">")[0].strip() == "numpy"]


def test_the_readme_command_regenerates_the_bundled_sample(tmp_path: Path) -> None:
    root = PYPROJECT.parent
    # The command the README gives, run into a temporary folder instead of sample_data/.
    assert "python -m capgap.sample --out sample_data\n" in (root / "README.md").read_text()
    done = subprocess.run(
        [sys.executable, "-m", "capgap.sample", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    bundled = root / "sample_data"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in bundled.iterdir())
    for name in ("session.toml", "README.md"):
        assert (tmp_path / name).read_bytes() == (bundled / name).read_bytes(), name
    # The frames, not the bytes: Parquet files carry the writer's version in their metadata.
    for name in ("daily.parquet", "intraday.parquet", "long_history.parquet"):
        assert pl.read_parquet(tmp_path / name).equals(pl.read_parquet(bundled / name)), name
