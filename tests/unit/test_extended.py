"""Outside the regular session: the pre/post gap of SPY and IWM, the index futures, their JSON."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from builders import members_frame, quotes_table
from capgap.analytics.build import build_snapshot
from capgap.analytics.extended import extended_change, extended_gap, extended_window
from capgap.analytics.quotes import quote_rows
from capgap.analytics.serialize import snapshot_to_dict
from capgap.analytics.store import MarketStore
from capgap.cli.report import render_table
from capgap.core.snapshot import FedSnapshot, Snapshot
from capgap.market.calendar import market_session
from capgap.market.fomc import next_decision
from capgap.market.universe import Benchmarks, Universe, load_universe

NY = ZoneInfo("America/New_York")
BENCH = Benchmarks(
    "^GSPC", "^RUT", "SPY", "IWM", "IWD", "IWF", "IWN", "IWO", "^VIX", "^TNX", "ES=F", "RTY=F"
)
UNIVERSE = Universe(
    benchmarks=BENCH,
    sectors=(),
    names={"ES=F": "E-mini S&P 500", "RTY=F": "E-mini Russell 2000"},
    constituents=members_frame([]),
)


def ny(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """An instant given by its New York wall time, in UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=NY).astimezone(UTC)


def window(now: datetime) -> tuple[str, datetime] | None:
    return extended_window(market_session(now), now)


# ------------------------------------------------------------------ the session's boundaries


@pytest.mark.parametrize(
    ("hour", "minute", "expected"),
    [
        (3, 59, None),  # overnight: no extended prices
        (4, 0, ("pre", (4, 0))),
        (9, 29, ("pre", (4, 0))),
        (9, 30, None),  # the regular session
        (15, 59, None),
        (16, 0, ("post", (16, 0))),
        (19, 59, ("post", (16, 0))),
        (20, 0, None),  # overnight again
    ],
)
def test_the_extended_window_follows_the_new_york_clock(hour, minute, expected):
    # Friday 5 December 2025, a full session.
    got = window(ny(2025, 12, 5, hour, minute))
    if expected is None:
        assert got is None
    else:
        session, (h, m) = expected
        assert got == (session, ny(2025, 12, 5, h, m))


def test_the_extended_window_in_summer_time_is_the_same_wall_clock():
    # 1 July 2025 (EDT, UTC-4): pre opens 08:00 UTC, post starts 20:00 UTC.
    assert window(datetime(2025, 7, 1, 8, 0, tzinfo=UTC)) == (
        "pre",
        datetime(2025, 7, 1, 8, 0, tzinfo=UTC),
    )
    assert window(datetime(2025, 7, 1, 7, 59, tzinfo=UTC)) is None
    assert window(datetime(2025, 7, 1, 20, 0, tzinfo=UTC))[0] == "post"  # type: ignore[index]


@pytest.mark.parametrize("day", [6, 7])  # Saturday, Sunday
def test_a_weekend_has_no_extended_session(day):
    for hour in (4, 8, 17, 19):
        assert window(ny(2025, 12, day, hour, 0)) is None


def test_a_holiday_has_no_extended_session():
    # Thanksgiving, 27 November 2025.
    assert window(ny(2025, 11, 27, 8, 0)) is None
    assert window(ny(2025, 11, 27, 17, 0)) is None


def test_an_early_close_starts_the_post_session_at_13_00():
    # Friday 28 November 2025 closes at 13:00: the post-market window starts then.
    assert window(ny(2025, 11, 28, 12, 59)) is None
    assert window(ny(2025, 11, 28, 13, 0)) == ("post", ny(2025, 11, 28, 13, 0))
    assert window(ny(2025, 11, 28, 19, 59)) == ("post", ny(2025, 11, 28, 13, 0))
    assert window(ny(2025, 11, 28, 20, 0)) is None
    assert window(ny(2025, 11, 28, 8, 0)) == ("pre", ny(2025, 11, 28, 4, 0))


# ------------------------------------------------------------------------ the figures


def test_extended_change_is_against_the_regular_close_and_refuses_stale_prices():
    since = ny(2025, 12, 5, 4, 0)
    fresh = ny(2025, 12, 5, 8, 12)
    # 682.108 / 680 - 1 = 0.0031 exactly.
    assert extended_change(680.0, 682.108, fresh, since) == pytest.approx(0.31)
    assert extended_change(680.0, 682.108, since, since) == pytest.approx(0.31)  # 04:00 counts
    # A price made at 03:59, or yesterday evening, is not today's.
    assert extended_change(680.0, 682.108, since - timedelta(minutes=1), since) is None
    assert extended_change(680.0, 682.108, ny(2025, 12, 4, 19, 0), since) is None
    # Missing pieces give no figure, never zero.
    assert extended_change(None, 682.108, fresh, since) is None
    assert extended_change(680.0, None, fresh, since) is None
    assert extended_change(680.0, 682.108, None, since) is None


