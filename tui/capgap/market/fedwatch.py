"""FedWatch: probabilities of FOMC rate moves implied by 30-day Fed funds futures (ZQ).

How the numbers are found (the CME FedWatch method):

- A ZQ contract settles at 100 minus the average daily effective fed funds rate (EFFR) of its
  month, so the market's expected average rate for a month is 100 - price.
- In a month with a meeting, the days before the meeting day run at the rate in force before
  it and the meeting day onward at the rate after it: with N days in the month and M days
  before the meeting, average = (M/N) * start + ((N-M)/N) * end.
- A month without a meeting runs at one rate all month. Such a month is an anchor: it gives
  the start of a meeting in the month after it, or the end of a meeting in the month before.
- Each meeting's rates are found by the first rule that applies (CME's order: a meeting-free
  month after the meeting reflects only that meeting's outcome, so it anchors first):
  1. the month after has no meeting and is quoted: its average is the end; solve the start
     (not for a meeting on the 1st, whose month says nothing about the rate before it);
  2. the month before has no meeting and is quoted: its average is the start; solve the end;
  3. (first meeting only) a published EFFR was given: it is the start; solve the end;
  4. the month before holds a meeting: that meeting's end is the start; solve the end.
  Solving the start divides the month's error by M/N (about 1 for a late meeting); solving the
  end divides it by (N-M)/N, up to 15x for a meeting on the 29th: rule 1 keeps late meetings,
  which are most of them, out of that trap.
- The expected move is end - start. In steps of 25 bp, k = (end - start) / 0.25. A fraction
  of a step splits between the two neighbouring whole steps: k = -0.87 reads as an 87 % chance
  of a 25 bp cut and 13 % of no change; k = -1.3 as 70 % of a 25 bp cut and 30 % of 50 bp.
- Each meeting's move is relative to its own start. The chance of each total move by a later
  meeting multiplies the branches of every meeting up to it; cut/hold/hike and the target
  ranges are those totals applied to today's range.

The current month: a meeting-free month after the first meeting gives its end and the meeting
month's own contract its start (rule 1); otherwise a meeting-free month before it gives the
start (rule 2). Either way only differences of futures rates are used, so a steady gap between
the futures and the EFFR cancels. The published EFFR starts the first meeting only where
neither neighbouring month anchors (rule 3), and failing that the futures chain decides (rule 4).
The meeting day counts as after the meeting (CME's published example).
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from capgap.core.text import MONTHS, fmt_day

Month = tuple[int, int]
Anchor = Literal["previous_month", "start_rate", "next_month", "previous_meeting"]

#: Implied rates are shown to this many decimals of a percent (a tenth of a basis point).
RATE_DECIMALS = 3
# A k this close to a whole number is taken as whole, so that float noise in prices does not
# invent branches of 1e-12 %.
_WHOLE_STEP_TOLERANCE = 1e-9


class FedWatchError(ValueError):
    """Futures, rates or meetings that cannot be turned into probabilities."""


@dataclass(frozen=True, slots=True)
class TargetRangeProbability:
    """The chance that the target range is [lower, upper] % after a meeting."""

    lower: float
    upper: float
    change_bp: int
    probability_pct: float


@dataclass(frozen=True, slots=True)
class MeetingProbabilities:
    """One meeting: implied rates, its own outcomes and the total move up to it.

    ``outcomes`` are (change_bp, probability_pct) relative to this meeting's start;
    ``cumulative`` are (change_bp, probability_pct) of the total move since before the first
    meeting; both sorted by change, zero-probability moves left out. ``ranges`` is empty when no
    current range was given.
    """

    date: date
    start_rate: float
    end_rate: float
    expected_change_bp: float
    outcomes: tuple[tuple[int, float], ...]
    cumulative: tuple[tuple[int, float], ...]
    anchor: Anchor
    cut_pct: float
    hold_pct: float
    hike_pct: float
    ranges: tuple[TargetRangeProbability, ...]


@dataclass(frozen=True, slots=True)
class FedWatchResult:
    """Probabilities for each priced meeting, in date order."""

    meetings: tuple[MeetingProbabilities, ...]
    current_range: tuple[float, float] | None
    step_bp: int


@dataclass(frozen=True, slots=True)
class _Leg:
    start: float
    end: float
    anchor: Anchor


def month_label(month: Month) -> str:
    """Name a contract month like 'Dec 2025'."""
    year, number = month
    return f"{MONTHS[number - 1]} {year}"


def implied_rate(price: float) -> float:
    """Return the average rate (percent) a ZQ price implies: 100 - price."""
    # Any real number type will do (numpy floats too), but not text that float() would parse.
    try:
        value = math.nan if isinstance(price, str | bytes | bool) else float(price)
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value) or not 0 < value <= 100:
        raise FedWatchError(f"ZQ price {price!r} is not a finite number in (0, 100]")
    return 100.0 - value


def meeting_weights(day: date) -> tuple[int, int]:
    """Return (M, N): days of the month before the meeting day, and days in the month."""
    return day.day - 1, calendar.monthrange(day.year, day.month)[1]


def move_distribution(k: float) -> tuple[tuple[int, float], ...]:
    """Split k steps of expected move between whole steps: ((steps, probability 0..1), ...)."""
    if not math.isfinite(k):
        raise FedWatchError(f"expected move of {k!r} steps is not finite")
    nearest = round(k)
    if abs(k - nearest) <= _WHOLE_STEP_TOLERANCE:
        return ((int(nearest), 1.0),)
    whole = math.trunc(k)
    fraction = abs(k - whole)
    away = whole + (1 if k > 0 else -1)
    return tuple(sorted(((whole, 1.0 - fraction), (away, fraction))))


def cut_hold_hike(cumulative: Iterable[tuple[int, float]]) -> tuple[float, float, float]:
    """Sum a distribution of total moves into (cut %, hold %, hike %)."""
    cut = hold = hike = 0.0
    for change, pct in cumulative:
        if change < 0:
            cut += pct
        elif change > 0:
            hike += pct
        else:
            hold += pct
    return cut, hold, hike


def _check_range(current_range: tuple[float, float]) -> tuple[int, int]:
    lower, upper = current_range
    if not (math.isfinite(lower) and math.isfinite(upper)) or lower >= upper:
        raise FedWatchError(f"target range {current_range!r} is not a finite lower < upper")
    # Ranges sit on whole basis points; integer arithmetic keeps 3.50 from printing 3.4999999.
    return round(lower * 100), round(upper * 100)


def target_ranges(
    cumulative: Iterable[tuple[int, float]], current_range: tuple[float, float]
) -> tuple[TargetRangeProbability, ...]:
    """Turn total moves into target ranges: (3.75, 4.00) and -25 bp -> (3.50, 3.75)."""
    lower_bp, upper_bp = _check_range(current_range)
    return tuple(
        TargetRangeProbability(
            lower=(lower_bp + change) / 100,
            upper=(upper_bp + change) / 100,
            change_bp=change,
            probability_pct=pct,
        )
        for change, pct in sorted(cumulative)
    )


def _shift(month: Month, by: int) -> Month:
    index = month[0] * 12 + month[1] - 1 + by
    return index // 12, index % 12 + 1


class _Chain:
    """Resolves each meeting month's start and end rates by the rules of the module docstring."""

    def __init__(
        self,
        rates: Mapping[Month, float],
        days: Mapping[Month, date],
        first: Month,
        start_rate: float | None,
    ) -> None:
        self._rates = rates
        self._days = days
        self._first = first
        self._start_rate = start_rate
        self._legs: dict[Month, _Leg] = {}

    def leg(self, month: Month) -> _Leg:
        """Return the start and end rates of the meeting in ``month``."""
        if month not in self._legs:
            self._legs[month] = self._resolve(month)
        return self._legs[month]

    def _resolve(self, month: Month) -> _Leg:
        day = self._days[month]
        if month not in self._rates:
            raise FedWatchError(
                f"no ZQ contract for {month_label(month)}, the month of the {day} meeting"
            )
        average = self._rates[month]
        before, days_in_month = meeting_weights(day)
        weight = before / days_in_month

        def forward(start: float, anchor: Anchor) -> _Leg:
            return _Leg(start, (average - weight * start) / (1.0 - weight), anchor)

        previous, following = _shift(month, -1), _shift(month, 1)
        needs: list[str] = []
        if following not in self._days and before > 0:
            if following in self._rates:
                end = self._rates[following]
                return _Leg((average - (1.0 - weight) * end) / weight, end, "next_month")
            needs.append(f"a {month_label(following)} contract")
        if previous not in self._days:
            if previous in self._rates:
                return forward(self._rates[previous], "previous_month")
            needs.append(f"a {month_label(previous)} contract")
        if month == self._first:
            if self._start_rate is not None:
                return forward(self._start_rate, "start_rate")
            needs.append("a start rate")
        if previous in self._days:
            try:
                return forward(self.leg(previous).end, "previous_meeting")
            except FedWatchError as exc:
                needs.append(f"a price for the {self._days[previous]} meeting ({exc})")
        raise FedWatchError(f"cannot price the {day} meeting: it needs {' or '.join(needs)}")


