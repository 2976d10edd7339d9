"""Faults in the members' quote details, end to end: live engine, snapshot JSON, screen, recording.

Yahoo's quote batch carries each member's fundamentals (QUOTE_DETAILS). A detail of the wrong
shape (a string, NaN, a negative market cap, a zero average, a time from the future), a member
left out of the reply or an empty reply must show as a blank figure (the dash, JSON null),
never as zero and never as a traceback; the member's price still counts. Once the fault
clears, the next real value must reach the snapshot, its JSON, the lines the screen shows and
the recording.

The rig: a live engine on a manual clock against the local Yahoo server, with a hand-made
universe of four S&P 500 and four Russell 2000 members in one sector. Each member holds one
share at a holdings price of 100, so each is a quarter of its leg's reference weight: one
member's missing detail takes that figure's coverage to 75 %, below the 80 % bar (see
COVERAGE_MIN_PCT). Every expected figure below is worked out by hand from the served numbers.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from builders import members_frame
from capgap.cli.report import render_json
from capgap.core.clock import ManualClock
from capgap.core.schemas import CONSTITUENTS
from capgap.core.snapshot import COVERAGE_MIN_PCT, Snapshot
from capgap.engine.loop import Engine
from capgap.engine.sources import live_engine
from capgap.feeds.providers.yahoo_quote import QUOTE_PATH
from capgap.market.universe import SectorDef, Universe, load_universe
from capgap.settings.config import load_settings
from capgap.ui import app as app_module
from capgap.ui.themes import variable_defaults
from capgap.ui.widgets.breadth_panel import BreadthPanel, breadth_content
from capgap.ui.widgets.spread_panel import SpreadPanel, valuation_line
from server import LocalServer, Reply, local_server
from test_live_engine import config_for, serve_history
from test_live_fed import EFFR_BODY, EFFR_PATH
from test_yahoo_quote import answer, item, open_session
from textual.app import App, ComposeResult

__all__ = ["local_server"]

#: Tuesday 9 Dec 2025, 10:00 New York: the session is open.
OPEN = datetime(2025, 12, 9, 15, 0, tzinfo=UTC)
SECTOR = "Energy"
#: What the dashboard's valuation line and breadth panel are given to fit (every column).
WIDE = 200
DASH = "—"

#: Each member's quote as Yahoo sends it: (last, previous close, details).
LARGE: dict[str, tuple[float, float, dict[str, Any]]] = {
    "LAA": (110.0, 100.0, {"epsForward": 5.0, "epsTrailingTwelveMonths": 4.0,
                           "fiftyDayAverage": 105.0, "twoHundredDayAverage": 95.0,
                           "fiftyTwoWeekHigh": 110.0, "fiftyTwoWeekLow": 80.0,
                           "regularMarketDayHigh": 110.0, "regularMarketDayLow": 100.0,
                           "marketCap": 1.1e11}),
    "LBB": (99.0, 100.0, {"epsForward": 4.5, "epsTrailingTwelveMonths": 4.0,
                          "fiftyDayAverage": 100.0, "twoHundredDayAverage": 100.0,
                          "fiftyTwoWeekHigh": 130.0, "fiftyTwoWeekLow": 98.0,
                          "regularMarketDayHigh": 100.0, "regularMarketDayLow": 98.0,
                          "marketCap": 9.9e10}),
    "LCC": (102.0, 100.0, {"epsForward": 3.0, "epsTrailingTwelveMonths": -1.0,
                           "fiftyDayAverage": 101.0, "twoHundredDayAverage": 103.0,
                           "fiftyTwoWeekHigh": 130.0, "fiftyTwoWeekLow": 80.0,
                           "regularMarketDayHigh": 103.0, "regularMarketDayLow": 101.0,
                           "marketCap": 1.02e11}),
    "LDD": (101.0, 100.0, {"epsForward": -1.0, "epsTrailingTwelveMonths": -2.0,
                           "fiftyDayAverage": 100.0, "twoHundredDayAverage": 99.0,
                           "fiftyTwoWeekHigh": 130.0, "fiftyTwoWeekLow": 80.0,
                           "regularMarketDayHigh": 102.0, "regularMarketDayLow": 99.0,
                           "marketCap": 1.01e11}),
}  # fmt: skip
SMALL: dict[str, tuple[float, float, dict[str, Any]]] = {
    "SAA": (20.0, 20.0, {"epsForward": 1.25, "epsTrailingTwelveMonths": 1.0,
                         "fiftyDayAverage": 19.0, "twoHundredDayAverage": 18.0,
                         "fiftyTwoWeekHigh": 25.0, "fiftyTwoWeekLow": 15.0,
                         "regularMarketDayHigh": 20.5, "regularMarketDayLow": 19.5,
                         "marketCap": 2e9}),
    "SBB": (30.0, 31.0, {"epsForward": 2.0, "epsTrailingTwelveMonths": -0.5,
                         "fiftyDayAverage": 32.0, "twoHundredDayAverage": 28.0,
                         "fiftyTwoWeekHigh": 40.0, "fiftyTwoWeekLow": 25.0,
                         "regularMarketDayHigh": 31.0, "regularMarketDayLow": 29.5,
                         "marketCap": 3e9}),
    "SCC": (40.0, 38.0, {"epsForward": -0.5, "epsTrailingTwelveMonths": -1.0,
                         "fiftyDayAverage": 39.0, "twoHundredDayAverage": 45.0,
                         "fiftyTwoWeekHigh": 40.0, "fiftyTwoWeekLow": 30.0,
                         "regularMarketDayHigh": 40.0, "regularMarketDayLow": 38.0,
                         "marketCap": 4e9}),
    "SDD": (10.0, 10.0, {"epsForward": 0.5, "epsTrailingTwelveMonths": 0.2,
                         "fiftyDayAverage": 11.0, "twoHundredDayAverage": 9.0,
                         "fiftyTwoWeekHigh": 14.0, "fiftyTwoWeekLow": 8.0,
                         "regularMarketDayHigh": 10.2, "regularMarketDayLow": 9.8,
                         "marketCap": 1e9}),
}  # fmt: skip
MEMBERS = {**LARGE, **SMALL}
#: The member every fault hits (a quarter of the S&P 500 leg).
HIT = "LAA"

#: Every figure of the served numbers, by hand (one share each: a leg's value is its prices' sum).
#: Large: value 110 + 99 + 102 + 101 = 412 against 400 at the previous close: +3 %. Forward P/E
#: without LDD's negative earnings (110 + 99 + 102) / (5 + 4.5 + 3) = 311 / 12.5 = 24.88; with
#: it 412 / 11.5. Up: LAA, LCC, LDD. Above the 50-day: LAA, LCC, LDD; above the 200-day: LAA,
#: LDD. New 52-week high: LAA (day high 110 at the 52-week high); low: LBB. Negative trailing
#: earnings: LCC, LDD.
#: Small: 100 against 99: +1.0101 %. P/E without SCC (20 + 30 + 10) / (1.25 + 2 + 0.5) = 16.0;
#: with it 100 / 3.25. Up: SCC (SAA and SDD unchanged). Above the 50-day: SAA, SCC; above the
#: 200-day: SAA, SBB, SDD. New high: SCC; no new low. Negative trailing earnings: SBB, SCC.
EXPECTED: dict[str, float | int | None] = {
    "large_change_pct": 3.0,
    "large_forward_pe": 24.88,
    "large_forward_pe_incl_negative": 412 / 11.5,
    "large_unprofitable_pct": 50.0,
    "large_up_pct": 75.0,
    "large_above_50d_pct": 75.0,
    "large_above_200d_pct": 50.0,
    "large_new_highs": 1,
    "large_new_lows": 1,
    "small_change_pct": (100 / 99 - 1) * 100,
    "small_forward_pe": 16.0,
    "small_forward_pe_incl_negative": 100 / 3.25,
    "small_unprofitable_pct": 50.0,
    "small_up_pct": 25.0,
    "small_above_50d_pct": 50.0,
    "small_above_200d_pct": 75.0,
    "small_new_highs": 1,
    "small_new_lows": 0,
    "small_discount_pct": (1 - 16.0 / 24.88) * 100,
}
#: The large leg's figures that need no detail: only the members' prices.
LARGE_PRICE_FIGURES = ("large_change_pct", "large_up_pct")
LARGE_FIGURES = tuple(name for name in EXPECTED if name.startswith("large_"))
#: The figures the headline P/E feeds (the discount is small against large).
LARGE_PE = ("large_forward_pe", "large_forward_pe_incl_negative", "small_discount_pct")

#: 2999-01-04 15:00 UTC: a time from the future.
YEAR_2999 = int(datetime(2999, 1, 4, 15, 0, tzinfo=UTC).timestamp())


def test_one_member_is_what_takes_a_figure_below_the_coverage_bar():
    # The rig's premise: three of four equal members cover 75 %, under the bar; four cover it.
    assert 75.0 < COVERAGE_MIN_PCT <= 100.0


def universe() -> Universe:
    """The shipped benchmarks, one sector without funds, and the eight members (equal shares)."""
    members = [(symbol, f"{symbol} Corp", SECTOR, "large") for symbol in LARGE]
    members += [(symbol, f"{symbol} Inc", SECTOR, "small") for symbol in SMALL]
    return Universe(
        benchmarks=load_universe().benchmarks,
        sectors=(SectorDef(SECTOR, "cyclical", None, None),),
        names={},
        constituents=members_frame(members, shares=1.0, ref_price=100.0),
    )


def member_item(symbol: str, at: int, **changes: Any) -> dict[str, Any]:
    """A member's quote as Yahoo sends it at ``at``; ``changes`` replace its fields."""
    last, prev_close, details = MEMBERS[symbol]
    served = {"postMarketPrice": last, "postMarketTime": at - 60, **details} | changes
    return item(symbol, last, time=at, prev_close=prev_close, **served)