def quotes(
    now: datetime,
    prices: dict[str, tuple[float, float]],
    extended: dict[str, dict[str, Any]],
) -> pl.DataFrame:
    """QUOTES rows of (last, prev_close), with pre/post details per symbol where given."""
    frame = quotes_table((s, now, last, prev, 0.0) for s, (last, prev) in prices.items())
    symbols = frame.get_column("symbol").to_list()
    columns = []
    for name in ("pre_price", "pre_time", "post_price", "post_time"):
        values = [extended.get(symbol, {}).get(name) for symbol in symbols]
        columns.append(pl.Series(name, values, dtype=frame.schema[name]))
    return frame.with_columns(columns)


PRE_NOW = ny(2025, 12, 5, 8, 15)
# Before the open Yahoo's regular price is the previous close (SPY 680, IWM 250).
PRE_PRICES = {"SPY": (680.0, 676.0), "IWM": (250.0, 248.0)}


def gap_at(now: datetime, extended: dict[str, dict[str, Any]], prices=PRE_PRICES):
    frame = quotes(now, prices, extended)
    rows = quote_rows(frame, ("SPY", "IWM"))
    return extended_gap(frame, BENCH, rows, market_session(now), now)


def test_the_pre_market_gap_is_small_minus_large_by_hand():
    gap = gap_at(
        PRE_NOW,
        {
            "SPY": {"pre_price": 682.108, "pre_time": ny(2025, 12, 5, 8, 12)},
            "IWM": {"pre_price": 251.30, "pre_time": ny(2025, 12, 5, 8, 10)},
        },
    )
    assert gap is not None and gap.session == "pre" and gap.shown
    assert gap.large == pytest.approx(0.31)  # 682.108 / 680
    assert gap.small == pytest.approx(0.52)  # 251.30 / 250
    assert gap.gap_pp == pytest.approx(0.21)
    # As fresh as the older leg.
    assert gap.as_of == ny(2025, 12, 5, 8, 10)


def test_the_post_market_gap_uses_the_post_prices_against_todays_close():
    now = ny(2025, 12, 5, 17, 30)
    gap = gap_at(
        now,
        {
            # A pre price of the morning is left alone after the close.
            "SPY": {
                "pre_price": 1.0,
                "pre_time": ny(2025, 12, 5, 8, 0),
                "post_price": 678.64,
                "post_time": ny(2025, 12, 5, 17, 29),
            },
            "IWM": {"post_price": 251.0, "post_time": ny(2025, 12, 5, 17, 28)},
        },
        prices={"SPY": (680.0, 676.0), "IWM": (250.0, 248.0)},
    )
    assert gap is not None and gap.session == "post"
    assert gap.large == pytest.approx(-0.2)  # 678.64 / 680
    assert gap.small == pytest.approx(0.4)  # 251 / 250
    assert gap.gap_pp == pytest.approx(0.6)
    assert gap.as_of == ny(2025, 12, 5, 17, 28)


def test_a_stale_pre_price_is_not_shown_as_todays():
    gap = gap_at(
        PRE_NOW,
        {
            # Yesterday's pre-market price, still in Yahoo's reply.
            "SPY": {"pre_price": 690.0, "pre_time": ny(2025, 12, 4, 9, 0)},
            "IWM": {"pre_price": 251.30, "pre_time": ny(2025, 12, 5, 8, 10)},
        },
    )
    assert gap is not None
    assert gap.large is None and gap.gap_pp is None
    assert gap.small == pytest.approx(0.52)
    assert gap.as_of == ny(2025, 12, 5, 8, 10)


def test_a_post_price_made_before_the_close_is_stale():
    gap = gap_at(
        ny(2025, 12, 5, 16, 5),
        {"SPY": {"post_price": 681.0, "post_time": ny(2025, 12, 4, 19, 59)}},
    )
    assert gap is not None and gap.session == "post"
    assert (gap.large, gap.small, gap.gap_pp, gap.as_of) == (None, None, None, None)
    assert not gap.shown


