"""The one-row status line: DEMO/PAUSED/REC badges, market state, NY time, feeds, data age.

At 80 columns there is not room for everything when a feed is down, so each part comes in
variants, most detailed first, and the line shows the richest pair that fits: the feeds'
state and next try come before their errors, and the market's next open before its holiday's
name.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import NamedTuple, Unpack

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.css.scalar import Unit
from textual.widget import Widget
from textual.widgets import Static

from capgap.core.clock import Clock
from capgap.core.market_types import MarketSession
from capgap.core.snapshot import (
    RECORDER_FEED,
    RECORDING_FEED,
    FeedStatus,
    Snapshot,
    UniverseSnapshot,
)
from capgap.core.text import fmt_day
from capgap.ui.format import fmt_age, market_label, ny_clock, ny_date, prices_label
from capgap.ui.glyphs import glyphs
from capgap.ui.widget_options import WidgetOptions
from capgap.ui.widgets.quiet import Plain, show

_FEED_STYLES = {"ok": "", "degraded": "$gap-warn", "down": "$error"}
_SEVERITY = {"ok": 0, "degraded": 1, "down": 2}
_MUTED = "$foreground-muted"
#: A status or breadcrumb item's padding (one cell each side).
ITEM_PADDING = 2
#: Ticks (seconds) the data age must need less room before it gives the room back.
_SHRINK_AFTER_TICKS = 60
#: The members' age keeps room for its longest form ('mbr 59m59s'): no layout as it ticks.
MEMBER_AGE_CELLS = len("mbr 59m59s") + ITEM_PADDING


def members_since(universe: UniverseSnapshot | None, as_of: datetime) -> datetime | None:
    """Return when the oldest member quote of either leg arrived (None when none has)."""
    legs = (universe.large, universe.small) if universe is not None else ()
    ages = [leg.oldest_quote_s for leg in legs if leg and leg.oldest_quote_s is not None]
    return as_of - timedelta(seconds=max(ages)) if ages else None


def member_age(since: datetime | None, now: datetime) -> Content:
    """Return the members' age, 'mbr 1m40s': how old the oldest member quote is at ``now``."""
    if since is None:
        return Content("mbr —")
    return Content(f"mbr {fmt_age((now - since).total_seconds())}")


def essentials_fit(markets: Sequence[Variant], feeds: Sequence[Variant], width: int) -> bool:
    """Return True when a market and a feeds text of tier 0 fit ``width`` cells together."""
    market = min((v.content.cell_length for v in markets if v.tier == 0), default=0)
    feed = min((v.content.cell_length for v in feeds if v.tier == 0), default=0)
    return market + feed + 2 * ITEM_PADDING <= width


def _feed_part(feed: FeedStatus, now: datetime, level: int) -> Content:
    """Describe one feed at a detail ``level`` (0: state; 1: + next try; 2: + age; 3: + error)."""
    style = _FEED_STYLES.get(feed.state, "")
    if feed.name == RECORDING_FEED and feed.state == "ok" and feed.last_success is not None:
        # A followed recording: its age is what a viewer needs to trust the figures.
        return Content(f"{feed.name} {fmt_age((now - feed.last_success).total_seconds())}")
    if feed.state == "ok":
        if not feed.problems or level < 1:
            return Content.styled(f"{feed.name} ok", style)
        # The feed answered, but not for every symbol: say how many it let down (`e` lists them).
        count = len(feed.problems)
        part = Content.styled(f"{feed.name} ok, {count} problem{'s' * (count > 1)}", "$gap-warn")
        if level >= 3:
            _symbol, problem = feed.problems[0]
            part = Content.assemble(part, (f": {problem}", _MUTED))
        return part
    words = [f"{feed.name} {feed.state}"]
    if level >= 2:
        if feed.last_success is not None:
            words.append(f"ok {fmt_age((now - feed.last_success).total_seconds())} ago")
        else:
            words.append("no reply yet")
    if level >= 1 and feed.next_retry is not None:
        words.append(f"retry {ny_clock(feed.next_retry)}")
    part = Content.styled(", ".join(words), style)
    if level >= 3 and feed.error:
        # Provider text goes in as plain text: "[AAPL]" or "[rate limited]" must stay visible.
        part = Content.assemble(part, (f": {feed.error}", _MUTED))
    return part


def worst_feed(feeds: Sequence[FeedStatus]) -> FeedStatus | None:
    """Return the feed in the worst state (down, then degraded, then ok; the first of equals).

    A followed recording goes before the other feeds in its state: where room allows one
    feed, its age says more than "follow ok" (reading local files hardly fails).
    """
    return max(
        feeds,
        key=lambda feed: (_SEVERITY.get(feed.state, 0), feed.name == RECORDING_FEED),
        default=None,
    )


