"""A user's session with the installed `capgap` in tmux, checked against `capgap snapshot`.

Two journeys, each in a fresh tmux: the demo held at the close (numbers, resizes, theme, quit)
and a paused mid-session replay (drill down to a sector and a symbol and back, then the
dashboard), where the replay time read off the screen gives the snapshot to compare with.

The expected texts are formatted here from the JSON, the way the dashboard shows figures (the
arrow and sign of capgap/ui/format.py, its decimals); the symbol's price comes from the sample's
own minute bars, read with polars, not from capgap.
"""

from __future__ import annotations

import functools
import math
import re
import time
import tomllib
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from tmux_session import (
    MISSING,
    TIMEOUT,
    Tmux,
    capgap_command,
    demo_snapshot,
    isolated_env,
    quit_and_check_restored,
)

pytestmark = pytest.mark.e2e

if MISSING is not None:
    pytest.skip(MISSING, allow_module_level=True)

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "sample_data"
NEW_YORK = ZoneInfo("America/New_York")
DEFAULT_THEME = "capgap-dark"
# The dashboard's short sector names (the rest are shown in full).
SHORT = {
    "Information Technology": "Info Tech",
    "Consumer Discretionary": "Cons Discr",
    "Consumer Staples": "Cons Staples",
    "Communication Services": "Comm Svcs",
}
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
Json = dict[str, Any]


# --- How the screen shows a figure (independent of capgap/ui/format.py) -------------------------


def fit(value: float, decimals: int = 2) -> int:
    """Decimals shrink as a figure grows, so it keeps its width: 1.23, 12.3, 123."""
    size = abs(value)
    return max(0, decimals - 2) if size >= 100 else max(0, decimals - 1) if size >= 10 else decimals


def sign(value: float | None, decimals: int = 2, *, fitted: bool = True) -> str:
    """'+0.19', '-1.2', '0.00' (no sign on what rounds to zero), '—' when missing."""
    if value is None:
        return "—"
    places = fit(value, decimals) if fitted else decimals
    shown = round(value, places)
    return f"{shown:+.{places}f}" if shown else f"{0.0:.{places}f}"


def arrowed(value: float | None, decimals: int = 2, *, fitted: bool = True) -> str:
    """'▲+0.19', '▼-0.58', '=0.00': the arrow follows the figure as shown."""
    if value is None:
        return "—"
    text = sign(value, decimals, fitted=fitted)
    shown = float(text)
    return ("▲" if shown > 0 else "▼" if shown < 0 else "=") + text


def arrowed_2(value: float) -> str:
    """Two decimals whatever the size (the sector screen's summary)."""
    return arrowed(value, fitted=False)


def price(value: float | None) -> str:
    """'6,870.40'."""
    return "—" if value is None else f"{value:,.2f}"


def sign_1(value: float) -> str:
    """A mover's change: one decimal, fitted ('+1.7', '+12')."""
    return sign(value, 1)


def whole(pct: float) -> str:
    """Odds as whole percents, halves up."""
    return str(math.floor(pct + 0.5))


def shown(fmt: Callable[[float], str], value: float | None, places: int = 4) -> set[str]:
    """Every text ``fmt`` can give for a figure the JSON rounded to ``places``.

    A figure within half a JSON unit of a display boundary may show either way; elsewhere
    the set has one element.
    """
    if value is None:
        return {"—"}
    half = 0.5 * 10.0**-places
    return {fmt(value - half), fmt(value), fmt(value + half)}


def exact(fmt: Callable[[float], str], value: float) -> set[str]:
    """The text of a figure computed here at full precision (float noise aside)."""
    noise = 1e-9 * max(1.0, abs(value))
    return {fmt(value - noise), fmt(value), fmt(value + noise)}


def short_day(day: date) -> str:
    """'Wed 10 Dec'."""
    return f"{WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]}"