def test_missing_fields_and_a_missing_quote_leave_blanks():
    # No pre fields at all (another provider), then IWM without any quote.
    gap = gap_at(PRE_NOW, {})
    assert gap is not None and not gap.shown and gap.as_of is None
    gap = gap_at(
        PRE_NOW,
        {"SPY": {"pre_price": 682.108, "pre_time": ny(2025, 12, 5, 8, 12)}},
        prices={"SPY": (680.0, 676.0)},
    )
    assert gap is not None
    assert gap.large == pytest.approx(0.31) and gap.small is None and gap.gap_pp is None


def test_no_extended_gap_in_the_regular_session_or_overnight():
    fresh = {"SPY": {"pre_price": 682.0, "pre_time": ny(2025, 12, 5, 8, 12)}}
    assert gap_at(ny(2025, 12, 5, 11, 0), fresh) is None
    assert gap_at(ny(2025, 12, 5, 21, 0), fresh) is None
    assert gap_at(ny(2025, 12, 6, 8, 15), fresh) is None  # Saturday


# ------------------------------------------------------------------ snapshot and its JSON


def snapshot_json(now: datetime, frame: pl.DataFrame) -> dict[str, Any]:
    return snapshot_to_dict(snapshot_at(now, frame))


def snapshot_at(now: datetime, frame: pl.DataFrame) -> Snapshot:
    store = MarketStore()
    store.apply_quotes(frame)
    return build_snapshot(
        store,
        UNIVERSE,
        now=now,
        source="test",
        demo=False,
        market=market_session(now),
        fed=FedSnapshot(next_decision(now), (3.75, 4.0), "test"),
    )


FUTURES = {"ES=F": (6870.25, 6849.75), "RTY=F": (2540.0, 2527.3)}


def test_the_json_names_the_extended_gap_and_the_futures():
    frame = quotes(
        PRE_NOW,
        {**PRE_PRICES, **FUTURES},
        {
            "SPY": {"pre_price": 682.108, "pre_time": ny(2025, 12, 5, 8, 12)},
            "IWM": {"pre_price": 251.30, "pre_time": ny(2025, 12, 5, 8, 10)},
        },
    )
    data = snapshot_json(PRE_NOW, frame)
    assert data["spread"]["extended"] == {
        "session": "pre",
        "large": 0.31,
        "small": 0.52,
        "gap_pp": 0.21,
        "as_of": "2025-12-05T13:10:00+00:00",
    }
    # 6870.25 / 6849.75 - 1 = 0.29928...%; 2540 / 2527.3 - 1 = 0.50251...%.
    assert data["futures"] == {
        "large": {"symbol": "ES=F", "last": 6870.25, "change_pct": 0.2993},
        "small": {"symbol": "RTY=F", "last": 2540.0, "change_pct": 0.5025},
    }


def test_the_json_extended_gap_is_null_in_the_session_and_futures_blank_unquoted():
    now = ny(2025, 12, 5, 11, 0)
    data = snapshot_json(now, quotes(now, PRE_PRICES, {}))
    assert data["spread"]["extended"] is None
    assert data["futures"] == {
        "large": {"symbol": "ES=F", "last": None, "change_pct": None},
        "small": {"symbol": "RTY=F", "last": None, "change_pct": None},
    }


def test_the_futures_are_core_symbols_of_the_shipped_universe():
    universe = load_universe()
    assert (universe.benchmarks.large_future, universe.benchmarks.small_future) == (
        "ES=F",
        "RTY=F",
    )
    assert {"ES=F", "RTY=F"} <= set(universe.core_symbols())


def test_the_table_shows_the_extended_gap_and_the_futures_outside_the_session():
    extended = {
        "SPY": {"pre_price": 682.108, "pre_time": ny(2025, 12, 5, 8, 12)},
        "IWM": {"pre_price": 251.30, "pre_time": ny(2025, 12, 5, 8, 10)},
    }
    table = render_table(snapshot_at(PRE_NOW, quotes(PRE_NOW, {**PRE_PRICES, **FUTURES}, extended)))
    lines = table.splitlines()
    assert "pre 08:10 ET  SPY +0.31%  IWM +0.52%  gap +0.21 pp" in lines
    assert "futures       ES=F        6,870.25    +0.30" in lines
    assert "futures       RTY=F       2,540.00    +0.50" in lines
    # In the regular session neither line is there.
    now = ny(2025, 12, 5, 11, 0)
    table = render_table(snapshot_at(now, quotes(now, {**PRE_PRICES, **FUTURES}, extended)))
    assert "gap +0.21 pp" not in table and "ES=F" not in table