def feed_brief(feeds: Sequence[FeedStatus], now: datetime, *, retry: bool = True) -> Content:
    """Return the worst feed's state and next try, and how many others fail: 'yahoo down +1'."""
    worst = worst_feed(feeds)
    if worst is None:
        return Content("no feed")
    others = sum(1 for feed in feeds if feed is not worst and feed.state != "ok")
    more = f" +{others}" if others else ""
    return Content.assemble(_feed_part(worst, now, 1 if retry else 0), more)


class Variant(NamedTuple):
    """A text of a status part, and its tier: 0 when it keeps what matters most, else 1."""

    content: Content
    tier: int


def _unique(variants: Sequence[Variant]) -> tuple[Variant, ...]:
    unique: list[Variant] = []
    for variant in variants:
        if not any(variant.content.is_same(seen.content) for seen in unique):
            unique.append(variant)
    return tuple(unique)


def feed_variants(feeds: Sequence[FeedStatus], now: datetime) -> tuple[Variant, ...]:
    """Describe the feeds, most detailed first; tier 0 keeps the worst feed's next try.

    'yahoo down, ok 5m12s ago, retry 10:00:40: Yahoo HTTP 503 · nyfed ok', then without the
    errors, without the ages, only the worst feed with its next try, every state alone, and
    the worst feed's state alone.
    """
    if not feeds:
        return (Variant(Content("no feed"), 0),)
    worst = worst_feed(feeds)
    retry_tier = 1 if worst is not None and worst.next_retry is not None else 0
    separator = Content(f" {glyphs().dot} ")

    def every(level: int) -> Content:
        return separator.join(_feed_part(feed, now, level) for feed in feeds)

    return _unique(
        [
            *(Variant(every(level), 0) for level in (3, 2, 1)),
            Variant(feed_brief(feeds, now), 0),
            Variant(every(0), retry_tier),
            Variant(feed_brief(feeds, now, retry=False), retry_tier),
        ]
    )


def _opens(session: MarketSession, now: datetime, *, long: bool) -> str | None:
    """Return 'opens 09:30', 'opens Mon 09:30' or, long, 'opens Mon 8 Dec 09:30'."""
    if session.next_open is None:
        return None
    day = ny_date(session.next_open)
    time = ny_clock(session.next_open, seconds=False)
    if day == ny_date(now):
        return f"opens {time}"
    if long or day - ny_date(now) > timedelta(days=6):
        return f"opens {fmt_day(day, year=False)} {time}"
    return f"opens {fmt_day(day, year=False).split(' ', 1)[0]} {time}"


def market_variants(
    session: MarketSession, now: datetime, prices: str | None = None
) -> tuple[Variant, ...]:
    """Describe the session, most detailed first; tier 0 says when a closed market opens.

    ``prices`` (see prices_label) says which prices the gap shows in pre/post hours: it
    leads the richer forms ('PRE, opens 09:30 · pre 08:12 ET prices') and goes first.
    """
    plain = _market_variants(session, now)
    if prices is None:
        return plain
    dot = f" {glyphs().dot} "
    return _unique(
        [
            *(Variant(Content(f"{v.content.plain}{dot}{prices}"), 0) for v in plain[:1]),
            *plain,
        ]
    )


def _market_variants(session: MarketSession, now: datetime) -> tuple[Variant, ...]:
    label = market_label(session)
    if session.state not in ("pre", "closed", "holiday"):
        return (Variant(Content(label), 0),)
    short = label.split(" - ", 1)[0]
    long_open, open_ = _opens(session, now, long=True), _opens(session, now, long=False)
    if open_ is None or long_open is None:
        return _unique([Variant(Content(label), 0), Variant(Content(short), 0)])
    return _unique(
        [
            Variant(Content(f"{label}, {long_open}"), 0),
            Variant(Content(f"{label}, {open_}"), 0),
            Variant(Content(f"{short}, {open_}"), 0),
            # 'opens Mon 09:30' alone says it is not open yet, in the least room.
            Variant(Content(open_), 0),
            Variant(Content(short), 1),
        ]
    )


