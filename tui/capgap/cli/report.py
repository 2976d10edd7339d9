"""Render a Snapshot for `capgap snapshot`: JSON for scripts, a table for people, a tmux line."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Literal

from capgap.core.format import NA, compact_countdown, fmt_fitted, fmt_signed, index_label
from capgap.core.market_types import NEW_YORK
from capgap.core.snapshot import Snapshot, futures_outside_session
from capgap.core.text import extended_when, fmt_day, fmt_ny_moment, fmt_ny_time
from capgap.market.calendar import market_session
from capgap.market.fomc import FomcMeeting, format_countdown, next_decision


def render_json(snapshot: Snapshot) -> str:
    """Return the snapshot as indented JSON with a trailing newline."""
    # Each format loads what it writes: the tmux line, run every minute, none of this.
    from capgap.analytics.serialize import snapshot_to_dict

    return json.dumps(snapshot_to_dict(snapshot), indent=2, allow_nan=False) + "\n"


#: Longest label of another symbol in the tmux line (keeps the line within 60 columns).
#: Four characters per index label keep the worst case (DEMO, 100+ days, stale) in 60 columns.
_TMUX_LABEL_MAX = 4


def _num(value: float | None, fmt: str) -> str:
    return NA if value is None else format(value, fmt)


def _tmux_fomc(snapshot: Snapshot) -> str:
    fed = snapshot.fed
    last = fed.last_decision
    today = snapshot.as_of.astimezone(NEW_YORK).date()
    if last is not None and last.statement_at.astimezone(NEW_YORK).date() == today:
        return "FOMC out"
    if fed.next_decision is None:
        return f"FOMC {NA}"
    left = (fed.next_decision.statement_at - snapshot.as_of).total_seconds()
    return f"FOMC {compact_countdown(left)}"


def format_tmux(snapshot: Snapshot) -> str:
    """Return one plain ASCII line for a tmux status bar, without a newline.

    'SPX +0.19% RUT -0.38% gap -0.58pp FOMC 4d22h': each index's change today, the small-minus-
    large gap today, the time to the next FOMC statement ('FOMC out' once today's is out).
    'DEMO ' leads for sample data; ' stale' ends it while any feed is stale or down, or
    either index's figure is older than its feed allows.
    """
    spread = snapshot.spread
    parts = ["DEMO"] if snapshot.demo else []
    for quote in (spread.large, spread.small):
        label = index_label(quote.symbol)[:_TMUX_LABEL_MAX]
        parts.append(f"{label} {fmt_fitted(quote.change_pct, suffix='%')}")
    parts.append(f"gap {fmt_fitted(spread.relative_pp.d1, suffix='pp')}")
    parts.append(_tmux_fomc(snapshot))
    legs = (snapshot.spread.large, snapshot.spread.small)
    if any(feed.stale or feed.state == "down" for feed in snapshot.feeds) or any(
        leg.stale for leg in legs
    ):
        parts.append("stale")
    return " ".join(parts)


def render_table(snapshot: Snapshot) -> str:
    """Return the snapshot as a plain-text report (no colour, fits 80 columns)."""
    spread = snapshot.spread
    badge = " [DEMO: synthetic sample data]" if snapshot.demo else ""
    lines = [
        f"capgap {fmt_ny_moment(snapshot.as_of, seconds=True)}  source {snapshot.source}{badge}",
        f"market {snapshot.market.state}"
        + (f" ({snapshot.market.holiday})" if snapshot.market.holiday else ""),
        "",
        f"{'index':<14}{'symbol':<8}{'last':>12}{'chg %':>9}",
    ]
    for quote in (spread.large, spread.small):
        lines.append(
            f"{quote.name:<14}{quote.symbol:<8}{_num(quote.last, ',.2f'):>12}"
            f"{fmt_signed(quote.change_pct):>9}"
        )
    gap = spread.extended
    if gap is not None and gap.shown:
        # Pre/post hours: the ETFs' extended prices against their regular close (see README).
        lines.append(
            f"{extended_when(gap)}  {gap.large_symbol} {fmt_signed(gap.large, 2, '%')}  "
            f"{gap.small_symbol} {fmt_signed(gap.small, 2, '%')}  "
            f"gap {fmt_signed(gap.gap_pp, 2, ' pp')}"
        )
    futures = futures_outside_session(snapshot)
    if futures is not None:
        for quote in (futures.large, futures.small):
            if quote.last is not None:
                lines.append(
                    f"{'futures':<14}{quote.symbol:<8}{_num(quote.last, ',.2f'):>12}"
                    f"{fmt_signed(quote.change_pct):>9}"
                )
    lines.append("")
    lines.append(
        "small - large pp  "
        + "  ".join(
            f"{label.upper()} {fmt_signed(value)}" for label, value in spread.relative_pp.items()
        )
    )
    lines.append(
        f"ratio {_num(spread.ratio, '.4f')}  z(1y) {fmt_signed(spread.ratio_z_1y)}  "
        f"beta(60d) {_num(spread.beta_60d, '.2f')}  corr(60d) {_num(spread.corr_60d, '.2f')}"
    )
    val = spread.valuation
    if val.large_forward_pe is not None or val.small_forward_pe is not None:
        lines.append(
            f"forward P/E large {_num(val.large_forward_pe, '.1f')}x  small "
            f"{_num(val.small_forward_pe, '.1f')}x  discount "
            f"{_num(val.small_discount_pct, '.1f')}%  (bottom-up, negative earners out; "
            f"{val.source})"
        )
        lines.append(
            f"  with negative earners large {_num(val.large_forward_pe_incl_negative, '.1f')}x"
            f"  small {_num(val.small_forward_pe_incl_negative, '.1f')}x  unprofitable "
            f"{_num(val.large_unprofitable_pct, '.0f')}% / "
            f"{_num(val.small_unprofitable_pct, '.0f')}%  coverage "
            f"{_num(val.large_coverage_pct, '.0f')}% / {_num(val.small_coverage_pct, '.0f')}%"
        )
    if snapshot.indices is not None:
        for label, leg in (("large", snapshot.indices.large), ("small", snapshot.indices.small)):
            lines.append(
                f"breadth {label}  up {_num(leg.up_pct, '.0f')}%  >50d "
                f"{_num(leg.above_50d_pct, '.0f')}%  >200d {_num(leg.above_200d_pct, '.0f')}%"
                f"  highs {_num(leg.new_highs, 'd')}  lows {_num(leg.new_lows, 'd')}"
                f"  ({leg.quoted}/{leg.members} quoted)"
            )
    lines += [
        "",
        f"{'sector':<23}{'large':>7}{'wt%':>5}{'small':>7}{'wt%':>5}{'S-L pp':>8}{'up %':>6}"
        f"  {'funds':<11}  leader",
    ]
    for row in snapshot.sectors:
        leader = row.leaders[0].symbol if row.leaders else NA
        funds = f"{row.large.etf_symbol or NA}/{row.small.etf_symbol or NA}"
        lines.append(
            f"{row.sector:<23}{fmt_signed(row.large.change_pct):>7}"
            f"{_num(row.large.weight_pct, '.1f'):>5}{fmt_signed(row.small.change_pct):>7}"
            f"{_num(row.small.weight_pct, '.1f'):>5}{fmt_signed(row.spread_pp):>8}"
            f"{_num(row.breadth_pct, '.0f'):>6}  {funds:<11}  {leader}"
        )
    style = snapshot.style
    lines += [
        "",
        f"value - growth pp  large {fmt_signed(style.large.value_minus_growth_pp)}  "
        f"small {fmt_signed(style.small.value_minus_growth_pp)}",
    ]
    fed = snapshot.fed
    if fed.next_decision is not None:
        decision = fed.next_decision
        sep = " SEP" if decision.sep else ""
        lines.append(
            f"next FOMC {fmt_ny_moment(decision.statement_at)}{sep}  in "
            f"{format_countdown(decision.seconds_until)}"
        )
    if fed.target_range is not None:
        lo, hi = fed.target_range
        effr = f"  EFFR {fed.effr:.2f} %" if fed.effr is not None else ""
        lines.append(f"target range {lo:.2f}-{hi:.2f} %{effr}  ({fed.target_source})")
    for odds in fed.probabilities:
        lines.append(
            f"  {fmt_day(odds.meeting):<15}  cut {odds.cut_pct:5.1f}%  hold {odds.hold_pct:5.1f}%  "
            f"hike {odds.hike_pct:5.1f}%  implied {odds.implied_rate:.3f} %"
        )
    if fed.probabilities and fed.futures_source:
        lines.append(f"  (odds from {fed.futures_source}; cumulative, against today's range)")
    elif fed.fedwatch_error:
        lines.append(f"  no odds: {fed.fedwatch_error}")
    for feed in snapshot.feeds:
        age = f"{feed.age_s:.0f}s" if feed.age_s is not None else "never"
        error = f"  {feed.error}" if feed.error else ""
        lines.append(f"feed {feed.name}: {feed.state}, last success {age} ago{error}")
    return "\n".join(lines) + "\n"


def calendar_to_dict(
    now: datetime, days: int = 90, schedule: tuple[FomcMeeting, ...] | None = None
) -> dict[str, Any]:
    """Return the market session, the next FOMC decision and the coming events at ``now``."""
    from capgap.market.serialize import decision_to_dict, event_to_dict, session_to_dict
    from capgap.market.upcoming import upcoming_events

    return {
        "as_of": now.astimezone(UTC).isoformat(),
        "market": session_to_dict(market_session(now)),
        "fed": {"next_decision": decision_to_dict(next_decision(now, schedule))},
        "upcoming": [event_to_dict(event) for event in upcoming_events(now, days, schedule)],
    }


def calendar_report(
    now: datetime,
    *,
    days: int,
    fmt: Literal["json", "table"] | str,
    schedule: tuple[FomcMeeting, ...] | None = None,
) -> str:
    """Render `capgap calendar` as JSON or as a plain table in New York time."""
    from capgap.market.upcoming import upcoming_events

    if fmt == "json":
        return json.dumps(calendar_to_dict(now, days, schedule), indent=2) + "\n"
    session = market_session(now)
    lines = [f"{fmt_ny_moment(now, seconds=True)}  market {session.state}"]
    if session.holiday:
        lines[0] += f" ({session.holiday})"
    for label, moment in (("next open", session.next_open), ("next close", session.next_close)):
        if moment is not None:
            lines.append(f"{label:<11}{fmt_ny_moment(moment)}")
    decision = next_decision(now, schedule)
    if decision is not None:
        sep = " (SEP)" if decision.sep else ""
        lines.append(
            f"next FOMC  {fmt_ny_moment(decision.statement_at)}{sep}, in "
            f"{format_countdown(decision.seconds_until)}"
        )
    lines += ["", f"coming {days} days:"]
    for event in upcoming_events(now, days, schedule):
        when = f" {fmt_ny_time(event.at, seconds=False)} ET" if event.at else ""
        extra = " (SEP)" if event.sep else ""
        kind = event.kind.replace("_", " ")
        lines.append(f"  {fmt_day(event.day):<15}  {kind:<12}{event.name}{when}{extra}")
    return "\n".join(lines) + "\n"