def reply(
    at: int, *, leave_out: str | None = None, faults: dict[str, dict[str, Any]] | None = None
) -> Reply:
    """Both indices and every member but ``leave_out``; ``faults`` maps a member to its changes."""
    faults = faults or {}
    rows = [
        item("^GSPC", 6870.40, time=at, prev_close=6857.12, quote_type="INDEX"),
        item("^RUT", 2521.48, time=at, prev_close=2531.16, quote_type="INDEX"),
    ]
    rows += [
        member_item(symbol, at, **faults.get(symbol, {}))
        for symbol in MEMBERS
        if symbol != leave_out
    ]
    return Reply.json(answer(*rows))


@dataclass
class Rig:
    """The live engine on a manual clock, recording to ``record``; ``stamp`` is a quote time."""

    engine: Engine
    clock: ManualClock
    server: LocalServer
    record: Path
    stamp: int

    async def poll(self) -> Snapshot:
        """Poll once, then move the clock on by the engine's delay."""
        snapshot = await self.engine.refresh()
        self.clock.advance(self.engine.next_delay_s)
        return snapshot

    def recorded(self, symbol: str, column: str) -> list[Any]:
        """The values of ``column`` recorded for ``symbol`` so far, in time order."""
        self.engine.recorder.flush()  # type: ignore[union-attr]
        files = sorted(self.record.glob("date=*/quotes-*.parquet"))
        frame = pl.read_parquet(files).filter(pl.col("symbol") == symbol).sort("time")
        return frame.get_column(column).to_list()

    def stored(self, symbol: str, column: str) -> Any:
        """The store's value of ``column`` for ``symbol``."""
        return self.engine.store.quotes.filter(pl.col("symbol") == symbol).item(0, column)


