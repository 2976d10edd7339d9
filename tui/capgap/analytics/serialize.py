"""Turn a Snapshot into plain JSON-ready data with fixed keys (what `capgap snapshot` prints)."""

from __future__ import annotations

import math
from typing import Any

from capgap.core.snapshot import (
    DECOMPOSITION_WINDOW_IDS,
    ODDS_HORIZONS,
    SECTOR_WINDOW_IDS,
    Decomposition,
    ExtendedGap,
    FeedStatus,
    IndexFutures,
    IndexQuote,
    LegStats,
    MeetingOdds,
    Mover,
    PastOdds,
    RotationPoint,
    SectorLeg,
    SectorRow,
    SectorWindow,
    Snapshot,
    UniverseInfo,
    Valuation,
    empty_leg,
)
from capgap.market.serialize import decision_to_dict, iso_utc, session_to_dict

#: Decimal places: prices, percentages and percentage points, ratios, statistics.
PRICE_DP = 4
PCT_DP = 4
RATIO_DP = 6
STAT_DP = 4
PE_DP = 2
AGE_DP = 1


def _num(value: float | None, places: int) -> float | None:
    """Round a float; None, NaN and infinities become None (JSON null)."""
    if value is None:
        return None
    number = float(value)
    if not math.isfinite(number):
        return None
    return round(number, places)


def _index(quote: IndexQuote) -> dict[str, Any]:
    return {
        "symbol": quote.symbol,
        "name": quote.name,
        "last": _num(quote.last, PRICE_DP),
        "change_pct": _num(quote.change_pct, PCT_DP),
        "as_of": iso_utc(quote.as_of),
        "age_s": _num(quote.age_s, AGE_DP),
        "stale": quote.stale,
    }


def _extended(gap: ExtendedGap | None) -> dict[str, Any] | None:
    if gap is None:
        return None
    return {
        "session": gap.session,
        "large": _num(gap.large, PCT_DP),
        "small": _num(gap.small, PCT_DP),
        "gap_pp": _num(gap.gap_pp, PCT_DP),
        "as_of": iso_utc(gap.as_of),
    }


def _future(quote: IndexQuote | None) -> dict[str, Any] | None:
    if quote is None:
        return None
    return {
        "symbol": quote.symbol,
        "last": _num(quote.last, PRICE_DP),
        "change_pct": _num(quote.change_pct, PCT_DP),
    }


def _futures(futures: IndexFutures | None) -> dict[str, Any]:
    return {
        "large": _future(futures.large if futures is not None else None),
        "small": _future(futures.small if futures is not None else None),
    }


def _mover(mover: Mover) -> dict[str, Any]:
    return {
        "symbol": mover.symbol,
        "name": mover.name,
        "bucket": mover.bucket,
        "change_pct": _num(mover.change_pct, PCT_DP),
    }


def _leg(leg: SectorLeg) -> dict[str, Any]:
    return {
        "change_pct": _num(leg.change_pct, PCT_DP),
        "weight_pct": _num(leg.weight_pct, PCT_DP),
        "members": leg.members,
        "forward_pe": _num(leg.forward_pe, PE_DP),
        "breadth_pct": _num(leg.breadth_pct, PCT_DP),
        "etf_symbol": leg.etf_symbol,
        "etf_change_pct": _num(leg.etf_change_pct, PCT_DP),
    }


def _breadth(stats: LegStats | None) -> dict[str, Any]:
    if stats is None:
        stats = empty_leg()
    return {
        "members": stats.members,
        "up_pct": _num(stats.up_pct, PCT_DP),
        "above_50d_pct": _num(stats.above_50d_pct, PCT_DP),
        "above_200d_pct": _num(stats.above_200d_pct, PCT_DP),
        "new_highs": stats.new_highs,
        "new_lows": stats.new_lows,
    }


def _membership(info: UniverseInfo | None) -> dict[str, Any] | None:
    if info is None:
        return None
    return {"source": info.source, "as_of": info.as_of.isoformat(), "members": info.members}


