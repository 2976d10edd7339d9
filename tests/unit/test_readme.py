"""The README's set-up and test instructions hold for this checkout."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
#: CI (.ci/run) runs exactly this line as "the README's test command".
TEST_COMMAND = "pip install '.[test]' && pytest"


def code_lines() -> list[str]:
    """Every line inside the README's fenced code blocks, in order."""
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```$", README, re.MULTILINE | re.DOTALL)
    return [line.strip() for block in blocks for line in block.splitlines()]


def test_the_set_up_makes_a_virtual_environment_before_any_pip_install():
    lines = code_lines()
    venv = next(i for i, line in enumerate(lines) if line.startswith("python3 -m venv .venv"))
    assert ". .venv/bin/activate" in lines[venv]
    first_pip = next(i for i, line in enumerate(lines) if line.startswith("pip install"))
    assert venv < first_pip
    # The first instructions are the set-up: the venv comes before any other command.
    assert lines[0] == lines[venv]


def test_the_test_command_ci_runs_is_in_the_readme_verbatim():
    assert TEST_COMMAND in code_lines()


def test_the_readme_names_every_test_file_that_needs_the_shared_fixtures():
    # Found independently of the README: the test files that build a path into the
    # fixtures kept beside the checkout (../shared/fixtures).
    needing = sorted(
        path.relative_to(ROOT / "tests")
        for path in (ROOT / "tests").rglob("test_*.py")
        if re.search(r'"shared"\s*/\s*"fixtures"', path.read_text(encoding="utf-8"))
    )
    assert len(needing) >= 5
    section = README[README.index("../shared/fixtures") :].split("\n\n")[0]
    for path in needing:
        assert path.name in section, f"{path} needs ../shared/fixtures but the README omits it"