def _checked_rates(futures: Mapping[tuple[int, int], float]) -> dict[Month, float]:
    rates: dict[Month, float] = {}
    for (year, number), price in futures.items():
        if not 1 <= number <= 12:
            raise FedWatchError(f"contract month {year}-{number} is not a calendar month")
        try:
            rates[(year, number)] = implied_rate(price)
        except FedWatchError as exc:
            raise FedWatchError(f"{month_label((year, number))}: {exc}") from None
    return rates


def _meeting_months(priced: Sequence[date], schedule: Iterable[date]) -> dict[Month, date]:
    days: dict[Month, date] = {}
    for day in sorted(set(schedule)):
        days.setdefault((day.year, day.month), day)
    for day in priced:
        month = (day.year, day.month)
        if days.get(month, day) != day:
            # One contract averages the whole month: it cannot tell two decisions apart.
            raise FedWatchError(
                f"two meetings in {month_label(month)} ({days[month]} and {day}): "
                "one contract cannot price both"
            )
        days[month] = day
    return days


def fedwatch(
    futures: Mapping[tuple[int, int], float],
    meetings: Sequence[date],
    *,
    start_rate: float | None = None,
    current_range: tuple[float, float] | None = None,
    step_bp: int = 25,
    schedule: Iterable[date] = (),
) -> FedWatchResult:
    """Price FOMC meetings from ZQ prices keyed by (year, month).

    ``meetings`` are the decisions to price (sorted here); ``schedule`` may add other known
    decision days (e.g. past ones) so that their months are never taken as meeting-free
    anchors. ``start_rate`` is the rate in force before the first meeting (the published EFFR),
    ``current_range`` today's target range, used for cut/hold/hike and the target ranges.
    """
    if step_bp <= 0:
        raise FedWatchError(f"step of {step_bp} bp is not positive")
    if start_rate is not None and not math.isfinite(start_rate):
        raise FedWatchError(f"start rate {start_rate!r} is not finite")
    if current_range is not None:
        _check_range(current_range)
    rates = _checked_rates(futures)
    priced = sorted(set(meetings))
    if not priced:
        return FedWatchResult(meetings=(), current_range=current_range, step_bp=step_bp)
    days = _meeting_months(priced, schedule)
    chain = _Chain(rates, days, (priced[0].year, priced[0].month), start_rate)
    step = step_bp / 100
    totals: dict[int, float] = {0: 1.0}
    results: list[MeetingProbabilities] = []
    for day in priced:
        leg = chain.leg((day.year, day.month))
        branches = move_distribution((leg.end - leg.start) / step)
        following: dict[int, float] = {}
        for total, p_total in totals.items():
            for steps, p_move in branches:
                following[total + steps] = following.get(total + steps, 0.0) + p_total * p_move
        totals = following
        cumulative = tuple((steps * step_bp, 100.0 * p) for steps, p in sorted(totals.items()))
        cut, hold, hike = cut_hold_hike(cumulative)
        results.append(
            MeetingProbabilities(
                date=day,
                start_rate=leg.start,
                end_rate=leg.end,
                expected_change_bp=(leg.end - leg.start) * 100,
                outcomes=tuple((steps * step_bp, 100.0 * p) for steps, p in branches),
                cumulative=cumulative,
                anchor=leg.anchor,
                cut_pct=cut,
                hold_pct=hold,
                hike_pct=hike,
                ranges=(
                    target_ranges(cumulative, current_range) if current_range is not None else ()
                ),
            )
        )
    return FedWatchResult(meetings=tuple(results), current_range=current_range, step_bp=step_bp)