def fit_pair(
    markets: Sequence[Variant], feeds: Sequence[Variant], width: int
) -> tuple[Content, Content]:
    """Pick the richest (market, feeds) pair whose items fit ``width`` cells with padding.

    What matters first: the worst feed's state and next try, then when a closed market
    opens; then the feeds' detail (every feed's state, ages, errors), then the market's.
    With no room at all, the shortest of each (the feeds then cut with an ellipsis).
    """
    pairs = sorted(
        ((m, f) for m in range(len(markets)) for f in range(len(feeds))),
        key=lambda pair: (feeds[pair[1]].tier, markets[pair[0]].tier, pair[1], pair[0]),
    )
    for m, f in pairs:
        market, feed = markets[m].content, feeds[f].content
        if market.cell_length + feed.cell_length + 2 * ITEM_PADDING <= width:
            return market, feed
    return markets[-1].content, feeds[-1].content


def is_stale(feeds: Sequence[FeedStatus], now: datetime) -> bool:
    """Return True when any feed's figures are stale at ``now`` (judged again every tick)."""
    return any(feed.stale_at(now) for feed in feeds)


def item_cells(widget: Widget) -> int:
    """Return the cells a status item takes: its fixed width, else its text and padding."""
    width = widget.styles.width
    if width is not None and width.unit == Unit.CELLS:
        return int(width.value)
    content = widget.content if isinstance(widget, Static) else ""
    length = content.cell_length if isinstance(content, Content) else len(str(content))
    return length + ITEM_PADDING


