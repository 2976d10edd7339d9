"""Data-shape faults in Yahoo's quote replies, end to end through the live engine and recorder.

After each fault clears, the next real value must reach the store, the snapshot and the
recording; a fault shows as the feed's state, never as "ok" over frozen figures.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from builders import MIDDAY
from capgap.core.clock import ManualClock
from capgap.core.market_types import NEW_YORK
from capgap.core.schemas import CONSTITUENTS, empty
from capgap.engine.loop import Engine
from capgap.engine.sources import live_engine
from capgap.feeds.base import SymbolError
from capgap.feeds.providers.finnhub import parse_quote
from capgap.feeds.providers.yahoo import chart_path, parse_chart
from capgap.feeds.providers.yahoo_quote import QUOTE_PATH, parse_quotes
from capgap.feeds.values import MAX_AHEAD, MAX_FACTOR
from capgap.market.universe import Universe, load_universe, vars_in_order
from capgap.settings.config import load_settings
from server import LocalServer, Reply, local_server
from test_live_engine import chart_body, config_for, daily_chart
from test_live_fed import EFFR_BODY, EFFR_PATH
from test_yahoo_quote import answer, item, open_session

__all__ = ["local_server"]

#: A watchlist stock besides the benchmarks: one batch holds the whole (small) universe.
STOCK = "AAPL"


def small_universe() -> Universe:
    """The shipped benchmarks and one watchlist stock: every poll is one quote request."""
    return Universe(
        benchmarks=load_universe().benchmarks,
        sectors=(),
        names={},
        constituents=empty(CONSTITUENTS),
        watchlists={"mine": (STOCK,)},
    )


@dataclass
class Rig:
    """A live engine on a manual clock against the local server, recording to ``record``."""

    engine: Engine
    clock: ManualClock
    server: LocalServer
    record: Path
    stamp: int

    def reply(self, *items: dict) -> Reply:
        return Reply.json(answer(*items))

    def quotes(self, large: float, small: float, stock: float | None, at: int) -> Reply:
        """A reply with both indices and, unless None, the stock, all dated ``at``."""
        rows = [
            item("^GSPC", large, time=at, prev_close=6857.12, quote_type="INDEX"),
            item("^RUT", small, time=at, prev_close=2531.16, quote_type="INDEX"),
        ]
        if stock is not None:
            rows.append(item(STOCK, stock, time=at, prev_close=230.0))
        return self.reply(*rows)

    def recorded(self, symbol: str) -> list[float]:
        """The prices of ``symbol`` in the recording so far, in time order."""
        self.engine.recorder.flush()  # type: ignore[union-attr]
        files = sorted(self.record.glob("date=*/quotes-*.parquet"))
        if not files:
            return []
        frame = pl.read_parquet(files).filter(pl.col("symbol") == symbol).sort("time")
        return frame.get_column("last").to_list()


@pytest.fixture
async def rig(local_server: LocalServer, tmp_path: Path) -> AsyncIterator[Rig]:
    clock = ManualClock(MIDDAY)
    stamp = int(clock.now().timestamp()) - 30
    open_session(local_server)
    for symbol in vars_in_order(load_universe().benchmarks):
        local_server.add(
            chart_path(symbol), Reply.json(daily_chart(symbol, [6800.0, 6857.12], clock.now()))
        )
    local_server.add(EFFR_PATH, Reply.json(EFFR_BODY))
    settings = load_settings(Path(config_for(local_server, tmp_path)), environ={})
    record = tmp_path / "rec"
    engine = live_engine(settings, clock=clock, record_to=record, universe=small_universe())
    try:
        yield Rig(engine, clock, local_server, record, stamp)
    finally:
        await engine.aclose()


# --- item 1: an empty or partial reply retires nothing for good -----------------------------


async def test_an_empty_reply_is_a_feed_failure_and_the_next_real_value_gets_through(rig: Rig):
    rig.server.add(
        QUOTE_PATH,
        rig.quotes(6870.40, 2521.48, 231.0, rig.stamp),
        Reply.json({"quoteResponse": {"result": []}}),
        rig.quotes(6880.00, 2530.00, 232.5, rig.stamp + 20),
    )
    first = await rig.engine.refresh()
    assert first.feeds[0].state == "ok"
    assert first.spread.large.last == 6870.40

    rig.clock.advance(rig.engine.next_delay_s)
    empty_poll = await rig.engine.refresh()
    yahoo = empty_poll.feeds[0]
    # Not "yahoo ok" over frozen figures: the feed failed, and waits longer than its cadence.
    assert yahoo.state != "ok"
    assert "empty" in (yahoo.error or "")
    assert empty_poll.spread.large.last == 6870.40  # the last good figure stays

    rig.clock.advance(rig.engine.next_delay_s)
    cleared = await rig.engine.refresh()
    assert cleared.feeds[0].state == "ok"
    assert cleared.spread.large.last == 6880.00
    assert cleared.spread.small.last == 2530.00
    stock = rig.engine.store.quotes.filter(pl.col("symbol") == STOCK)
    assert stock.get_column("last").to_list() == [232.5]
    assert rig.recorded("^GSPC") == [6870.40, 6880.00]
    assert rig.recorded(STOCK) == [231.0, 232.5]


async def test_a_symbol_left_out_once_is_asked_again_and_its_next_value_recorded(rig: Rig):
    rig.server.add(
        QUOTE_PATH,
        rig.quotes(6870.40, 2521.48, 231.0, rig.stamp),
        rig.quotes(6871.00, 2522.00, None, rig.stamp + 10),
        rig.quotes(6872.00, 2523.00, 233.0, rig.stamp + 20),
    )
    await rig.engine.refresh()
    rig.clock.advance(rig.engine.next_delay_s)
    partial = await rig.engine.refresh()
    assert partial.feeds[0].state == "ok"
    rig.clock.advance(rig.engine.next_delay_s)
    await rig.engine.refresh()
    # The third request still asks for the stock, and its new price reaches store and disk.
    third = [seen for seen in rig.server.seen if seen.path == QUOTE_PATH][2]
    assert STOCK in third.query
    stock = rig.engine.store.quotes.filter(pl.col("symbol") == STOCK)
    assert stock.get_column("last").to_list() == [233.0]
    assert rig.recorded(STOCK) == [231.0, 233.0]


# --- item 2: a time from the future is rejected where it is parsed --------------------------

#: 2999-01-04 15:00 UTC: a quote "from the future", as the fault injection sent it.
YEAR_2999 = int(datetime(2999, 1, 4, 15, 0, tzinfo=UTC).timestamp())


def minute_chart(symbol: str, stamps: list[int], closes: list[float]) -> dict:
    """A one-minute chart body with one bar per stamp."""
    return chart_body(symbol, stamps, closes, range="1d")


async def test_a_time_from_the_future_is_rejected_and_newer_quotes_still_replace_it(rig: Rig):
    minute = rig.stamp - rig.stamp % 60 - 60
    # ^GSPC's chart: the daily history first, then today's minutes with one bar dated 2999.
    rig.server.add(
        chart_path("^GSPC"),
        Reply.json(minute_chart("^GSPC", [minute, YEAR_2999], [6865.0, 9999.0])),
    )
    rig.server.add(
        QUOTE_PATH,
        rig.quotes(6870.40, 2521.48, 231.0, rig.stamp),
        Reply.json(
            answer(
                item("^GSPC", 9999.0, time=YEAR_2999, prev_close=6857.12, quote_type="INDEX"),
                item("^RUT", 2522.00, time=rig.stamp + 10, prev_close=2531.16),
            )
        ),
        rig.quotes(6880.00, 2530.00, 232.5, rig.stamp + 20),
    )
    first = await rig.engine.refresh()
    assert first.spread.large.last == 6870.40
    # The 2999 bar is dropped: today's bar is the session, and the session is today.
    bars = rig.engine.store.intraday.filter(pl.col("symbol") == "^GSPC")
    assert bars.get_column("close").to_list() == [6865.0]

    rig.clock.advance(rig.engine.next_delay_s)
    future = await rig.engine.refresh()
    assert future.spread.large.last == 6870.40  # the 2999 quote never replaced it
    assert future.spread.small.last == 2522.00
    problem = rig.engine.feed.problems["^GSPC"]  # type: ignore[attr-defined]
    assert problem.startswith("Yahoo sent a quote time ahead of the clock for ^GSPC: 2999-01-04")

    rig.clock.advance(rig.engine.next_delay_s)
    cleared = await rig.engine.refresh()
    assert cleared.spread.large.last == 6880.00
    assert rig.recorded("^GSPC") == [6870.40, 6880.00]
    # Nothing dated 2999 was recorded: no partition for a day after today.
    assert [path.name for path in rig.record.glob("date=*")] == [
        f"date={rig.clock.now().astimezone(NEW_YORK).date()}"
    ]


NOW = datetime(2025, 12, 5, 15, 0, tzinfo=UTC)
_NOW_S = int(NOW.timestamp())


@pytest.mark.parametrize(
    ("ahead_s", "accepted"),
    [
        (0, True),
        (int(MAX_AHEAD.total_seconds()), True),
        (int(MAX_AHEAD.total_seconds()) + 1, False),
    ],
)
def test_every_parser_refuses_a_time_beyond_max_ahead(ahead_s: int, accepted: bool):
    at = _NOW_S + ahead_s
    message = "quote time ahead of the clock"
    batch = parse_quotes(answer(item("SPY", time=at)), ["SPY"], now=NOW)
    assert (batch.quotes.height == 1) == accepted
    assert accepted or message in batch.problems["SPY"]
    body = minute_chart("^GSPC", [at - 60, at], [6800.0, 6801.0])
    bars = parse_chart(body, "^GSPC", now=NOW).bars
    assert bars.get_column("close").to_list() == ([6800.0, 6801.0] if accepted else [6800.0])
    body["chart"]["result"][0]["meta"].update(
        regularMarketPrice=6801.0, regularMarketTime=at, previousClose=6790.0
    )
    finnhub_body = {"c": 683.29, "d": 1.0, "dp": 0.1, "h": 684.0, "l": 680.0, "o": 681.0,
                    "pc": 684.39, "t": at}  # fmt: skip
    if accepted:
        assert parse_chart(body, "^GSPC", now=NOW).quote.height == 1
        assert parse_quote(finnhub_body, "SPY", now=NOW).height == 1
    else:
        with pytest.raises(SymbolError, match=message):
            parse_chart(body, "^GSPC", now=NOW)
        with pytest.raises(SymbolError, match=message):
            parse_quote(finnhub_body, "SPY", now=NOW)


# --- item 13: absurd but finite prices ------------------------------------------------------


@pytest.mark.parametrize(
    ("last", "prev_close", "accepted"),
    [
        (6870.40, 6857.12, True),
        (6857.12 * MAX_FACTOR, 6857.12, True),
        (6857.12 / MAX_FACTOR, 6857.12, True),
        (6857.12 * MAX_FACTOR * 1.01, 6857.12, False),
        (6857.12 / MAX_FACTOR / 1.01, 6857.12, False),
        (1e308, 6857.12, False),
        (6870.40, 1e-300, False),
        # Both absurd, so their ratio is fine: the price itself is past any listed instrument.
        (1e308, 1e308, False),
    ],
)
def test_a_last_price_far_from_the_previous_close_is_a_problem(last, prev_close, accepted):
    batch = parse_quotes(answer(item("^RUT", last, prev_close=prev_close)), ["^RUT"], now=NOW)
    assert (batch.quotes.height == 1) == accepted
    assert accepted or "implausible" in batch.problems["^RUT"]
    finnhub_body = {"c": last, "d": 1.0, "dp": 0.1, "h": 1.0, "l": 1.0, "o": 1.0,
                    "pc": prev_close, "t": _NOW_S - 60}  # fmt: skip
    if accepted:
        assert parse_quote(finnhub_body, "IWM", now=NOW).height == 1
    else:
        with pytest.raises(SymbolError, match="implausible"):
            parse_quote(finnhub_body, "IWM", now=NOW)


async def test_an_absurd_price_never_reaches_screen_alerts_or_recording(rig: Rig):
    from capgap.alerts.watch import AlertMonitor
    from capgap.settings.alert_rules import SpreadCross

    rig.server.add(
        QUOTE_PATH,
        rig.quotes(6870.40, 2521.48, 231.0, rig.stamp),
        rig.quotes(6871.00, 1e308, 231.5, rig.stamp + 10),
        rig.quotes(6872.00, 2530.00, 232.0, rig.stamp + 20),
    )
    # A gap alert at +5 pp: a Russell at 1e308 would cross it at once.
    book = AlertMonitor([SpreadCross(level=5.0)])
    first = await rig.engine.refresh()
    assert book.check(first) == []
    rig.clock.advance(rig.engine.next_delay_s)
    absurd = await rig.engine.refresh()
    assert book.check(absurd) == []
    assert absurd.spread.small.last == 2521.48
    assert absurd.spread.large.last == 6871.00
    assert "implausible" in rig.engine.feed.problems["^RUT"]  # type: ignore[attr-defined]
    rig.clock.advance(rig.engine.next_delay_s)
    cleared = await rig.engine.refresh()
    assert cleared.spread.small.last == 2530.00
    assert rig.recorded("^RUT") == [2521.48, 2530.00]


async def test_a_previous_close_far_from_history_is_refused(rig: Rig):
    # The daily history says ^GSPC closed at 6857.12: a previous close over ten times that, with a
    # last price to match, is a wrong number however well the two agree.
    rig.server.add(
        QUOTE_PATH,
        rig.quotes(6870.40, 2521.48, 231.0, rig.stamp),
        Reply.json(
            answer(
                item("^GSPC", 69_300.0, time=rig.stamp + 10, prev_close=69_000.0),
                item("^RUT", 2522.00, time=rig.stamp + 10, prev_close=2531.16),
            )
        ),
        rig.quotes(6872.00, 2530.00, 232.0, rig.stamp + 20),
    )
    await rig.engine.refresh()
    rig.clock.advance(rig.engine.next_delay_s)
    far = await rig.engine.refresh()
    assert far.spread.large.last == 6870.40
    assert far.spread.small.last == 2522.00
    assert "history" in rig.engine.feed.problems["^GSPC"]  # type: ignore[attr-defined]
    rig.clock.advance(rig.engine.next_delay_s)
    cleared = await rig.engine.refresh()
    assert cleared.spread.large.last == 6872.00
    assert rig.recorded("^GSPC") == [6870.40, 6872.00]