def make_rig(server: LocalServer, tmp_path: Path, watched: Universe) -> Rig:
    """A live engine on ``watched`` against ``server`` (history, session and EFFR served)."""
    open_session(server)
    serve_history(server, OPEN)
    server.add(EFFR_PATH, Reply.json(EFFR_BODY))
    settings = load_settings(Path(config_for(server, tmp_path)), environ={})
    clock = ManualClock(OPEN)
    record = tmp_path / "rec"
    engine = live_engine(settings, clock=clock, record_to=record, universe=watched)
    return Rig(engine, clock, server, record, int(OPEN.timestamp()) - 30)


@pytest.fixture
async def rig(local_server: LocalServer, tmp_path: Path) -> AsyncIterator[Rig]:
    made = make_rig(local_server, tmp_path, universe())
    try:
        yield made
    finally:
        await made.engine.aclose()


def figures(snapshot: Snapshot) -> dict[str, Any]:
    """The snapshot's index figures by EXPECTED's names (the analytics' own objects)."""
    assert snapshot.indices is not None
    out: dict[str, Any] = {}
    for bucket in ("large", "small"):
        leg = getattr(snapshot.indices, bucket)
        for name in (
            "change_pct", "forward_pe", "forward_pe_incl_negative", "unprofitable_pct", "up_pct",
            "above_50d_pct", "above_200d_pct", "new_highs", "new_lows",
        ):  # fmt: skip
            out[f"{bucket}_{name}"] = getattr(leg, name)
    out["small_discount_pct"] = snapshot.spread.valuation.small_discount_pct
    return out