def path_moves(start: float, ends: Sequence[float]) -> tuple[tuple[float, float], ...]:
    """Return (move from the previous implied rate, total move since ``start``) in bp per rate.

    Both are differences of the rates rounded to RATE_DECIMALS, the precision they are shown
    at, so the moves add up to the totals and each is the difference of the rates as shown.
    """
    units = [round(rate * 10**RATE_DECIMALS) for rate in (start, *ends)]
    per_bp = 10 ** (RATE_DECIMALS - 2)
    return tuple(
        ((units[index] - units[index - 1]) / per_bp, (units[index] - units[0]) / per_bp)
        for index in range(1, len(units))
    )


def anchor_note(day: date, anchor: Anchor, start: float, end: float) -> str:
    """Say in a sentence which rule gave a meeting's rates before and after it."""
    month = (day.year, day.month)
    own, before, after = (month_label(m) for m in (month, _shift(month, -1), _shift(month, 1)))
    meeting = f"the {fmt_day(day)} meeting"
    if anchor == "next_month":
        return (
            f"The rate after {meeting}, {end:.{RATE_DECIMALS}f} %, is the {after} contract's "
            f"(no meeting that month, so it reflects this one alone); the rate before it, "
            f"{start:.{RATE_DECIMALS}f} %, is solved from {own}'s own contract."
        )
    if anchor == "previous_month":
        return (
            f"The rate before {meeting}, {start:.{RATE_DECIMALS}f} %, is the {before} "
            f"contract's (no meeting that month); {after} cannot anchor (it holds a meeting or "
            f"is not quoted), so the rate after, {end:.{RATE_DECIMALS}f} %, is solved from "
            f"{own}'s contract."
        )
    if anchor == "start_rate":
        return (
            f"Neither {before} nor {after} anchors {meeting} (a meeting or no quote), so the "
            f"published EFFR, {start:.{RATE_DECIMALS}f} %, is the rate before it and the rate "
            f"after, {end:.{RATE_DECIMALS}f} %, is solved from {own}'s contract: any gap "
            "between the futures and the EFFR shows in these odds."
        )
    return (
        f"{meeting[0].upper()}{meeting[1:]} starts where the futures put the rate after the "
        f"meeting before it, {start:.{RATE_DECIMALS}f} %; the rate after, "
        f"{end:.{RATE_DECIMALS}f} %, is solved from {own}'s contract."
    )