def _valuation(valuation: Valuation) -> dict[str, Any]:
    return {
        "large_forward_pe": _num(valuation.large_forward_pe, PE_DP),
        "small_forward_pe": _num(valuation.small_forward_pe, PE_DP),
        "small_discount_pct": _num(valuation.small_discount_pct, PCT_DP),
        "large_forward_pe_incl_negative": _num(valuation.large_forward_pe_incl_negative, PE_DP),
        "small_forward_pe_incl_negative": _num(valuation.small_forward_pe_incl_negative, PE_DP),
        "large_unprofitable_pct": _num(valuation.large_unprofitable_pct, PCT_DP),
        "small_unprofitable_pct": _num(valuation.small_unprofitable_pct, PCT_DP),
        "large_coverage_pct": _num(valuation.large_coverage_pct, PCT_DP),
        "small_coverage_pct": _num(valuation.small_coverage_pct, PCT_DP),
        "source": valuation.source,
    }


def _sector(row: SectorRow) -> dict[str, Any]:
    return {
        "sector": row.sector,
        "tag": row.tag,
        "large": _leg(row.large),
        "small": _leg(row.small),
        "spread_pp": _num(row.spread_pp, PCT_DP),
        "breadth_pct": _num(row.breadth_pct, PCT_DP),
        "leaders": [_mover(mover) for mover in row.leaders],
        "laggards": [_mover(mover) for mover in row.laggards],
        "windows": {
            window_id: _sector_window(row.window(window_id)) for window_id in SECTOR_WINDOW_IDS
        },
    }


def _sector_window(window: SectorWindow) -> dict[str, Any]:
    return {
        "large_pct": _num(window.large_pct, PCT_DP),
        "small_pct": _num(window.small_pct, PCT_DP),
        "spread_pp": _num(window.spread_pp, PCT_DP),
    }


def _rotation(point: RotationPoint) -> dict[str, Any]:
    return {
        "sector": point.sector,
        "rs_ratio": _num(point.rs_ratio, STAT_DP),
        "rs_momentum": _num(point.rs_momentum, STAT_DP),
        "quadrant": point.quadrant,
        # Oldest first; the last is the head (rs_ratio, rs_momentum above).
        "tail": [
            {
                "date": tail.day.isoformat(),
                "rs_ratio": _num(tail.rs_ratio, STAT_DP),
                "rs_momentum": _num(tail.rs_momentum, STAT_DP),
            }
            for tail in point.tail
        ],
        # Why a sector has no point ("no small-cap history"); None when it has one.
        "reason": point.reason,
    }


def _decomposition(decomposition: Decomposition | None) -> dict[str, Any]:
    """Return the gap's three parts per window; every window's keys even without figures."""
    out: dict[str, Any] = {}
    for window in DECOMPOSITION_WINDOW_IDS:
        parts = decomposition.parts(window) if decomposition is not None else None
        out[window] = {
            "concentration_pp": _num(parts.concentration_pp, PCT_DP) if parts else None,
            "size_pp": _num(parts.size_pp, PCT_DP) if parts else None,
            "quality_pp": _num(parts.quality_pp, PCT_DP) if parts else None,
            "total_pp": _num(parts.total_pp, PCT_DP) if parts else None,
        }
    return out


def _feed(feed: FeedStatus) -> dict[str, Any]:
    return {
        "name": feed.name,
        "state": feed.state,
        "last_success": iso_utc(feed.last_success),
        "age_s": _num(feed.age_s, AGE_DP),
        "error": feed.error,
        "stale": feed.stale,
        "problems": [{"symbol": symbol, "problem": text} for symbol, text in feed.problems],
    }


def _odds(odds: MeetingOdds) -> dict[str, Any]:
    return {
        "meeting": odds.meeting.isoformat(),
        "cut_pct": _num(odds.cut_pct, PCT_DP),
        "hold_pct": _num(odds.hold_pct, PCT_DP),
        "hike_pct": _num(odds.hike_pct, PCT_DP),
        "outcomes": [
            {
                "target_range": [_num(o.target_range[0], PCT_DP), _num(o.target_range[1], PCT_DP)],
                "probability_pct": _num(o.probability_pct, PCT_DP),
            }
            for o in odds.outcomes
        ],
        "implied_rate": _num(odds.implied_rate, PCT_DP),
        "start_rate": _num(odds.start_rate, PCT_DP),
        "anchor": odds.anchor,
        "move_bp": _num(odds.move_bp, 1),
        "total_bp": _num(odds.total_bp, 1),
        "history": _past_odds(odds.history),
    }