def json_figures(snapshot: Snapshot) -> dict[str, Any]:
    """The same figures read back from `capgap snapshot --format json`'s text."""
    data = json.loads(render_json(snapshot))
    valuation, breadth = data["spread"]["valuation"], data["breadth"]
    (sector,) = [row for row in data["sectors"] if row["sector"] == SECTOR]
    out: dict[str, Any] = {}
    for bucket in ("large", "small"):
        leg = breadth[bucket]
        out |= {
            f"{bucket}_change_pct": sector[bucket]["change_pct"],
            f"{bucket}_forward_pe": valuation[f"{bucket}_forward_pe"],
            f"{bucket}_forward_pe_incl_negative": valuation[f"{bucket}_forward_pe_incl_negative"],
            f"{bucket}_unprofitable_pct": valuation[f"{bucket}_unprofitable_pct"],
            f"{bucket}_up_pct": leg["up_pct"],
            f"{bucket}_above_50d_pct": leg["above_50d_pct"],
            f"{bucket}_above_200d_pct": leg["above_200d_pct"],
            f"{bucket}_new_highs": leg["new_highs"],
            f"{bucket}_new_lows": leg["new_lows"],
        }
        # The sector holds every member of both legs: its P/E is the index leg's.
        assert sector[bucket]["forward_pe"] == out[f"{bucket}_forward_pe"]
        assert leg["members"] == 4
    out["small_discount_pct"] = valuation["small_discount_pct"]
    return out


def expected_with_blanks(blank: tuple[str, ...]) -> dict[str, Any]:
    return EXPECTED | dict.fromkeys(blank)


def assert_figures(snapshot: Snapshot, expected: dict[str, Any]) -> None:
    """The snapshot and its JSON hold ``expected``: None exactly where blank, no zero for it."""
    for got in (figures(snapshot), json_figures(snapshot)):
        assert set(got) == set(expected)
        for name, want in expected.items():
            if want is None:
                assert got[name] is None, name
            else:
                # The JSON rounds P/E to 2 decimals, percentages to 4.
                assert got[name] == pytest.approx(want, abs=0.006), name


def screen_text(snapshot: Snapshot) -> tuple[str, str]:
    """The valuation line and the breadth panel as the dashboard shows them (every column)."""
    assert snapshot.indices is not None
    pe = valuation_line(snapshot.spread.valuation, WIDE).plain
    breadth = breadth_content(snapshot.indices, "S&P 500", "Russell 2000", WIDE).plain
    return pe, breadth