class StatusLine(Horizontal):
    """Top row; the clock and the data age change every second (the screen ticks them)."""

    def __init__(
        self,
        clock: Clock,
        *,
        demo: bool,
        source_label: str,
        **options: Unpack[WidgetOptions],
    ) -> None:
        super().__init__(**options)
        self._clock = clock
        self._demo = demo
        self._source_label = source_label
        self._data_as_of: datetime | None = None
        # Every feed of the last snapshot, the recorder's too: staleness is judged on them.
        self._all_feeds: tuple[FeedStatus, ...] = ()
        self._ended: datetime | None = None
        self._feeds: tuple[FeedStatus, ...] = ()
        self._session: MarketSession | None = None
        # Which prices the gap shows outside the regular session (None in it).
        self._prices: str | None = None
        self._engine_error: str | None = None
        # Ticks in a row the data age has needed less room than it has (see tick).
        self._age_narrower = 0
        # Whether the snapshot has members, and when their oldest quote arrived.
        self._has_members = False
        self._members_since: datetime | None = None

    def compose(self) -> ComposeResult:
        """Lay out the badges and the labels (the feeds take the room that is left)."""
        badge = Plain(Content(" DEMO "), id="demo-badge", classes="status-badge")
        badge.display = self._demo
        yield badge
        paused = Plain(Content("PAUSED"), id="paused-badge", classes="status-badge")
        paused.display = False
        yield paused
        recording = Plain(Content(" REC "), id="rec-badge", classes="status-badge")
        recording.display = False
        yield recording
        yield Plain(Content("…"), id="market-state", classes="status-item")
        yield Plain(self._clock_content(), id="ny-clock", classes="status-item")
        yield Plain(Content("waiting for data"), id="feed-state", classes="status-item")
        yield Plain(self._age_content(), id="data-age", classes="status-item")
        members = Plain(Content("mbr —"), id="member-age", classes="status-item")
        members.styles.width = MEMBER_AGE_CELLS
        members.display = False
        yield members
        yield Plain(Content(self._source_label), id="source", classes="status-item")

    def _clock_content(self) -> Content:
        return Content(f"{ny_clock(self._clock.now())} ET")

    def _age(self) -> tuple[Content, int]:
        """Return the data age's text and the cells it needs: room for its form's longest.

        The form's longest ('data 59s', 'data 59m59s', plus ' STALE') keeps the width still
        while the seconds tick; see tick() for when the width changes.
        """
        if self._data_as_of is None:
            return Content("data —"), len("data —") + ITEM_PADDING
        now = self._clock.now()
        age = (now - self._data_as_of).total_seconds()
        text = f"data {fmt_age(age)}"
        widest = len(f"data {fmt_age(59 if age < 60 else 3599)}") + ITEM_PADDING
        # Judged at every tick, not only when a snapshot lands: a poll that hangs sends none.
        if is_stale(self._all_feeds, now):
            return Content.styled(f"{text} STALE", "bold $gap-warn"), widest + len(" STALE")
        return Content(text), widest

    def _age_content(self) -> Content:
        return self._age()[0]

    def tick(self) -> None:
        """Redraw the time and the data age; a failing feed's age moves too."""
        if self._tick_clocks() or any(
            feed.state != "ok" or feed.name == RECORDING_FEED for feed in self._feeds
        ):
            self._fit()

    def _tick_clocks(self) -> bool:
        """Redraw the time and the data age; return whether the age's room changed."""
        now = self._clock.now()
        show(self.query_one("#ny-clock", Static), self._clock_content(), layout=False)
        if self._has_members:
            members = member_age(self._members_since, now)
            show(self.query_one("#member-age", Static), members, layout=False)
        age, cells = self._age()
        data_age = self.query_one("#data-age", Static)
        show(data_age, age, layout=False)
        # Each change of width lays out the whole screen: it grows at once, and shrinks only
        # once it has been too wide for a minute (a replay's age crosses a minute every poll).
        reserved = item_cells(data_age)
        if cells < reserved:
            self._age_narrower += 1
            # After a replay's end the age stands still: its room goes back at once.
            if self._age_narrower < _SHRINK_AFTER_TICKS and self._ended is None:
                cells = reserved
        else:
            self._age_narrower = 0
        if cells == reserved:
            return False
        data_age.styles.width = cells
        return True

    def apply(self, snapshot: Snapshot) -> None:
        """Show the market state, feed health and data age of a snapshot."""
        self._data_as_of = snapshot.data_as_of
        self._all_feeds = snapshot.feeds
        # A replay serves every member on every poll: their age is the data's, said already.
        self._has_members = snapshot.universe is not None and snapshot.universe.rolling
        self._members_since = members_since(snapshot.universe, snapshot.as_of)
        # The engine reports its recorder among the feeds while it records: the REC badge
        # says so, and the recorder takes room among the feeds only when it fails.
        recording = any(feed.name == RECORDER_FEED for feed in snapshot.feeds)
        self.query_one("#rec-badge", Static).display = recording
        self._feeds = tuple(
            feed
            for feed in snapshot.feeds
            if not (feed.name == RECORDER_FEED and feed.state == "ok")
        )
        self._session = snapshot.market
        self._prices = prices_label(snapshot.spread.extended)
        # The source's name is only worth its room when the feeds do not already say it.
        source = self.query_one("#source", Static)
        source.set_class(
            any(feed.name == self._source_label for feed in snapshot.feeds), "-redundant"
        )
        self._tick_clocks()
        self._fit()

    def on_resize(self) -> None:
        """Fit the market and the feeds to the new width."""
        self._fit()

    def _fit(self) -> None:
        if self._session is None and self._ended is None and self._engine_error is None:
            return
        market = self.query_one("#market-state", Static)
        feeds = self.query_one("#feed-state", Static)
        members = self.query_one("#member-age", Static)
        now = self._clock.now()
        fixed = sum(
            item_cells(child)
            for child in self.children
            if child.display and child not in (market, feeds, members)
        )
        if self._ended is not None:
            markets: tuple[Variant, ...] = (Variant(self._ended_content(self._ended), 0),)
        elif self._session is not None:
            markets = market_variants(self._session, now, self._prices)
        else:
            markets = (Variant(Content("…"), 0),)
        if self._engine_error is not None:
            failed = Content.styled(f"engine stopped: {self._engine_error}", "bold $error")
            feed_texts: tuple[Variant, ...] = (Variant(failed, 0),)
        else:
            feed_texts = feed_variants(self._feeds, now)
        # The members' age comes after the feeds' state and next try and the market's next
        # open, before their detail: it shows only where those still fit beside it.
        room = self.size.width - fixed
        members.display = self._has_members and essentials_fit(
            markets, feed_texts, room - MEMBER_AGE_CELLS
        )
        if members.display:
            room -= MEMBER_AGE_CELLS
        chosen_market, chosen_feeds = fit_pair(markets, feed_texts, room)
        if show(market, chosen_market, layout=False):
            market.styles.width = chosen_market.cell_length + ITEM_PADDING
        show(feeds, chosen_feeds, layout=False)

    def set_paused(self, paused: bool) -> None:
        """Show PAUSED while updates are paused."""
        self.query_one("#paused-badge", Static).display = paused
        self._fit()

    @staticmethod
    def _ended_content(at: datetime) -> Content:
        return Content.styled(f"REPLAY END {ny_clock(at, seconds=False)}", "bold $gap-warn")

    def replay_ended(self, at: datetime) -> None:
        """Say that the replay stopped (its last figures stay on screen)."""
        self._ended = at
        self._tick_clocks()
        self._fit()

    def engine_failed(self, error: str) -> None:
        """Say that the engine stopped with an error (the last figures stay on screen)."""
        self._engine_error = error
        self._fit()