def _past_odds(history: tuple[PastOdds, ...]) -> dict[str, Any]:
    """Return a meeting's odds at each horizon's close; every horizon there, null when unknown."""
    by_horizon = {past.horizon: past for past in history}
    result: dict[str, Any] = {}
    for horizon in ODDS_HORIZONS:
        past = by_horizon.get(horizon)
        result[horizon] = {
            "date": past.day.isoformat() if past is not None and past.day is not None else None,
            "cut_pct": _num(past.cut_pct if past is not None else None, PCT_DP),
            "hold_pct": _num(past.hold_pct if past is not None else None, PCT_DP),
            "hike_pct": _num(past.hike_pct if past is not None else None, PCT_DP),
        }
    return result


def snapshot_to_dict(snapshot: Snapshot) -> dict[str, Any]:
    """Return the snapshot as JSON-ready data: fixed keys, rounded floats, no NaN, UTC times."""
    spread = snapshot.spread
    indices, universe = snapshot.indices, snapshot.universe
    target = snapshot.fed.target_range
    return {
        "as_of": iso_utc(snapshot.as_of),
        "source": snapshot.source,
        "demo": snapshot.demo,
        "market": session_to_dict(snapshot.market),
        "spread": {
            "large": _index(spread.large),
            "small": _index(spread.small),
            "relative_pp": {
                label: _num(value, PCT_DP) for label, value in spread.relative_pp.items()
            },
            "ratio": _num(spread.ratio, RATIO_DP),
            "ratio_z_1y": _num(spread.ratio_z_1y, STAT_DP),
            "beta_60d": _num(spread.beta_60d, STAT_DP),
            "corr_60d": _num(spread.corr_60d, STAT_DP),
            "valuation": _valuation(spread.valuation),
            "extended": _extended(spread.extended),
        },
        "futures": _futures(snapshot.futures),
        "decomposition": _decomposition(snapshot.decomposition),
        "breadth": {
            "large": _breadth(indices.large if indices is not None else None),
            "small": _breadth(indices.small if indices is not None else None),
        },
        "universe": {
            "large": _membership(universe.large if universe is not None else None),
            "small": _membership(universe.small if universe is not None else None),
        },
        "sectors": [_sector(row) for row in snapshot.sectors],
        "rotation": [_rotation(point) for point in snapshot.rotation],
        "style": {
            "large_value_minus_growth_pp": _num(snapshot.style.large.value_minus_growth_pp, PCT_DP),
            "small_value_minus_growth_pp": _num(snapshot.style.small.value_minus_growth_pp, PCT_DP),
        },
        "fed": {
            "next_decision": decision_to_dict(snapshot.fed.next_decision),
            "target_range": [_num(target[0], PCT_DP), _num(target[1], PCT_DP)]
            if target is not None
            else None,
            "effr": _num(snapshot.fed.effr, PCT_DP),
            # Where the range and EFFR came from ("New York Fed", "FRED", "FRED CSV", ...).
            "target_source": snapshot.fed.target_source,
            "futures_source": snapshot.fed.futures_source,
            "probabilities": [_odds(odds) for odds in snapshot.fed.probabilities],
            "last_decision": decision_to_dict(snapshot.fed.last_decision),
            # The next meeting's cut odds at each session's close over the last three months.
            "cut_odds_history": [
                {"date": point.day.isoformat(), "cut_pct": _num(point.cut_pct, PCT_DP)}
                for point in snapshot.fed.cut_odds_history
            ],
            "history_note": snapshot.fed.history_note,
            "history_anchor": snapshot.fed.history_anchor,
        },
        "feeds": [_feed(feed) for feed in snapshot.feeds],
    }