#: The screen's lines of EXPECTED, written out by hand.
PE_LINE = (
    "Fwd P/E 24.9x / 16.0x  small -35.7%  excl. neg · incl. 35.8x / 30.8x · cov 100/100% · "
    "unprofitable 50% / 50%"
)
BREADTH_LARGE = "S&P 500            4/4   75%   75%    50%      1      1    50%"
BREADTH_SMALL = "Russell 2000       4/4   25%   50%    75%      1      0    50%"


def breadth_rows(text: str) -> list[str]:
    return text.split("\n")[1:]


# --- a detail of the wrong shape on the first poll, then the real value ----------------------

#: (Yahoo's field, the fault, the QUOTES column it lands in, the figures it blanks).
DETAIL_FAULTS = [
    pytest.param("epsForward", "5.0", "eps_forward", LARGE_PE, id="eps-forward-string"),
    pytest.param("epsForward", math.nan, "eps_forward", LARGE_PE, id="eps-forward-nan"),
    pytest.param("epsForward", None, "eps_forward", LARGE_PE, id="eps-forward-null"),
    # Earnings past any share's price are an overflow, not a P/E of 0.0x.
    pytest.param("epsForward", 1e300, "eps_forward", LARGE_PE, id="eps-forward-absurd"),
    pytest.param(
        "epsTrailingTwelveMonths",
        [4.0],
        "eps_trailing",
        ("large_unprofitable_pct",),
        id="eps-trailing-list",
    ),
    pytest.param("fiftyDayAverage", 0, "avg_50d", ("large_above_50d_pct",), id="avg-50d-zero"),
    pytest.param(
        "twoHundredDayAverage", -95.0, "avg_200d", ("large_above_200d_pct",), id="avg-200d-neg"
    ),
    pytest.param(
        "fiftyTwoWeekHigh",
        math.inf,
        "high_52w",
        ("large_new_highs",),
        id="high-52w-inf",
    ),
    # An index member weighs its fund's shares, not its market cap: no figure goes blank.
    pytest.param("marketCap", -1.1e11, "market_cap", (), id="market-cap-negative"),
    pytest.param("marketCap", 1e300, "market_cap", (), id="market-cap-absurd"),
    # No figure reads the after-hours price yet: the store and the recording hold it.
    pytest.param("postMarketTime", YEAR_2999, "post_time", (), id="post-time-future"),
]


@pytest.mark.parametrize(("field", "fault", "column", "blank"), DETAIL_FAULTS)
async def test_a_bad_detail_blanks_its_figures_and_the_next_real_value_gets_through(
    rig: Rig, field: str, fault: Any, column: str, blank: tuple[str, ...]
):
    real = member_item(HIT, rig.stamp + 10)
    rig.server.add(
        QUOTE_PATH,
        reply(rig.stamp, faults={HIT: {field: fault}}),
        reply(rig.stamp + 10),
    )
    faulty = await rig.poll()
    # A detail is no failure of the feed, and the member's price still counts.
    assert faulty.feeds[0].state == "ok"
    assert rig.stored(HIT, "last") == 110.0
    assert rig.stored(HIT, column) is None
    assert_figures(faulty, expected_with_blanks(blank))
    pe, breadth = screen_text(faulty)
    if "large_forward_pe" in blank:
        assert pe.startswith(f"Fwd P/E {DASH} / 16.0x  small {DASH}  excl. neg · incl. {DASH} /")
        assert "cov 75/100%" in pe
    if "large_above_50d_pct" in blank:
        assert breadth_rows(breadth)[0] == BREADTH_LARGE.replace(
            "  75%    50%", f"  {DASH:>3}    50%"
        )
    if not blank:
        assert (pe, breadth_rows(breadth)) == (PE_LINE, [BREADTH_LARGE, BREADTH_SMALL])

    cleared = await rig.poll()
    assert_figures(cleared, EXPECTED)
    pe, breadth = screen_text(cleared)
    assert pe == PE_LINE
    assert breadth_rows(breadth) == [BREADTH_LARGE, BREADTH_SMALL]
    moment = real[field]
    want = datetime.fromtimestamp(moment, UTC) if column == "post_time" else float(moment)
    assert rig.stored(HIT, column) == want
    # The recording holds the poll as it came (the detail blank), then the real value.
    assert rig.recorded(HIT, column) == [None, want]
    assert rig.recorded(HIT, "last") == [110.0, 110.0]


