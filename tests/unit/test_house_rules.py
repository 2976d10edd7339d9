"""Rules of the house that the code itself must keep: import layering and one wall clock."""

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import capgap
import pytest

PACKAGE = Path(capgap.__file__).resolve().parent


def _modules(subpackage: str) -> list[str]:
    path = PACKAGE / subpackage
    return [
        info.name
        for info in pkgutil.walk_packages([str(path)], prefix=f"capgap.{subpackage}.")
        if not info.ispkg
    ]


def _loaded(modules: list[str], prefixes: tuple[str, ...]) -> list[str]:
    """Import ``modules`` in a fresh interpreter; return the loaded modules under ``prefixes``."""
    code = (
        "import sys\n"
        + "".join(f"import {name}\n" for name in modules)
        + "print('\\n'.join(sorted(m for m in sys.modules"
        + f" if any(m == p or m.startswith(p + '.') for p in {prefixes!r}))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    return result.stdout.split()


@pytest.mark.parametrize(
    ("subpackage", "forbidden"),
    [
        ("analytics", ("textual", "httpx")),
        ("market", ("textual", "httpx")),
        ("feeds", ("textual",)),
    ],
)
def test_layers_do_not_import_forbidden_packages(subpackage, forbidden):
    modules = _modules(subpackage)
    assert modules, f"no modules found in capgap/{subpackage}"
    bad = _loaded(modules, forbidden)
    assert bad == [], f"capgap.{subpackage} pulled in {','.join(bad)}"


def _wall_clock_calls(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            attr = node.func.attr
            owner = node.func.value
            owner_name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", "")
            if (attr in {"now", "utcnow", "today"} and owner_name in {"datetime", "date"}) or (
                attr in {"time", "monotonic", "perf_counter"} and owner_name == "time"
            ):
                lines.append(node.lineno)
    return lines


def test_only_the_clock_module_reads_the_wall_clock():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path == PACKAGE / "core" / "clock.py":
            continue
        for line in _wall_clock_calls(ast.parse(path.read_text(), str(path))):
            offenders.append(f"{path.relative_to(PACKAGE)}:{line}")
    assert offenders == []


def test_the_wall_clock_check_finds_a_call():
    assert _wall_clock_calls(ast.parse("import datetime\ndatetime.now()\ntime.time()\n")) == [2, 3]


def _notify_calls_with_markup(tree: ast.AST) -> list[int]:
    """Lines of ``notify(...)`` calls that do not pass ``markup=False``."""
    lines = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "notify"
        ):
            markup = [kw.value for kw in node.keywords if kw.arg == "markup"]
            if not (markup and isinstance(markup[0], ast.Constant) and markup[0].value is False):
                lines.append(node.lineno)
    return lines


def test_notifications_never_parse_markup():
    # Paths, theme errors ("[colors] primary"), alerts and error text go into notifications:
    # Textual would read their brackets as markup and drop or mangle them.
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for line in _notify_calls_with_markup(ast.parse(path.read_text(), str(path))):
            offenders.append(f"{path.relative_to(PACKAGE)}:{line}")
    assert offenders == []


def test_the_markup_check_finds_a_notify_call():
    code = "app.notify('a')\napp.notify('b', markup=False)\napp.notify('c', markup=True)\n"
    assert _notify_calls_with_markup(ast.parse(code)) == [1, 3]


def test_the_first_paint_loads_neither_polars_nor_httpx():
    # The real app and every UI module, imported the way `capgap` starts, in a fresh interpreter:
    # the analytics stack and the HTTP client load in the engine's thread after the first paint.
    modules = ["capgap.cli.main", "capgap.ui.app", *_modules("ui")]
    heavy = _loaded(modules, ("polars", "httpx"))
    assert heavy == [], f"the first paint pulled in {','.join(heavy)}"


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
    # Rooms import downwards: loading a room's module in a fresh interpreter loads no room above.
    assert _loaded([module], above) == []
