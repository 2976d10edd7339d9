"""Rooms import downwards: loading a room's module in a fresh interpreter loads no room above."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    ("module", "above"),
    [
        # The settings write alert rules back as TOML: the rule types are settings, not alerts.
        ("capgap.settings.documented", ("capgap.alerts", "capgap.engine", "capgap.cli")),
        # Alerts word their messages with the shared formatting, not the CLI's report.
        ("capgap.alerts.watch", ("capgap.cli", "capgap.ui", "capgap.engine")),
        ("capgap.core.format", ("capgap.settings", "capgap.market", "capgap.ui", "polars")),
        ("capgap.core.toml", ("capgap.settings", "capgap.feeds", "polars")),
    ],
)
def test_a_room_loads_nothing_above_it(module: str, above: tuple[str, ...]) -> None:
    code = (
        f"import sys, {module}\n"
        f"print(sorted({{m.split('.')[0] if m == 'polars' else '.'.join(m.split('.')[:2])"
        f" for m in sys.modules if m.startswith({above!r})}}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == "[]"