@pytest.mark.parametrize(
    ("field", "fault"),
    [("fiftyTwoWeekLow", "98"), ("regularMarketDayLow", math.nan)],
    ids=["low-52w-string", "day-low-nan"],
)
async def test_a_bad_low_blanks_the_new_lows_rather_than_counting_zero(
    rig: Rig, field: str, fault: Any
):
    # LBB is the large leg's one new 52-week low: without its low the count is unknown.
    rig.server.add(
        QUOTE_PATH, reply(rig.stamp, faults={"LBB": {field: fault}}), reply(rig.stamp + 10)
    )
    faulty = await rig.poll()
    assert_figures(faulty, expected_with_blanks(("large_new_lows",)))
    cleared = await rig.poll()
    assert_figures(cleared, EXPECTED)


# --- a fault after good values: the last known detail stays, the price moves on -------------


async def test_a_detail_fault_after_good_values_keeps_the_last_known_detail(rig: Rig):
    rig.server.add(
        QUOTE_PATH,
        reply(rig.stamp),
        # LAA rises to 120 with a broken forward EPS and 50-day average.
        reply(
            rig.stamp + 10,
            faults={HIT: {"regularMarketPrice": 120.0, "epsForward": "6.0", "fiftyDayAverage": 0}},
        ),
        # Then its real new figures: EPS 6, 50-day average 125 (above its price).
        reply(
            rig.stamp + 20,
            faults={
                HIT: {"regularMarketPrice": 120.0, "epsForward": 6.0, "fiftyDayAverage": 125.0}
            },
        ),
    )
    assert_figures(await rig.poll(), EXPECTED)

    faulty = await rig.poll()
    # The store keeps LAA's EPS 5 and average 105 (a detail the reply lacks is not erased), and
    # its new price counts: value 120 + 99 + 102 + 101 = 422, +5.5 %; P/E 321 / 12.5 = 25.68.
    assert (rig.stored(HIT, "last"), rig.stored(HIT, "eps_forward")) == (120.0, 5.0)
    assert rig.stored(HIT, "avg_50d") == 105.0
    kept = EXPECTED | {
        "large_change_pct": 5.5,
        "large_forward_pe": 321 / 12.5,
        "large_forward_pe_incl_negative": 422 / 11.5,
        "small_discount_pct": (1 - 16.0 / (321 / 12.5)) * 100,
    }
    assert_figures(faulty, kept)

    cleared = await rig.poll()
    # EPS 6: P/E 321 / 13.5; with LDD 422 / 12.5. LAA at 120 is below its 125 average now.
    assert_figures(
        cleared,
        kept
        | {
            "large_forward_pe": 321 / 13.5,
            "large_forward_pe_incl_negative": 422 / 12.5,
            "large_above_50d_pct": 50.0,
            "small_discount_pct": (1 - 16.0 / (321 / 13.5)) * 100,
        },
    )
    assert valuation_line(cleared.spread.valuation, WIDE).plain.startswith(
        "Fwd P/E 23.8x / 16.0x  small -32.7%  excl. neg · incl. 33.8x / 30.8x"
    )
    assert rig.recorded(HIT, "eps_forward") == [5.0, None, 6.0]
    assert rig.recorded(HIT, "last") == [110.0, 120.0, 120.0]


# --- a member left out, an empty reply -------------------------------------------------------


