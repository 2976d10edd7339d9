"""`capgap universe show` against the universe files that ship with capgap, counted here anew.

The members and their sectors are counted with the csv module straight from
capgap/data/universe/*.csv (a second reading, not capgap's polars one): a symbol listed twice
in a fund's file (IWM lists ADRO's shares and its rights under one ticker) is one member.
Bad flags give one line on stderr and exit 2.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import capgap
import pytest
from capgap.cli.main import main
from capgap.market.holdings import cache_dir, shipped_dir

#: bucket, fund, index: the two legs as the shipped files hold them.
LEGS = (("large", "IVV", "S&P 500"), ("small", "IWM", "Russell 2000"))


def shipped_file(fund: str) -> Path:
    # The files of the capgap that runs (a checkout's or an installed wheel's, as in CI).
    return Path(capgap.__file__).parent / "data" / "universe" / f"{fund}.csv"


def read_shipped(fund: str) -> tuple[dict[str, str], dict[str, str]]:
    """Return a shipped file's header fields (``# key = value``) and its members' sectors."""
    meta: dict[str, str] = {}
    sectors: dict[str, str] = {}
    with shipped_file(fund).open(newline="", encoding="utf-8") as handle:
        lines = []
        for line in handle:
            if line.startswith("#"):
                key, sep, value = line[1:].partition("=")
                if sep:
                    meta[key.strip()] = value.strip()
            else:
                lines.append(line)
    for row in csv.DictReader(lines):
        # The first listing of a symbol is its member (capgap keeps the first, too).
        sectors.setdefault(row["symbol"], row["sector"])
    return meta, sectors


def by_sector(sectors: dict[str, str]) -> dict[str, int]:
    """Members per sector, the largest first, ties by name (the order `show` promises)."""
    counts = Counter(sectors.values())
    return dict(sorted(counts.items(), key=lambda pair: (-pair[1], pair[0])))


def test_the_shipped_files_are_what_this_test_reads():
    # The test's own path to the files is the package's.
    assert shipped_file("IVV").parent == shipped_dir()
    meta, sectors = read_shipped("IWM")
    assert meta["fund"] == "IWM"
    # IWM's file has 1,921 rows and 1,920 members: one ticker twice.
    with shipped_file("IWM").open(encoding="utf-8") as handle:
        rows = sum(1 for line in handle if not line.startswith("#")) - 1
    assert rows == len(sectors) + 1


def run_show(capsys: pytest.CaptureFixture[str], *flags: str) -> str:
    assert main(["universe", "show", *flags]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    return out


def test_show_json_is_the_shipped_universe(capsys):
    report: dict[str, Any] = json.loads(run_show(capsys, "--format", "json"))
    for bucket, fund, index in LEGS:
        meta, sectors = read_shipped(fund)
        assert meta["fund"] == fund
        assert report[bucket] == {
            "index": index,
            "fund": fund,
            "as_of": date.fromisoformat(meta["as_of"]).isoformat(),
            "origin": "shipped",
            "path": str(shipped_file(fund)),
            "members": len(sectors),
            "sectors": by_sector(sectors),
            "problem": None,
            "last_update": None,
        }
        # The order of the sectors is part of the output, not only their counts.
        assert list(report[bucket]["sectors"]) == list(by_sector(sectors))
    assert (report["large"]["members"], report["small"]["members"]) == (503, 1920)
    assert report["cache_dir"] == str(cache_dir())
    assert (report["custom_sectors"], report["watchlists"]) == ([], {})


def test_show_prints_json_when_stdout_is_no_terminal(capsys):
    # Under capsys stdout is a pipe, as for a script: JSON without --format.
    assert json.loads(run_show(capsys)) == json.loads(run_show(capsys, "--format", "json"))


def test_show_table_has_the_same_figures(capsys):
    lines = run_show(capsys, "--format", "table").splitlines()
    assert lines[0] == f"Universe in effect (downloads are cached in {cache_dir()})"
    counted = {fund: read_shipped(fund) for _bucket, fund, _index in LEGS}
    for (_bucket, fund, index), line in zip(LEGS, lines[2:4], strict=True):
        meta, sectors = counted[fund]
        assert line == (
            f"{index:<13} {fund}  as of {meta['as_of']}  {len(sectors):>5} members"
            f"  shipped: {shipped_file(fund)}"
        )
    # Then a blank line, the header, and one line per sector: name, S&P 500, Russell 2000.
    assert lines[4] == ""
    assert lines[5].split() == ["Sector", "S&P", "500", "Russell", "2000"]
    large, small = (by_sector(counted[fund][1]) for _bucket, fund, _index in LEGS)
    table = {}
    for line in lines[6:]:
        name, large_count, small_count = line.rsplit(maxsplit=2)
        table[name] = (int(large_count), int(small_count))
    assert list(table) == list(large)  # the S&P 500's order, largest first
    assert table == {name: (large[name], small.get(name, 0)) for name in large | small}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["show", "--format", "xml"], "argument --format: invalid choice: 'xml'"),
        (["show", "--file", "IWM=x.csv"], "unrecognized arguments: --file IWM=x.csv"),
        (["show", "--fund", "IWM"], "unrecognized arguments: --fund IWM"),
        (["show", "members"], "unrecognized arguments: members"),
        (["show", "--config", "/nonexistent/capgap.toml"], "config file not found"),
        (["list"], "invalid choice: 'list'"),
        ([], "the following arguments are required: ACTION"),
    ],
)
def test_bad_show_flags_exit_2_with_one_line(argv, message, capsys):
    assert exit_code(["universe", *argv]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert message in err
    assert err.count("\n") == 1


def test_a_bad_config_file_is_one_line_and_exit_2(tmp_path, capsys):
    config = tmp_path / "config.toml"
    config.write_text("[universe\n")
    assert exit_code(["universe", "show", "--config", str(config)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith(f"capgap: error: {config}: not valid TOML")


def test_bad_update_files_exit_2_with_one_line(tmp_path, capsys):
    # Those test_universe_cli does not try: a file given twice, a folder, an empty name.
    good = tmp_path / "IWM.csv"
    good.write_text("whatever")
    cases = [
        (["--file", f"IWM={good}", "--file", f"iwm={good}"], "--file: IWM is given twice"),
        (["--file", f"IVV={tmp_path}"], f"--file: {tmp_path}: no such file"),
        (["--file", "IVV="], "--file: 'IVV=' is not FUND=PATH"),
    ]
    for argv, message in cases:
        assert exit_code(["universe", "update", *argv]) == 2
        out, err = capsys.readouterr()
        assert out == ""
        assert message in err, err
        assert err.count("\n") == 1
    # Nothing was written: a refused flag stops before any file is touched.
    assert not cache_dir().exists() or not any(cache_dir().iterdir())


def exit_code(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse's own errors
        return int(exc.code or 0)
