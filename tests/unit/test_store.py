"""MarketStore: quote upserts, session bars, daily history, bounds, versions and the memo."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from builders import bars_frame as bars
from builders import daily_frame as daily
from builders import quotes_frame as quotes
from capgap.analytics.store import MarketStore
from capgap.core.schemas import QUOTES
from hypothesis import given, settings
from hypothesis import strategies as st

T0 = datetime(2025, 12, 5, 15, 0, tzinfo=UTC)


def as_dict(store: MarketStore) -> dict[str, tuple[datetime, float, float]]:
    return {
        symbol: (moment, last, prev)
        for symbol, moment, last, prev in store.quotes.select(
            "symbol", "time", "last", "prev_close"
        ).iter_rows()
    }


# ------------------------------------------------------------------------------------ quotes


def test_newer_quote_replaces_and_older_never_does() -> None:
    store = MarketStore()
    assert store.apply_quotes(quotes([("A", T0, 10.0, 9.0), ("B", T0, 20.0, 21.0)]))
    # A arrives older (ignored), B newer (taken), C new.
    later = T0 + timedelta(seconds=5)
    earlier = T0 - timedelta(seconds=5)
    assert store.apply_quotes(
        quotes([("A", earlier, 99.0, 9.0), ("B", later, 22.0, 21.0), ("C", T0, 5.0, 4.0)])
    )
    assert as_dict(store) == {
        "A": (T0, 10.0, 9.0),
        "B": (later, 22.0, 21.0),
        "C": (T0, 5.0, 4.0),
    }
    assert store.quotes.height == 3


def test_equal_time_takes_the_row_received_last() -> None:
    store = MarketStore()
    store.apply_quotes(quotes([("A", T0, 10.0, 9.0)]))
    store.apply_quotes(quotes([("A", T0, 11.0, 9.0)]))
    assert as_dict(store)["A"] == (T0, 11.0, 9.0)
    # Duplicates inside one frame: the later row of the frame wins on a tie.
    store.apply_quotes(quotes([("A", T0, 12.0, 9.0), ("A", T0, 13.0, 9.0)]))
    assert as_dict(store)["A"] == (T0, 13.0, 9.0)


@pytest.mark.parametrize(
    "last, prev",
    [
        (math.nan, 9.0),
        (math.inf, 9.0),
        (-math.inf, 9.0),
        (0.0, 9.0),
        (-1.0, 9.0),
        (None, 9.0),
        (10.0, math.nan),
        (10.0, 0.0),
        (10.0, None),
        (10.0, math.inf),
    ],
)
def test_invalid_prices_are_dropped_on_both_paths(last: float | None, prev: float | None) -> None:
    store = MarketStore()
    # First frame (general path): the bad row for B is dropped, A kept.
    store.apply_quotes(quotes([("A", T0, 10.0, 9.0), ("B", T0, last, prev)]))
    assert as_dict(store) == {"A": (T0, 10.0, 9.0)}
    # Aligned path: same symbols in the same order, newer time, bad price: the old row stays.
    later = T0 + timedelta(seconds=1)
    assert not store.apply_quotes(quotes([("A", later, last, prev)]))
    assert as_dict(store) == {"A": (T0, 10.0, 9.0)}


def test_null_time_is_dropped_on_both_paths() -> None:
    store = MarketStore()
    store.apply_quotes(quotes([("A", T0, 10.0, 9.0), ("B", None, 10.0, 9.0)]))
    assert list(as_dict(store)) == ["A"]
    assert not store.apply_quotes(quotes([("A", None, 11.0, 9.0)]))
    assert as_dict(store)["A"] == (T0, 10.0, 9.0)


def test_versions_move_only_when_content_changes() -> None:
    store = MarketStore()
    frame = quotes([("A", T0, 10.0, 9.0), ("B", T0, 20.0, 21.0)])
    assert (store.quotes_version, store.quotes_layout_version) == (0, 0)
    store.apply_quotes(frame)
    assert (store.quotes_version, store.quotes_layout_version) == (1, 1)
    assert not store.apply_quotes(frame)  # the same frame again changes nothing
    assert (store.quotes_version, store.quotes_layout_version) == (1, 1)
    later = T0 + timedelta(seconds=1)
    store.apply_quotes(quotes([("A", later, 10.5, 9.0), ("B", later, 20.5, 21.0)]))
    # New values, same symbols in the same order: content version only.
    assert (store.quotes_version, store.quotes_layout_version) == (2, 1)
    assert not store.apply_quotes(quotes([("B", later, 20.5, 21.0), ("A", later, 10.5, 9.0)]))
    # Same content in another order: nothing changed, and the stored layout stays.
    assert (store.quotes_version, store.quotes_layout_version) == (2, 1)
    assert store.quotes.get_column("symbol").to_list() == ["A", "B"]


def test_stored_symbols_keep_their_rows_and_new_ones_follow() -> None:
    # A rolling refresh delivers another slice each poll: positions into the store must hold.
    store = MarketStore()
    store.apply_quotes(quotes([("A", T0, 1.0, 1.0), ("B", T0, 2.0, 2.0), ("C", T0, 3.0, 3.0)]))
    later = T0 + timedelta(seconds=1)
    store.apply_quotes(quotes([("C", later, 3.5, 3.0), ("E", later, 5.0, 5.0)]))
    store.apply_quotes(quotes([("D", later, 4.0, 4.0), ("A", later, 1.5, 1.0)]))
    assert store.quotes.get_column("symbol").to_list() == ["A", "B", "C", "E", "D"]
    layout = store.quotes_layout_version
    store.apply_quotes(quotes([("B", later, 2.5, 2.0), ("D", later, 4.5, 4.0)]))
    assert store.quotes_layout_version == layout


def test_a_detail_a_newer_quote_lacks_keeps_its_last_known_value() -> None:
    # A chart quote carries no fundamentals: the batch quote's EPS must not vanish with it.
    store = MarketStore()
    detailed = quotes([("A", T0, 10.0, 9.0), ("B", T0, 20.0, 19.0)]).with_columns(
        eps_forward=pl.Series([2.0, -1.0]), avg_50d=pl.Series([9.5, None])
    )
    store.apply_quotes(detailed)
    later = T0 + timedelta(seconds=1)
    # Aligned (same symbols, same order) and general (one symbol) paths alike.
    store.apply_quotes(quotes([("A", later, 10.5, 9.0), ("B", later, 20.5, 19.0)]))
    store.apply_quotes(quotes([("A", later + timedelta(seconds=1), 11.0, 9.0)]))
    rows = store.quotes.select("symbol", "last", "eps_forward", "avg_50d").rows()
    assert rows == [("A", 11.0, 2.0, 9.5), ("B", 20.5, -1.0, None)]
    newer = quotes([("B", later + timedelta(seconds=2), 21.0, 19.0)]).with_columns(
        eps_forward=pl.lit(-0.5)
    )
    store.apply_quotes(newer)
    assert store.quotes.filter(pl.col("symbol") == "B")["eps_forward"].item() == -0.5


def test_a_poll_of_some_stored_symbols_brings_details_never_known_before() -> None:
    # The pre-market price is unknown for every stored symbol; a live poll of a slice knows it
    # for one of them: it must be written, and the others' stay unknown.
    store = MarketStore()
    store.apply_quotes(quotes([("A", T0, 10.0, 9.0), ("B", T0, 20.0, 19.0), ("C", T0, 3.0, 3.0)]))
    later = T0 + timedelta(seconds=1)
    poll = quotes([("C", later, 3.5, 3.0), ("A", later, 10.5, 9.0)]).with_columns(
        pre_price=pl.Series([3.4, None]), eps_forward=pl.Series([None, None], dtype=pl.Float64)
    )
    assert store.apply_quotes(poll)
    rows = store.quotes.select("symbol", "last", "pre_price", "eps_forward").rows()
    assert rows == [("A", 10.5, None, None), ("B", 20.0, None, None), ("C", 3.5, 3.4, None)]


def test_empty_or_all_invalid_frames_change_nothing() -> None:
    store = MarketStore()
    assert not store.apply_quotes(quotes([]))
    assert not store.apply_quotes(quotes([("A", T0, math.nan, 1.0)]))
    assert store.quotes.height == 0
    assert store.quotes_version == 0


def test_frames_are_conformed_to_the_schema() -> None:
    store = MarketStore()
    loose = pl.DataFrame(
        {
            "extra": [1],
            "volume": [5],  # an int column is cast to Float64
            "prev_close": [9.0],
            "last": [10.0],
            "time": [T0],
            "symbol": ["A"],
        }
    )
    store.apply_quotes(loose)
    assert store.quotes.schema == QUOTES
    assert as_dict(store) == {"A": (T0, 10.0, 9.0)}


# A small alphabet and few distinct times make collisions (ties, older rows) frequent.
_SYMBOLS = st.sampled_from(["A", "B", "C", "D", "E"])
_TIMES = st.integers(min_value=0, max_value=4).map(lambda s: T0 + timedelta(seconds=s))
_PRICE = st.one_of(
    st.floats(min_value=0.01, max_value=1e6),
    st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -5.0]),
    st.none(),
)
_ROW = st.tuples(_SYMBOLS, st.one_of(_TIMES, st.none()), _PRICE, _PRICE)


@st.composite
def _frames(
    draw: st.DrawFn,
) -> list[tuple[bool, list[tuple[str, datetime | None, float | None, float | None]]]]:
    # (aligned, rows): an aligned frame reuses the stored symbol order to hit the fast path.
    return draw(
        st.lists(
            st.tuples(st.booleans(), st.lists(_ROW, max_size=8)),
            min_size=1,
            max_size=8,
        )
    )


def _valid(value: float | None) -> bool:
    return value is not None and math.isfinite(value) and value > 0


@settings(max_examples=300, deadline=None)
@given(_frames())
def test_store_matches_a_plain_python_model(
    frames: list[tuple[bool, list[tuple[str, datetime | None, float | None, float | None]]]],
) -> None:
    store = MarketStore()
    model: dict[str, tuple[datetime, float, float]] = {}
    last_version = 0
    for aligned, rows in frames:
        if aligned and store.quotes.height:
            # Rebuild the rows in the stored order, one per stored symbol.
            symbols = store.quotes.get_column("symbol").to_list()
            rows = [
                (symbol, *rows[i % len(rows)][1:]) if rows else (symbol, None, None, None)
                for i, symbol in enumerate(symbols)
            ]
        store.apply_quotes(quotes(rows))
        for symbol, moment, last, prev in rows:
            if moment is None or not _valid(last) or not _valid(prev):
                continue
            assert last is not None and prev is not None
            if symbol not in model or moment >= model[symbol][0]:
                model[symbol] = (moment, last, prev)
        assert as_dict(store) == model
        assert store.quotes.get_column("symbol").is_unique().all()
        assert store.quotes_version >= last_version
        last_version = store.quotes_version


_DETAIL = st.one_of(st.none(), st.sampled_from([-2.0, 0.5, 3.0]))
_POLL_ROW = st.tuples(st.one_of(_TIMES, st.none()), _PRICE, _PRICE, _DETAIL, _DETAIL)


def _detailed(rows: Sequence[tuple[str, datetime | None, Any, Any, Any, Any]]) -> pl.DataFrame:
    frame = quotes([(symbol, moment, last, prev) for symbol, moment, last, prev, *_ in rows])
    return frame.with_columns(
        eps_forward=pl.Series([row[4] for row in rows], dtype=pl.Float64),
        avg_50d=pl.Series([row[5] for row in rows], dtype=pl.Float64),
    )


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_POLL_ROW, min_size=5, max_size=5),
    st.lists(st.tuples(st.permutations(["A", "B", "C", "D", "E"]), st.integers(1, 5)), max_size=4),
    st.data(),
)
def test_a_poll_of_stored_symbols_merges_as_the_general_path_does(
    first: list[tuple[datetime | None, Any, Any, Any, Any]],
    polls: list[tuple[list[str], int]],
    data: st.DataObject,
) -> None:
    # A live poll quotes a slice of the stored symbols, each once: it is written in place.
    # The general merge (sort, newest row per symbol, newest known detail) is the reference.
    store = MarketStore()
    # Stored at T0 + 2 s: the polls' rows come older, as old and newer.
    middle = T0 + timedelta(seconds=2)
    start = [(s, middle, 10.0, 9.0, *row[3:]) for s, row in zip("ABCDE", first, strict=True)]
    store.apply_quotes(_detailed(start))
    for order, size in polls:
        rows = [(symbol, *data.draw(_POLL_ROW)) for symbol in order[:size]]
        old, frame = store.quotes, _detailed(rows)
        expected = MarketStore._merge_general(old, frame)
        store.apply_quotes(frame)
        assert store.quotes.equals(old if expected is None else expected)
        assert store.quotes.get_column("symbol").to_list() == ["A", "B", "C", "D", "E"]


# ---------------------------------------------------------------------------------- intraday


def test_intraday_dedupes_sorts_and_keeps_the_latest_received() -> None:
    store = MarketStore()
    t1, t2 = T0, T0 + timedelta(minutes=1)
    store.apply_intraday(bars([("B", t2, 2.0), ("A", t2, 1.5), ("A", t1, 1.0)]))
    store.apply_intraday(bars([("A", t2, 1.7), ("B", t1, 2.5)]))
    got = store.intraday.select("symbol", "time", "close").rows()
    # Sorted by time, then symbol.
    assert got == [("A", t1, 1.0), ("B", t1, 2.5), ("A", t2, 1.7), ("B", t2, 2.0)]
    assert store.intraday_version == 2


def test_intraday_drops_an_older_session_by_new_york_date() -> None:
    store = MarketStore()
    # 01:00 UTC on Dec 6 is 20:00 on Dec 5 in New York: the same session day.
    friday = datetime(2025, 12, 5, 20, 59, tzinfo=UTC)
    late = datetime(2025, 12, 6, 1, 0, tzinfo=UTC)
    store.apply_intraday(bars([("A", friday, 1.0), ("B", late, 2.0)]))
    assert store.intraday.height == 2
    monday = datetime(2025, 12, 8, 14, 30, tzinfo=UTC)
    store.apply_intraday(bars([("A", monday, 3.0)]))
    assert store.intraday.select("symbol", "time", "close").rows() == [("A", monday, 3.0)]
    # A late bar of the old session does not bring the old day back.
    assert not store.apply_intraday(bars([("B", friday, 9.0)]))
    assert store.intraday.height == 1


def test_intraday_is_capped_per_symbol_keeping_the_newest() -> None:
    store = MarketStore(max_bars_per_symbol=5)
    store.apply_intraday(
        bars([("A", T0 + timedelta(minutes=i), float(i + 1)) for i in range(12)] + [("B", T0, 1.0)])
    )
    closes = store.intraday.filter(pl.col("symbol") == "A").get_column("close").to_list()
    assert closes == [8.0, 9.0, 10.0, 11.0, 12.0]
    assert store.intraday.filter(pl.col("symbol") == "B").height == 1


_NY_DAYS = [
    datetime(2025, 12, 5, 14, 30, tzinfo=UTC),  # Friday 09:30 in New York
    datetime(2025, 12, 6, 0, 30, tzinfo=UTC),  # still Friday (19:30) in New York
    datetime(2025, 12, 8, 14, 30, tzinfo=UTC),  # Monday
]
_BAR = st.tuples(
    _SYMBOLS,
    st.sampled_from(_NY_DAYS),
    st.integers(0, 8),
    st.one_of(st.floats(0.5, 100.0), st.just(math.nan), st.just(-1.0)),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(_BAR, max_size=12), min_size=1, max_size=6), st.integers(1, 6))
def test_intraday_matches_a_plain_python_model(
    batches: list[list[tuple[str, datetime, int, float]]], bound: int
) -> None:
    store = MarketStore(max_bars_per_symbol=bound)
    new_york = ZoneInfo("America/New_York")
    model: dict[tuple[str, datetime], float] = {}
    session: date | None = None
    for batch in batches:
        rows = [(s, base + timedelta(minutes=m), c) for s, base, m, c in batch]
        store.apply_intraday(bars(rows))
        valid = [(s, t, c) for s, t, c in rows if math.isfinite(c) and c > 0]
        if not valid:
            continue
        newest = max(t.astimezone(new_york).date() for _, t, _ in valid)
        if session is None or newest > session:
            session, model = newest, {}
        for symbol, moment, close in valid:
            if moment.astimezone(new_york).date() == session:
                model[(symbol, moment)] = close  # the row received last wins
        for symbol in {s for s, _ in model}:  # keep each symbol's newest `bound` bars
            times = sorted(t for s, t in model if s == symbol)
            for moment in times[:-bound]:
                del model[(symbol, moment)]
        expected = sorted(((t, s, c) for (s, t), c in model.items()), key=lambda r: (r[0], r[1]))
        got = store.intraday.select("time", "symbol", "close").rows()
        assert got == expected


def test_intraday_drops_invalid_closes() -> None:
    store = MarketStore()
    assert not store.apply_intraday(bars([("A", T0, math.nan), ("A", T0, -1.0)]))
    assert store.intraday.height == 0


# ------------------------------------------------------------------------------------- daily


def test_daily_dedupes_by_symbol_and_date_keeping_the_latest_received() -> None:
    store = MarketStore()
    d1, d2 = date(2025, 12, 3), date(2025, 12, 4)
    assert store.apply_daily(daily([("A", d2, 2.0), ("A", d1, 1.0)]))
    assert store.apply_daily(daily([("A", d2, 2.2)]))
    # Duplicates inside one frame: the later row wins.
    assert store.apply_daily(daily([("A", d1, 0.9), ("A", d1, 1.0), ("A", d1, 1.1)]))
    assert store.daily.select("symbol", "date", "close").rows() == [("A", d1, 1.1), ("A", d2, 2.2)]
    version = store.daily_version
    assert not store.apply_daily(daily([("A", d2, 2.2)]))  # nothing new
    assert store.daily_version == version


def test_daily_is_bounded_per_symbol() -> None:
    store = MarketStore(max_daily_sessions=10)
    start = date(2025, 1, 1)
    rows = [(symbol, start + timedelta(days=i), 1.0 + i) for symbol in "AB" for i in range(25)]
    store.apply_daily(daily(rows))
    for symbol in "AB":
        kept = store.daily.filter(pl.col("symbol") == symbol).get_column("date").to_list()
        assert kept == [start + timedelta(days=i) for i in range(15, 25)]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(st.tuples(_SYMBOLS, st.integers(0, 40), st.floats(0.5, 100.0)), max_size=30),
        max_size=5,
    ),
    st.integers(1, 12),
)
def test_bounded_sizes_hold_for_any_sequence(
    batches: list[list[tuple[str, int, float]]], bound: int
) -> None:
    store = MarketStore(max_bars_per_symbol=bound, max_daily_sessions=bound)
    start = date(2025, 1, 1)
    for batch in batches:
        store.apply_daily(daily([(s, start + timedelta(days=d), c) for s, d, c in batch]))
        store.apply_intraday(bars([(s, T0 + timedelta(minutes=d), c) for s, d, c in batch]))
    for frame, order in ((store.daily, ["symbol", "date"]), (store.intraday, ["time", "symbol"])):
        if frame.height:
            assert frame.group_by("symbol").len().get_column("len").max() <= bound  # type: ignore[operator]
            assert frame.select(pl.struct(order).is_unique().all()).item()
            assert frame.equals(frame.sort(order))


# -------------------------------------------------------------------------------------- memo


def test_memo_recomputes_only_for_a_new_key() -> None:
    store = MarketStore()
    calls: list[int] = []

    def compute(value: int) -> int:
        calls.append(value)
        return value * 10

    assert store.memo("x", 1, lambda: compute(1)) == 10
    assert store.memo("x", 1, lambda: compute(99)) == 10
    assert store.memo("x", 2, lambda: compute(2)) == 20
    assert store.memo("y", 2, lambda: compute(3)) == 30
    assert calls == [1, 2, 3]


def test_bounds_must_be_positive() -> None:
    with pytest.raises(ValueError):
        MarketStore(max_bars_per_symbol=0)