async def test_a_member_left_out_blanks_its_leg_until_it_is_back(rig: Rig):
    rig.server.add(QUOTE_PATH, reply(rig.stamp, leave_out=HIT), reply(rig.stamp + 10))
    partial = await rig.poll()
    assert partial.feeds[0].state == "ok"
    # Three of four members quoted cover 75 % of the leg: every large figure is blank, none 0.
    assert_figures(partial, expected_with_blanks((*LARGE_FIGURES, "small_discount_pct")))
    pe, breadth = screen_text(partial)
    assert pe.startswith(f"Fwd P/E {DASH} / 16.0x  small {DASH}  excl. neg · incl. {DASH} / 30.8x")
    assert breadth_rows(breadth)[0] == "S&P 500            3/4" + f"{DASH:>6}" * 2 + (
        f"{DASH:>7}" * 4
    )
    assert breadth_rows(breadth)[1] == BREADTH_SMALL

    back = await rig.poll()
    # It is asked for again, and its figures are back everywhere.
    second = [seen for seen in rig.server.seen if seen.path == QUOTE_PATH][1]
    assert HIT in second.query
    assert_figures(back, EXPECTED)
    pe, breadth = screen_text(back)
    assert (pe, breadth_rows(breadth)) == (PE_LINE, [BREADTH_LARGE, BREADTH_SMALL])
    assert rig.recorded(HIT, "eps_forward") == [5.0]


async def test_an_empty_reply_blanks_every_figure_and_the_next_reply_fills_them(rig: Rig):
    rig.server.add(
        QUOTE_PATH, Reply.json({"quoteResponse": {"result": [], "error": None}}), reply(rig.stamp)
    )
    empty_poll = await rig.poll()
    # Yahoo never answers the benchmarks with nothing: the feed failed, it does not say "ok".
    assert empty_poll.feeds[0].state != "ok"
    assert "empty" in (empty_poll.feeds[0].error or "")
    assert_figures(empty_poll, dict.fromkeys(EXPECTED))
    pe, breadth = screen_text(empty_poll)
    assert pe.startswith(f"Fwd P/E {DASH} / {DASH}  small {DASH}")
    assert [row[:22] for row in breadth_rows(breadth)] == [
        "S&P 500            0/4",
        "Russell 2000       0/4",
    ]
    assert "0%" not in breadth

    filled = await rig.poll()
    assert filled.feeds[0].state == "ok"
    assert_figures(filled, EXPECTED)
    assert rig.recorded(HIT, "eps_forward") == [5.0]


# --- the sector screen's rows ----------------------------------------------------------------


async def test_the_sector_screen_shows_a_bad_detail_blank_then_the_real_one(rig: Rig):
    from capgap.ui.format import fmt_pe
    from capgap.ui.widgets.constituents_table import average_flags

    rig.engine.focus(sector=SECTOR)
    rig.server.add(
        QUOTE_PATH,
        reply(rig.stamp, faults={HIT: {"epsForward": math.nan, "fiftyDayAverage": "105"}}),
        reply(rig.stamp + 10),
    )

    def laa(snapshot: Snapshot) -> tuple[str, str, float | None]:
        """LAA's P/E and 50/200-day cells as the constituents table writes them, its share."""
        assert snapshot.sector_detail is not None
        row = next(r for r in snapshot.sector_detail.constituents if r.symbol == HIT)
        pe, flags = fmt_pe(row.forward_pe), average_flags(row.above_50d, row.above_200d)
        return pe, flags, row.contribution_pp

    # Its price counts either way: 100 of the leg's 400 at the previous close, up 10 %, adds
    # 0.25 x 10 = 2.5 pp to the leg's change.
    assert laa(await rig.poll()) == (DASH, f"{DASH}▲", pytest.approx(2.5))
    # 110 / 5 = 22.0x; 110 is above both its averages (105, 95).
    assert laa(await rig.poll()) == ("22.0x", "▲▲", pytest.approx(2.5))


# --- a custom sector's stock weighs its market cap ------------------------------------------