def countdown(seconds: int) -> str:
    """'04:22:00:00': days, hours, minutes, seconds."""
    days, rest = divmod(max(0, seconds), 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    return f"{days:02d}:{hours:02d}:{minutes:02d}:{secs:02d}"


# --- References ------------------------------------------------------------------------------


def session_day() -> date:
    """The sample session's date, from its own description."""
    info = tomllib.loads((SAMPLE / "session.toml").read_text(encoding="utf-8"))
    day = info["session_date"]
    assert isinstance(day, date)
    return day


@functools.cache
def sample_frames() -> tuple[pl.DataFrame, pl.DataFrame]:
    """The sample session's bars and daily bars, as shipped, with each bar's length in minutes.

    The core symbols have one-minute bars, the index members five-minute bars.
    """
    intraday = pl.concat(
        [
            pl.read_parquet(SAMPLE / "intraday.parquet").with_columns(minutes=pl.lit(1)),
            pl.read_parquet(SAMPLE / "members_intraday.parquet").with_columns(minutes=pl.lit(5)),
        ]
    )
    daily = pl.concat(
        [pl.read_parquet(SAMPLE / name) for name in ("daily.parquet", "members_daily.parquet")]
    )
    return intraday, daily


def bars_quote(symbol: str, at: datetime) -> tuple[float, float]:
    """Return the last and the previous close of ``symbol`` at ``at``, from the sample files.

    The last is the close of the newest bar completed by ``at`` (a bar stamped t covers
    [t, t + its length)); the previous close is the newest daily close before the session.
    """
    intraday, daily = sample_frames()
    ends = pl.col("time") + pl.duration(minutes=pl.col("minutes"))
    bars = intraday.filter(pl.col("symbol") == symbol, ends <= at.astimezone(UTC)).sort("time")
    days = daily.filter(pl.col("symbol") == symbol, pl.col("date") < session_day()).sort("date")
    assert bars.height and days.height, f"no bars for {symbol} by {at}"
    return float(bars["close"][-1]), float(days["close"][-1])


def theme_cycle() -> list[str]:
    """capgap's themes in the order `t` goes through them: the default, then by file name."""
    names = [
        tomllib.loads(path.read_text(encoding="utf-8"))["name"]
        for path in sorted((REPO / "themes").glob("*.toml"))
    ]
    return [DEFAULT_THEME, *(name for name in names if name != DEFAULT_THEME)]


# --- Reading the dashboard -------------------------------------------------------------------


class Checks:
    """Collects what on a screen differs from what was expected."""

    def __init__(self, screen: str) -> None:
        self.screen = screen
        self.problems: list[str] = []

    def find(self, what: str, pattern: str) -> re.Match[str] | None:
        """Search the screen; a miss is a problem."""
        found = re.search(pattern, self.screen, re.MULTILINE)
        if found is None:
            self.problems.append(f"{what}: nothing matches /{pattern}/")
        return found

    def equal(self, what: str, seen: str, allowed: set[str]) -> None:
        """The text seen must be one of the allowed."""
        if seen not in allowed:
            self.problems.append(f"{what}: screen {seen!r}, expected {sorted(allowed)}")

    def has(self, what: str, text: str) -> None:
        """The text must be on the screen."""
        if text not in self.screen:
            self.problems.append(f"{what}: {text!r} not on screen")

    def report(self) -> str:
        """The problems, one per line."""
        return "\n".join(self.problems)


def _spread_panel(check: Checks, snap: Json, *, ratio_line: bool = True) -> None:
    spread = snap["spread"]
    large, small = spread["large"], spread["small"]
    line = check.find("large index", rf"│ {re.escape(large['name'])} +(\S+) +(\S+)")
    if line:
        check.equal("large last", line[1], shown(price, large["last"]))
        check.equal("large change", line[2], shown(lambda v: arrowed(v) + "%", large["change_pct"]))
    line = check.find("small index", rf"│ {re.escape(small['name'])} +(\S+) +(\S+) +(\S+) pp")
    if line:
        check.equal("small last", line[1], shown(price, small["last"]))
        check.equal("small change", line[2], shown(lambda v: arrowed(v) + "%", small["change_pct"]))
        check.equal("gap S-L 1D", line[3], shown(arrowed, spread["relative_pp"]["1d"]))
    windows = spread["relative_pp"]
    line = check.find("S-L by window", r"^│ S-L" + r" +(\S+)" * len(windows) + r" +│")
    if line:
        for index, (label, value) in enumerate(windows.items(), start=1):
            check.equal(f"S-L {label}", line[index], shown(arrowed, value))
    # A compact panel with the futures' line leaves the ratio's statistics out (DROP_ORDER).
    line = (
        check.find("ratio line", r"RUT/SPX (\S+)  z1y (\S+)  β60 (\S+)  ρ60 (\S+)")
        if ratio_line
        else None
    )
    if line:
        check.equal("ratio", line[1], shown(lambda v: f"{v:.4f}", spread["ratio"], 6))
        check.equal("z1y", line[2], shown(sign, spread["ratio_z_1y"]))
        check.equal("beta", line[3], shown(lambda v: f"{v:.2f}", spread["beta_60d"]))
        check.equal("corr", line[4], shown(lambda v: f"{v:.2f}", spread["corr_60d"]))
    pe = spread["valuation"]
    line = check.find("P/E line", r"Fwd P/E (\S+)x / (\S+)x  small -(\S+)%  excl\. neg")
    if line:
        check.equal("large P/E", line[1], shown(lambda v: f"{v:.1f}", pe["large_forward_pe"], 2))
        check.equal("small P/E", line[2], shown(lambda v: f"{v:.1f}", pe["small_forward_pe"], 2))
        check.equal("discount", line[3], shown(lambda v: f"{v:.1f}", pe["small_discount_pct"]))
    style = snap["style"]
    line = check.find("value - growth", r"│ Lg (\S+)  Sm (\S+) pp")
    if line:
        check.equal("large V-G", line[1], shown(arrowed, style["large_value_minus_growth_pp"]))
        check.equal("small V-G", line[2], shown(arrowed, style["small_value_minus_growth_pp"]))


def _fed_panel(check: Checks, snap: Json, *, odds_rows: bool) -> None:
    fed = snap["fed"]
    decision = fed["next_decision"]
    check.has("next decision", short_day(date.fromisoformat(decision["date"])))
    low, high = fed["target_range"]
    check.has("target range", f"range {low:.2f}-{high:.2f} %")
    meetings = fed["probabilities"]
    assert meetings, "the sample session has Fed odds"
    if not odds_rows:
        # The compact panel: one summary line for the next meeting.
        odds = meetings[0]
        line = check.find("odds summary", r"cut (\d+)% hold (\d+)%(?: hike (\d+)%)?")
        if line:
            check.equal("next cut", line[1], shown(whole, odds["cut_pct"]))
            check.equal("next hold", line[2], shown(whole, odds["hold_pct"]))
            check.equal("next hike", line[3] or "0", shown(whole, odds["hike_pct"]))
        return
    check.has("EFFR", f"EFFR {fed['effr']:.2f} %")
    for index, odds in enumerate(meetings):
        day = date.fromisoformat(odds["meeting"])
        label = f"{day.day:>2} {MONTHS[day.month - 1]}"
        pattern = rf"│ {label}  \S+ +(\d+) +(\d+) +(\d+) +(\d+\.\d\d) "
        line = re.search(pattern, check.screen)
        if line is None:
            if index == 0:
                check.problems.append(f"no odds row for the next meeting ({label})")
            continue
        check.equal(f"{label} cut", line[1], shown(whole, odds["cut_pct"]))
        check.equal(f"{label} hold", line[2], shown(whole, odds["hold_pct"]))
        check.equal(f"{label} hike", line[3], shown(whole, odds["hike_pct"]))
        check.equal(f"{label} rate", line[4], shown(lambda v: f"{v:.2f}", odds["implied_rate"]))


def _sectors(check: Checks, snap: Json, *, min_rows: int, movers: bool) -> None:
    seen: list[tuple[int, str]] = []
    for row in snap["sectors"]:
        name = SHORT.get(row["sector"], row["sector"])
        # Sector, Lg %, Sm %, S-L pp, Wt L/S, Brd%, Tag, then the funds and the movers.
        pattern = rf"^│ {re.escape(name)}  +" + r"(\S+) +" * 6 + r"(.*)$"
        line = re.search(pattern, check.screen, re.MULTILINE)
        if line is None:
            continue
        seen.append((line.start(), name))
        large, small = row["large"], row["small"]
        check.equal(f"{name} Lg %", line[1], shown(arrowed, large["change_pct"]))
        check.equal(f"{name} Sm %", line[2], shown(arrowed, small["change_pct"]))
        check.equal(f"{name} S-L pp", line[3], shown(arrowed, row["spread_pp"]))
        weights = {
            f"{lg}/{sm}"
            for lg in shown(lambda v: f"{v:.0f}", large["weight_pct"])
            for sm in shown(lambda v: f"{v:.0f}", small["weight_pct"])
        }
        check.equal(f"{name} Wt L/S", line[4], weights)
        check.equal(f"{name} breadth", line[5], shown(lambda v: f"{v:.0f}%", row["breadth_pct"]))
        check.equal(f"{name} tag", line[6], {"CYC" if row["tag"] == "cyclical" else "DEF"})
        rest = line[7]
        if large["etf_symbol"] and not rest.startswith(large["etf_symbol"]):
            check.problems.append(f"{name} fund: {rest!r} does not start {large['etf_symbol']}")
        if movers and row["leaders"]:
            top = row["leaders"][0]
            texts = {f"{top['symbol']} {text}" for text in shown(sign_1, top["change_pct"])}
            if not any(text in rest for text in texts):
                check.problems.append(f"{name} leader: {rest!r} does not show {texts}")
    if len(seen) < min_rows:
        check.problems.append(f"only {len(seen)} sector rows on screen, wanted {min_rows}")
    # Sorted on S-L, largest first (the sort of a fresh dashboard).
    order = [SHORT.get(r["sector"], r["sector"]) for r in snap["sectors"]]
    spreads = {SHORT.get(r["sector"], r["sector"]): r["spread_pp"] for r in snap["sectors"]}
    on_screen = [name for _, name in sorted(seen)]
    wanted = sorted(on_screen, key=lambda name: (-spreads[name], order.index(name)))
    if on_screen != wanted:
        check.problems.append(f"sectors not sorted on S-L: {on_screen}, expected {wanted}")


def dashboard_problems(
    screen: str,
    snap: Json,
    *,
    odds_rows: bool,
    min_sectors: int,
    countdown_at_close: bool = False,
    ratio_line: bool = True,
) -> str:
    """Return what on the dashboard differs from the snapshot ("" when it all agrees).

    ``odds_rows``: the tall Fed panel (a row per meeting) rather than the compact summary;
    ``ratio_line``: the spread panel has room for the ratio's statistics.
    """
    check = Checks(screen)
    lines = screen.splitlines()
    if not lines or "DEMO" not in lines[0]:
        check.problems.append("no DEMO badge on the top line")
    if not lines or "q Quit" not in lines[-1]:
        check.problems.append("the key bar is not on the bottom line")
    check.has("panel", "Large vs small caps")
    if "Traceback" in screen:
        check.problems.append("a traceback on screen")
    # Every row between the status line and the key bar is inside a panel's frame.
    for number, line in enumerate(lines[1:-1], start=2):
        if line[:1] not in ("╭", "│", "╰") or line.rstrip()[-1:] not in ("╮", "│", "╯"):
            check.problems.append(f"line {number} is outside any frame: {line!r}")
    _spread_panel(check, snap, ratio_line=ratio_line)
    _fed_panel(check, snap, odds_rows=odds_rows)
    _sectors(check, snap, min_rows=min_sectors, movers=odds_rows)
    if odds_rows:
        check.has("ratio chart", "RUT/SPX ratio")
    if countdown_at_close:
        check.has("countdown", f"in {countdown(snap['fed']['next_decision']['seconds_until'])}")
    return check.report()


def wait_for_dashboard(term: Tmux, snap: Json, **options: Any) -> str:
    """Wait until the dashboard shows the snapshot's figures; return that screen."""
    return term.wait_until(
        lambda screen: screen if not dashboard_problems(screen, snap, **options) else None,
        "the dashboard agree with the snapshot",
        explain=lambda screen: dashboard_problems(screen, snap, **options),
    )


def start(tmp_path: Path, *args: str, width: int = 120, height: int = 40) -> Tmux:
    """Start capgap with ``args`` in a fresh tmux, config and state kept in ``tmp_path``."""
    return Tmux(
        capgap_command(*args),
        width=width,
        height=height,
        env=isolated_env(tmp_path / "home"),
        cwd=tmp_path,
    )


# --- The demo held at the close ----------------------------------------------------------------


def test_at_the_close_through_resizes_and_a_theme_switch(tmp_path: Path) -> None:
    close = demo_snapshot("16:00")
    tall = {"odds_rows": True, "min_sectors": len(close["sectors"]), "countdown_at_close": True}
    # At 16:00 the futures' line is up; at 80x24 the ratio's statistics make way for it.
    small = {
        "odds_rows": False,
        "min_sectors": 5,
        "countdown_at_close": False,
        "ratio_line": False,
    }
    # Just before the close at 120x: the replay reaches 16:00 at once and holds there.
    with start(tmp_path, "--demo", "--at", "15:58", "--speed", "120") as term:
        term.wait_for("REPLAY END 16:00")
        wait_for_dashboard(term, close, **tall)

        term.resize(80, 24)
        screen = wait_for_dashboard(term, close, **small)
        assert "│ fut  ES " in screen and "RUT/SPX 0." not in screen
        term.resize(120, 40)
        wait_for_dashboard(term, close, **tall)

        cycle = theme_cycle()
        assert len(cycle) > 1
        term.keys("t")
        term.wait_for(cycle[1])
        state = tmp_path / "home" / "state" / "capgap" / "state.toml"
        _wait_file_has(state, f'theme = "{cycle[1]}"')
        # Once the toast is gone, the figures are all there under the new theme.
        term.wait_gone(cycle[1])
        wait_for_dashboard(term, close, **tall)

        quit_and_check_restored(term)


def _wait_file_has(path: Path, text: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    content = ""
    while time.monotonic() < deadline:
        content = path.read_text(encoding="utf-8") if path.exists() else ""
        if text in content:
            return
        time.sleep(0.1)
    raise AssertionError(f"{path} never said {text!r}; it held:\n{content}")


# --- A paused session in the middle of the day ---------------------------------------------------


def _crumb(screen: str) -> str:
    """The breadcrumb on the top line ("" on the dashboard, which has a status line)."""
    top = screen.splitlines()[0] if screen else ""
    # The top line's parts stand two spaces or more apart; a crumb has single spaces.
    return next((part for part in re.split(r" {2,}", top) if part.startswith("Dashboard")), "")


def _as_of(screen: str) -> str:
    found = re.search(r"as of (\d\d:\d\d:\d\d) ET", screen.splitlines()[0])
    assert found, screen
    return found[1]


def _on_day(clock: str) -> datetime:
    hours, minutes, seconds = (int(part) for part in clock.split(":"))
    return datetime.combine(session_day(), datetime.min.time(), NEW_YORK).replace(
        hour=hours, minute=minutes, second=seconds
    )


def _age_s(text: str) -> int:
    found = re.fullmatch(r"(?:(\d+)m)?(\d+)s", text)
    assert found, f"cannot read the data age {text!r}"
    return int(found[1] or 0) * 60 + int(found[2])


def _pause(term: Tmux) -> str:
    term.keys("p")
    term.wait_until(lambda s: "PAUSED" in s.splitlines()[0], "PAUSED on the top line")
    return term.wait_still()


def _resume(term: Tmux) -> None:
    term.keys("p")
    term.wait_until(lambda s: "PAUSED" not in s.splitlines()[0], "PAUSED gone")


def _check_sector_screen(screen: str, full_name: str) -> str:
    """Compare the paused sector screen with the snapshot and the bars at its as-of time."""
    at = _as_of(screen)
    snap = demo_snapshot(at)
    row = next(r for r in snap["sectors"] if r["sector"] == full_name)
    check = Checks(screen)
    summary = check.find(
        "summary",
        rf"^ {re.escape(full_name)} \((\w+)\)  ·  S-L (\S+) pp  ·  breadth (\S+)\s*\n"
        r" Large (\S+) wt (\S+) of (\d+) P/E \S+(?:, fund (\S+) \S+)?"
        r"  ·  Small (\S+) wt (\S+) of (\d+)",
    )
    if summary:
        large, small = row["large"], row["small"]
        check.equal("tag", summary[1], {row["tag"]})
        check.equal("S-L", summary[2], shown(arrowed_2, row["spread_pp"]))
        check.equal("breadth", summary[3], shown(lambda v: f"{v:.0f}%", row["breadth_pct"]))
        check.equal("large change", summary[4], shown(arrowed_2, large["change_pct"]))
        check.equal("large weight", summary[5], shown(lambda v: f"{v:.0f}%", large["weight_pct"]))
        check.equal("large members", summary[6], {str(large["members"])})
        check.equal("large fund", summary[7] or "", {large["etf_symbol"] or ""})
        check.equal("small change", summary[8], shown(arrowed_2, small["change_pct"]))
        check.equal("small weight", summary[9], shown(lambda v: f"{v:.0f}%", small["weight_pct"]))
        check.equal("small members", summary[10], {str(small["members"])})
    rows = re.findall(r"^│ (\S+) +.{14} +([LS]) +([\d,]+\.\d\d) +(\S+) ", screen, re.MULTILINE)
    assert len(rows) >= 5, screen
    moment = _on_day(at)
    for symbol, _bucket, last, change in rows:
        bar_last, prev = bars_quote(symbol, moment)
        check.equal(f"{symbol} last", last, exact(price, bar_last))
        check.equal(f"{symbol} change", change, exact(arrowed, (bar_last / prev - 1) * 100))
    # Sorted on the change, largest first: the top row is the sector's leader.
    leader = row["leaders"][0]
    check.equal("top constituent", rows[0][0], {leader["symbol"]})
    check.equal("leader's change", rows[0][3], shown(arrowed, leader["change_pct"]))
    assert not check.problems, f"at {at}:\n{check.report()}\n{screen}"
    return at


def _check_symbol_screen(screen: str, symbol: str, full_name: str) -> None:
    """Compare the paused symbol screen with the sample's bars at its as-of time."""
    at = _as_of(screen)
    last, prev = bars_quote(symbol, _on_day(at))
    head = re.search(r"^ ?Last (\S+)  (\S+)%   prev close (\S+)", screen, re.MULTILINE)
    assert head, screen
    assert head[1] in exact(price, last), (at, head[0], last)
    assert head[2] in exact(arrowed, (last / prev - 1) * 100), (at, head[0], last, prev)
    assert head[3] in exact(price, prev), (at, head[0], prev)
    assert re.search(rf"^ ?{re.escape(symbol)}  .* · {re.escape(full_name)} · ", screen, re.M)


def test_paused_midsession_drilldown_and_back_agree_with_the_snapshot(tmp_path: Path) -> None:
    # Real speed from just before a minute ends: the quotes move on once during the test.
    with start(tmp_path, "--demo", "--at", "11:00:50", "--speed", "1") as term:
        term.wait_for_match(r"^│ Sector .*\n│ \S+(?: \S+)?  +[▲▼=]")

        # Enter on the sectors table: the constituents of the sector under the cursor.
        term.keys("Enter")
        crumb = term.wait_until(
            lambda s: re.fullmatch(r"Dashboard › (.+)", _crumb(s)), "the sector's crumb"
        )
        short = crumb[1]
        full_name = next((full for full, name in SHORT.items() if name == short), short)
        term.wait_for_match(rf"^ {re.escape(full_name)} \((cyclical|defensive)\)")
        _check_sector_screen(_pause(term), full_name)
        _resume(term)

        # Enter on a constituent: its symbol screen.
        term.keys("Enter")
        opened = term.wait_until(
            lambda s: re.fullmatch(rf"Dashboard › {re.escape(short)} › (\S+)", _crumb(s)),
            "the symbol's crumb",
        )
        symbol = opened[1]
        term.wait_for_match(r"^ ?Last [\d,]+\.\d\d")
        _check_symbol_screen(_pause(term), symbol, full_name)

        # Esc, Esc: back to the sector, then to the dashboard (still paused).
        term.keys("Escape")
        term.wait_until(lambda s: _crumb(s) == f"Dashboard › {short}", "back on the sector")
        term.keys("Escape")
        screen = term.wait_until(
            lambda s: s if "Large vs small caps" in s and not _crumb(s) else None,
            "back on the dashboard",
        )
        assert "PAUSED" in screen.splitlines()[0]

        # The paused status line: the replay clock and the age of the figures shown.
        screen = term.wait_still()
        status = re.search(r"(\d\d:\d\d:\d\d) ET .* data (\S+)", screen.splitlines()[0])
        assert status, screen
        paused_at = _on_day(status[1])
        data_at = paused_at - timedelta(seconds=_age_s(status[2]))
        # The figures are those of the newest minute bar completed at the last poll, which
        # the data's age dates (a bar ends on the minute). The replay serves the same quotes
        # all through a minute: seen here, the snapshots at both ends of it agree.
        assert data_at.second == 0 and data_at <= paused_at
        snap = demo_snapshot(data_at.strftime("%H:%M:%S"))
        end = demo_snapshot((data_at + timedelta(seconds=59)).strftime("%H:%M:%S"))
        for part in ("spread", "sectors", "style"):
            assert snap[part] == end[part], part
        assert snap["fed"]["probabilities"] == end["fed"]["probabilities"]
        sectors = len(snap["sectors"])
        problems = dashboard_problems(screen, snap, odds_rows=True, min_sectors=sectors)
        assert not problems, f"at {data_at:%H:%M:%S}:\n{problems}\n{screen}"
        # The countdown runs on the replay clock, held at the paused instant.
        statement = datetime.fromisoformat(snap["fed"]["next_decision"]["statement_at"])
        left = int((statement - paused_at).total_seconds())
        assert re.search(rf"in ({countdown(left)}|{countdown(left - 1)})\b", screen), screen

        quit_and_check_restored(term)
