"""The members' rolling refresh: which members each poll quotes, within a host's request budget.

The core (benchmarks, sector funds, watchlists, the ZQ strip and a focused symbol: about 48
symbols) is quoted on every poll; the ~2,420 members of both indices take turns, the next
slice of them on each poll, round-robin. The slice is sized for a sweep of SWEEP_POLLS polls,
so its pace follows the ``[poll]`` cadence in force, and is cut to what the budget allows.

The arithmetic with Yahoo's defaults (see capgap.feeds.live): a budget of 60 requests a minute
(a burst of 30, then one a second), 50 symbols a request. HEADROOM keeps 10 % of it (6 a
minute) for one-off requests (the day's histories, a session's cookie and crumb, a focused
symbol's history); the intraday charts take 3 a minute (both indices and a focused symbol,
once a minute): the quotes may plan 60 x 0.9 - 3 = 51 requests a minute. A request carries 50
symbols, so a poll at cadence c seconds may make 51 c / 60 requests on average (fractions carry
to the next poll). With 48 core symbols and 2,423 members (the shipped universe):

=================  ========  =================================  ==============  =============
session            cadence   requests a poll (members a poll)   sweep           Yahoo req/min
=================  ========  =================================  ==============  =============
open               10 s      8 (352)                            7 polls, 70 s   48 + 3 = 51
open, [poll] 5 s   5 s       4.25 on average (164.5)            15 polls, 75 s  51 + 3 = 54
open, [poll] 2 s   2 s       1.7 on average (37)                67 polls, 134 s 51 + 3 = 54
pre / after hours  30 s      8 (352)                            7 polls, 210 s  16 + 3 = 19
closed, overnight  300 s     8 (352)                            7 polls, 35 min 1.6 + 3
=================  ========  =================================  ==============  =============

A 2 s cadence cannot sweep every member within a minute at 50 symbols a request: the core
alone fills 30 x 48 = 1,440 of the 2,550 symbol slots the budget gives a minute, leaving 1,110
for the members, a sweep of a little over two minutes (134 s). Below 1.2 s (``[poll]`` allows
1 s) the core alone needs more than the budget: the members then get only the core batch's
free slots, and the client's token bucket spaces the polls, so the host still never sees more
than its budget.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

#: A sweep over every member takes this many polls when the budget allows: 80 s at the default
#: 10 s open cadence, leaving 40 s for the polls' own duration within the 2 minutes promised.
SWEEP_POLLS = 8
#: The share of the host's budget left for one-off requests (histories, session, focus).
HEADROOM = 0.1
#: Unspent request allowance carried to the next poll is at most this: a cadence that needs
#: fewer requests than allowed does not bank them for a burst later.
MAX_CARRY = 1.0


@dataclass(frozen=True, slots=True)
class HostBudget:
    """A host's request budget (requests a minute on average) and the symbols per request."""

    requests_per_minute: float
    batch_size: int


@dataclass(frozen=True, slots=True)
class PollPlan:
    """One poll's quote requests, the members they carry and the allowance carried on."""

    requests: int
    members: int
    carry: float


def quote_requests_per_minute(budget: HostBudget, other_per_minute: float) -> float:
    """Return the quote requests a minute may plan: the budget less HEADROOM and other requests."""
    return budget.requests_per_minute * (1 - HEADROOM) - other_per_minute


def plan_poll(
    cadence_s: float,
    fixed: int,
    members: int,
    budget: HostBudget,
    *,
    other_per_minute: float = 0.0,
    carry: float = 0.0,
) -> PollPlan:
    """Plan one poll at ``cadence_s``: ``fixed`` symbols always, and how many of ``members``.

    The requests are those a slice of ceil(members / SWEEP_POLLS) needs beside the fixed
    symbols, cut to the allowance (``carry`` plus the poll's share of the minute's quote
    requests), never below what the fixed symbols need. The members then fill every slot of
    those requests: a batch is never sent half empty while members wait.
    """
    batch = budget.batch_size
    allowance = quote_requests_per_minute(budget, other_per_minute) * cadence_s / 60.0
    credit = carry + allowance
    mandatory = math.ceil(fixed / batch)
    wanted = math.ceil(members / SWEEP_POLLS)
    needed = math.ceil((fixed + wanted) / batch)
    requests = max(mandatory, min(needed, math.floor(credit)))
    slots = min(members, max(0, requests * batch - fixed))
    # A debt (the fixed symbols alone over the allowance) is carried too, but at most one
    # request of it: a cadence lowered again later is not starved for long.
    left = max(-MAX_CARRY, min(credit - requests, MAX_CARRY))
    return PollPlan(requests=requests, members=slots, carry=left)


class MemberRotation:
    """The members in turn: each poll takes the next slice, round-robin (see plan_poll).

    ``take`` plans a poll and returns its slice; ``done`` moves on once the slice was asked
    for, so a poll that failed asks the same members again.
    """

    def __init__(
        self, members: Sequence[str], budget: HostBudget, *, other_per_minute: float = 0.0
    ) -> None:
        """Rotate over ``members`` (in order) within ``budget``, less ``other_per_minute``."""
        self.members = tuple(dict.fromkeys(members))
        self.budget = budget
        self.other_per_minute = other_per_minute
        self._next = 0
        self._carry = 0.0
        self._pending: PollPlan | None = None

    @property
    def pending(self) -> PollPlan | None:
        """Return the plan of the slice last taken, until done()."""
        return self._pending

    def take(self, cadence_s: float, fixed: int) -> list[str]:
        """Return the members to quote beside ``fixed`` symbols on a poll at ``cadence_s``."""
        plan = plan_poll(
            cadence_s,
            fixed,
            len(self.members),
            self.budget,
            other_per_minute=self.other_per_minute,
            carry=self._carry,
        )
        self._pending = plan
        count = len(self.members)
        if count == 0 or plan.members == 0:
            return []
        return [self.members[(self._next + i) % count] for i in range(plan.members)]

    def done(self) -> None:
        """Move past the slice last taken (it was asked for): the next poll goes on after it."""
        plan, self._pending = self._pending, None
        if plan is None:
            return
        if self.members:
            self._next = (self._next + plan.members) % len(self.members)
        self._carry = plan.carry