async def test_a_custom_stock_with_a_bad_market_cap_is_blank_not_zero(
    local_server: LocalServer, tmp_path: Path
):
    # A config sector's stock has no fund position: its market cap is its weight, so without
    # one it cannot count, and its sector's leg is blank until a real market cap comes.
    custom = pl.DataFrame(
        [("CUS", "Custom Co", "Mine", "large", None, None, None)],
        schema=CONSTITUENTS,
        orient="row",
    )
    base = universe()
    watched = Universe(
        benchmarks=base.benchmarks,
        sectors=(*base.sectors, SectorDef("Mine", "cyclical", None, None)),
        names={},
        constituents=pl.concat([base.constituents, custom]),
    )
    rig = make_rig(local_server, tmp_path, watched)

    def with_custom(at: int, cap: Any) -> Reply:
        body = json.loads(reply(at).body)
        body["quoteResponse"]["result"].append(
            item("CUS", 50.0, time=at, prev_close=40.0, marketCap=cap, epsForward=2.5)
        )
        return Reply.json(body)

    def mine(snapshot: Snapshot) -> dict[str, Any]:
        data = json.loads(render_json(snapshot))
        return next(row for row in data["sectors"] if row["sector"] == "Mine")["large"]

    local_server.add(QUOTE_PATH, with_custom(rig.stamp, -2e9), with_custom(rig.stamp + 10, 2e9))
    try:
        faulty = await rig.poll()
        blank = mine(faulty)
        assert (blank["members"], blank["change_pct"], blank["forward_pe"]) == (1, None, None)
        # The index legs do not hold it: their figures are untouched.
        assert_figures(faulty, EXPECTED)
        cleared = mine(await rig.poll())
        # 50 against 40: +25 %; P/E 50 / 2.5 = 20.
        assert (cleared["change_pct"], cleared["forward_pe"]) == (25.0, 20.0)
        assert rig.recorded("CUS", "market_cap") == [None, 2e9]
    finally:
        await rig.engine.aclose()


# --- the panels on screen ---------------------------------------------------------------------


class Panels(App[None]):
    """The dashboard's spread and breadth panels alone, fed the engine's snapshots."""

    CSS_PATH = str(Path(app_module.__file__).parent / "styles" / "app.tcss")

    def get_theme_variable_defaults(self) -> dict[str, str]:
        # capgap's own colours ($gap-warn for the badges and states), as CapgapApp gives them.
        return variable_defaults(self.current_theme)

    def compose(self) -> ComposeResult:
        yield SpreadPanel()
        yield BreadthPanel()

    def apply(self, snapshot: Snapshot) -> None:
        self.query_one(SpreadPanel).apply(snapshot.spread)
        self.query_one(BreadthPanel).apply(snapshot.indices, "S&P 500", "Russell 2000")

    def text(self) -> str:
        """Every row of the screen, as a terminal shows it."""
        return "\n".join(strip.text for strip in self.screen._compositor.render_strips())


async def test_the_panels_show_the_blank_then_the_real_figures(rig: Rig):
    # The panels repaint only when their text changes: the cleared figures must get through.
    rig.server.add(
        QUOTE_PATH,
        reply(rig.stamp, faults={HIT: {"epsForward": "5.0", "fiftyDayAverage": 0}}),
        reply(rig.stamp + 10),
    )
    faulty, cleared = await rig.poll(), await rig.poll()
    app = Panels()
    async with app.run_test(size=(120, 20)) as pilot:
        app.apply(faulty)
        await pilot.pause()
        shown = app.text()
        assert f"Fwd P/E {DASH} / 16.0x  small {DASH}" in shown
        assert BREADTH_LARGE.replace("  75%    50%", f"  {DASH:>3}    50%") in shown
        app.apply(cleared)
        await pilot.pause()
        shown = app.text()
        assert "Fwd P/E 24.9x / 16.0x  small -35.7%" in shown
        assert BREADTH_LARGE in shown and BREADTH_SMALL in shown
