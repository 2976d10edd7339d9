"""The Fed panel's numbers: ZQ quotes in the store, through FedWatch, into the snapshot."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from builders import quotes_frame, store_with_quotes
from capgap.analytics.fed import FedInputs, fed_snapshot, futures_symbols
from capgap.analytics.store import MarketStore
from capgap.market.fomc import default_schedule
from capgap.market.zq import default_naming

NOW = datetime(2025, 12, 5, 21, 0, tzinfo=UTC)  # Fri 16:00 New York
EFFR = 3.89
# Dec 10 meeting: N = 31, M = 9. An 87 % chance of a 25 bp cut: end = 3.89 - 0.87 * 0.25.
DEC_END = EFFR - 0.87 * 0.25
DEC_PRICE = 100 - (9 / 31 * EFFR + 22 / 31 * DEC_END)


def store_with(prices: dict[str, float], at: datetime = NOW - timedelta(minutes=5)) -> MarketStore:
    return store_with_quotes(quotes_frame((s, at, price, price) for s, price in prices.items()))


def inputs(**overrides: object) -> FedInputs:
    base: dict[str, object] = {
        "target_range": (3.75, 4.0),
        "target_source": "sample",
        "effr": EFFR,
        "futures_label": "sample ZQ",
        "manual_prices": {},
    }
    base.update(overrides)
    return FedInputs(**base)  # type: ignore[arg-type]


def build(store: MarketStore, **overrides: object):
    return fed_snapshot(
        store,
        now=NOW,
        schedule=default_schedule(),
        naming=default_naming(),
        inputs=inputs(**overrides),
    )


def test_single_month_contracts_price_the_december_meeting():
    fed = build(store_with({"ZQX25.CBT": 100 - EFFR, "ZQZ25.CBT": DEC_PRICE}))
    assert fed.futures_source == "sample ZQ"
    first = fed.probabilities[0]
    assert first.meeting == date(2025, 12, 10) and first.sep
    assert first.cut_pct == pytest.approx(87.0, abs=1e-6)
    assert first.hold_pct == pytest.approx(13.0, abs=1e-6)
    assert first.implied_rate == pytest.approx(DEC_END, abs=1e-9)
    assert [(o.target_range, round(o.probability_pct, 6)) for o in first.outcomes] == [
        ((3.5, 3.75), 87.0),
        ((3.75, 4.0), 13.0),
    ]
    assert [p.symbol for p in fed.futures] == ["ZQX25.CBT", "ZQZ25.CBT"]
    assert fed.futures[1].age_s == 300 and fed.futures[1].implied_rate == pytest.approx(
        100 - DEC_PRICE
    )
    assert fed.fedwatch_error is None
    assert fed.next_decision is not None and fed.next_decision.date == date(2025, 12, 10)


def test_the_front_contract_stands_in_for_the_current_month_and_says_so():
    fed = build(store_with({"ZQ=F": DEC_PRICE}))
    # Without the November contract the published EFFR is the start (rule 2).
    assert fed.probabilities[0].cut_pct == pytest.approx(87.0, abs=1e-6)
    assert fed.futures_source == "sample ZQ ZQ=F, front month only"
    assert [p.symbol for p in fed.futures] == ["ZQ=F"]


def test_manual_prices_from_the_config_win_and_are_labelled():
    store = store_with({"ZQX25.CBT": 100 - EFFR, "ZQZ25.CBT": 99.0})
    fed = build(store, manual_prices={(2025, 12): DEC_PRICE})
    assert fed.probabilities[0].cut_pct == pytest.approx(87.0, abs=1e-6)
    assert fed.futures_source == "config (manual prices) + sample ZQ"
    assert [p.symbol for p in fed.futures] == ["ZQX25.CBT", "manual"]


def test_no_prices_is_a_visible_reason_not_a_crash():
    fed = build(MarketStore())
    assert fed.probabilities == ()
    assert fed.fedwatch_error == "no Fed funds futures prices"
    assert fed.target_range == (3.75, 4.0)


def test_a_gap_in_the_chain_prices_what_it_can_and_names_the_missing_month():
    # Only December is quoted and there is no EFFR: nothing anchors the December start.
    fed = build(store_with({"ZQZ25.CBT": DEC_PRICE}), effr=None)
    assert fed.probabilities == ()
    assert fed.fedwatch_error is not None and "Nov 2025" in fed.fedwatch_error


def test_futures_symbols_cover_last_month_to_after_the_last_meeting():
    symbols = futures_symbols(NOW, default_schedule(), default_naming())
    assert symbols[0] == "ZQX25.CBT"  # November 2025: the anchor before the December meeting
    assert symbols[-1] == "ZQ=F"
    # Eight meetings ahead (Dec 10 .. Oct 28, 2026): the month after the last is Nov 2026.
    assert symbols[-2] == "ZQX26.CBT"
    assert len(symbols) == 13 + 1  # Nov 2025 .. Nov 2026, and the front contract


def test_after_a_decision_the_panel_keeps_it_while_it_is_nearer():
    after = datetime(2025, 12, 11, 15, 0, tzinfo=UTC)
    fed = fed_snapshot(
        MarketStore(), now=after, schedule=default_schedule(), naming=default_naming(),
        inputs=inputs(),
    )  # fmt: skip
    assert fed.last_decision is not None and fed.last_decision.date == date(2025, 12, 10)
    assert fed.last_decision.seconds_until == -20 * 3600
    assert fed.next_decision is not None and fed.next_decision.date == date(2026, 1, 28)
    late = fed_snapshot(
        MarketStore(), now=datetime(2026, 1, 20, tzinfo=UTC), schedule=default_schedule(),
        naming=default_naming(), inputs=inputs(),
    )  # fmt: skip
    assert late.last_decision is None


def test_fedwatch_runs_again_only_when_its_inputs_change(monkeypatch):
    import capgap.analytics.fed as fed_module

    calls: list[object] = []
    real = fed_module.fedwatch

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(fed_module, "fedwatch", counting)
    fed_module._price_meetings.cache_clear()
    prices = {"ZQX25.CBT": 100 - EFFR, "ZQZ25.CBT": DEC_PRICE}
    first = build(store_with(prices))
    # Greedy: the far meetings fail for want of prices before the near ones are priced.
    per_build = len(calls)
    assert per_build >= 1
    # The same prices a second later (a new quote time, the same figures): no new pricing.
    again = build(store_with(prices, at=NOW - timedelta(minutes=4)))
    assert len(calls) == per_build
    assert again.probabilities == first.probabilities
    moved = build(store_with({**prices, "ZQZ25.CBT": DEC_PRICE + 0.01}))
    assert len(calls) == 2 * per_build
    # One basis point more on the December price: 31/22 of it on the post-meeting rate.
    assert moved.probabilities[0].cut_pct == pytest.approx(87.0 + 100 * 0.01 * 31 / 22 / 0.25)
    build(store_with(prices), effr=EFFR + 0.01)
    assert len(calls) == 3 * per_build


# Feb 2026 has no meeting; Mar 18 (N 31, M 17) starts at February's 3.64 and is priced to end at
# 3.55; Apr 29 (N 30, M 28) ends at May's 3.40 (no meeting in May) and its own contract puts
# its start at 3.53, two basis points off March's end: the anchors disagree, as real prices do.
FEB_10 = datetime(2026, 2, 10, 16, 0, tzinfo=UTC)
SPRING = {
    "ZQG26.CBT": 100 - 3.64,
    "ZQH26.CBT": 100 - (17 * 3.64 + 14 * 3.55) / 31,
    "ZQJ26.CBT": 100 - (28 * 3.53 + 2 * 3.40) / 30,
    "ZQK26.CBT": 100 - 3.40,
}


def test_moves_are_differences_of_the_implied_rates_and_add_up_to_the_totals():
    fed = fed_snapshot(
        store_with(SPRING, FEB_10),
        now=FEB_10,
        schedule=default_schedule(),
        naming=default_naming(),
        inputs=inputs(effr=3.63, target_range=(3.5, 3.75)),
    )
    march, april = fed.probabilities
    assert (march.anchor, april.anchor) == ("previous_month", "next_month")
    assert (march.start_rate, march.implied_rate) == (pytest.approx(3.64), pytest.approx(3.55))
    assert (april.start_rate, april.implied_rate) == (pytest.approx(3.53), pytest.approx(3.40))
    # Own moves: -9 bp and -13 bp. From one implied rate to the next: -9 bp, then -15 bp.
    assert april.expected_change_bp == pytest.approx(-13.0)
    assert (march.move_bp, march.total_bp) == (-9.0, -9.0)
    assert (april.move_bp, april.total_bp) == (-15.0, -24.0)
