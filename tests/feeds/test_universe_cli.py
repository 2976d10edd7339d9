"""`capgap universe update` and `show`: downloads and imports, exit codes, the JSON's shape."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from capgap.cli.config import universe as configured_universe
from capgap.cli.main import main
from capgap.market.holdings import cache_dir, fund_of, shipped_dir
from capgap.settings.config import load_settings
from holdings_files import STOCKS, holdings_csv, install_small_shipped
from server import LocalServer, Reply, local_server

__all__ = ["local_server"]

SHARED = Path(__file__).parents[3] / "shared" / "fixtures" / "providers"
CSV_TYPE = "text/csv; charset=utf-8"
NEXT_DAY = date(2026, 5, 6)


def path_of(ticker: str) -> str:
    return "/" + fund_of(ticker).product_path + "/1467271812596.ajax"


@pytest.fixture
def shipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return install_small_shipped(tmp_path / "shipped", monkeypatch)


def config_for(tmp_path: Path, server: LocalServer | None = None, extra: str = "") -> str:
    path = tmp_path / "config.toml"
    base = f'[feeds.ishares]\nbase_url = "{server.base_url}"\n' if server else ""
    path.write_text(base + extra)
    return str(path)


def good(day: date = NEXT_DAY, stocks=STOCKS) -> Reply:
    return Reply(200, holdings_csv(day, stocks), content_type=CSV_TYPE)


def test_update_downloads_both_funds_into_the_cache_and_show_reports_them(
    local_server, shipped, tmp_path, capsys
):
    local_server.add(path_of("IVV"), good(stocks=STOCKS[:9]))
    local_server.add(path_of("IWM"), good())
    config = config_for(tmp_path, local_server)

    assert main(["universe", "update", "--config", config]) == 0

    out, err = capsys.readouterr()
    cache = cache_dir()
    assert out.splitlines() == [
        f"IVV (S&P 500): 9 members as of 2026-05-06, written to {cache / 'IVV.csv'}",
        f"IWM (Russell 2000): 10 members as of 2026-05-06, written to {cache / 'IWM.csv'}",
    ]
    assert err == ""
    assert main(["universe", "show", "--format", "json", "--config", config]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"large", "small", "cache_dir", "custom_sectors", "watchlists"}
    large = report["large"]
    assert set(large) == {
        "index", "fund", "as_of", "origin", "path", "members", "sectors", "problem",
        "last_update",
    }  # fmt: skip
    assert (large["index"], large["fund"], large["as_of"], large["origin"], large["members"]) == (
        "S&P 500", "IVV", "2026-05-06", "cache", 9
    )  # fmt: skip
    assert large["path"] == str(cache / "IVV.csv")
    # The ten test stocks lose HHH (Real Estate): counts by sector, the largest first.
    assert large["sectors"] == {
        "Financials": 2, "Communication Services": 1, "Consumer Discretionary": 1,
        "Consumer Staples": 1, "Energy": 1, "Health Care": 1, "Industrials": 1,
        "Information Technology": 1,
    }  # fmt: skip
    # The attempt is dated by the wall clock (the CLI's): its day is today's, whatever that is.
    last = large["last_update"]
    assert (last["ok"], last["message"]) == (True, out.splitlines()[0])
    assert date.fromisoformat(last["day"])
    assert report["small"]["members"] == 10


def test_a_refused_fund_is_one_line_on_stderr_and_exit_1(local_server, shipped, tmp_path, capsys):
    local_server.add(path_of("IVV"), good())
    local_server.add(path_of("IWM"), Reply.text("oops", 500))

    assert main(["universe", "update", "--config", config_for(tmp_path, local_server)]) == 1

    out, err = capsys.readouterr()
    assert out.startswith("IVV (S&P 500): 10 members as of 2026-05-06")
    assert err == (
        "capgap: not updated: iShares IWM: HTTP 500; keeping the universe of 2026-05-05 (shipped)\n"
    )


def test_fund_downloads_only_that_fund(local_server, shipped, tmp_path, capsys):
    local_server.add(path_of("IWM"), good())
    config = config_for(tmp_path, local_server)
    assert main(["universe", "update", "--fund", "iwm", "--config", config]) == 0
    assert local_server.count(path_of("IWM")) == 1
    assert local_server.count(path_of("IVV")) == 0


def test_file_imports_a_download_made_by_hand_with_the_same_validation(shipped, tmp_path, capsys):
    good_file = tmp_path / "IWM_holdings.csv"
    good_file.write_bytes(holdings_csv(NEXT_DAY))
    assert main(["universe", "update", "--file", f"IWM={good_file}"]) == 0
    assert capsys.readouterr().out == (
        f"IWM (Russell 2000): 10 members as of 2026-05-06, written to {cache_dir() / 'IWM.csv'}\n"
    )
    page = tmp_path / "page.csv"
    page.write_text("<!DOCTYPE html><html>region</html>")
    assert main(["universe", "update", "--file", f"IVV={page}"]) == 1
    assert capsys.readouterr().err == (
        "capgap: not updated: iShares IVV: sent an HTML page where the holdings CSV was expected; "
        "keeping the universe of 2026-05-05 (shipped)\n"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--file", "IWM"], "--file: 'IWM' is not FUND=PATH"),
        (["--file", "SPY=x.csv"], "--file: unknown fund 'SPY': choose IVV, IWM"),
        (["--file", "IWM=/nonexistent/h.csv"], "--file: /nonexistent/h.csv: no such file"),
        (["--file", "IWM=x", "--fund", "IWM"], "--fund picks the funds to download"),
        (["--fund", "SPY"], "argument --fund: invalid choice: 'SPY'"),
        (["--demo"], "unrecognized arguments: --demo"),
    ],
)
def test_bad_flags_exit_2_with_one_line(argv, message, capsys):
    assert _exit_code(["universe", "update", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1


def _exit_code(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse's own errors
        return int(exc.code or 0)


def test_show_lists_the_configs_custom_sectors_and_watchlists(shipped, tmp_path, capsys):
    extra = (
        '[universe]\nwatchlists = {mega = ["AAA", "BBB"]}\n'
        '[[universe.sectors]]\nname = "Banks"\nlarge = ["BBB"]\nsmall = ["ZZZ"]\n'
        'small_etf = "KRE"\n'
    )
    config = config_for(tmp_path, extra=extra)
    assert main(["universe", "show", "--format", "json", "--config", config]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["watchlists"] == {"mega": ["AAA", "BBB"]}
    assert report["custom_sectors"] == [
        {"name": "Banks", "tag": "cyclical", "large": ["BBB"], "small": ["ZZZ"],
         "large_etf": None, "small_etf": "KRE"}
    ]  # fmt: skip
    # A custom sector's stocks are no fund's members: the legs' counts are the funds' own.
    assert (report["large"]["members"], report["large"]["origin"]) == (10, "shipped")
    assert sum(report["large"]["sectors"].values()) == 10
    assert main(["universe", "show", "--format", "table", "--config", config]) == 0
    table = capsys.readouterr().out
    assert "Banks: large BBB; small ZZZ (ETF KRE)" in table
    assert "mega: AAA, BBB" in table


def test_the_apps_universe_is_the_cached_one_when_newer_and_the_demos_the_shipped_one(
    shipped, tmp_path, capsys
):
    settings = load_settings(None, environ={})
    assert configured_universe(settings).sources[1].origin == "shipped"
    newer = tmp_path / "IWM.csv"
    newer.write_bytes(holdings_csv(NEXT_DAY, STOCKS[:9]))
    assert main(["universe", "update", "--file", f"IWM={newer}"]) == 0
    live = configured_universe(settings).sources[1]
    assert (live.origin, live.members) == ("cache", 9)
    demo = configured_universe(settings, cached=False).sources[1]
    assert (demo.origin, demo.members) == ("shipped", 10)


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/fixtures is absent")
def test_the_documented_command_reproduces_the_shipped_files_byte_for_byte(tmp_path, capsys):
    into = tmp_path / "universe"
    argv = ["universe", "update", "--into", str(into)]
    argv += ["--file", f"IVV={SHARED / 'ishares_IVV_holdings_2025-11-18.csv'}"]
    argv += ["--file", f"IWM={SHARED / 'ishares_IWM_holdings_2026-05-05.csv'}"]
    assert main(argv) == 0
    for name in ("IVV.csv", "IWM.csv"):
        assert (into / name).read_bytes() == (shipped_dir() / name).read_bytes()
    # The command is the one the shipped folder's README documents.
    readme = (shipped_dir() / "README.md").read_text()
    assert "--file IVV=../shared/fixtures/providers/ishares_IVV_holdings_2025-11-18.csv" in readme
    assert "--into tui/capgap/data/universe" in readme
