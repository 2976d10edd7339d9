"""Write the sample session to disk: parquet files, session.toml and the README."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from capgap.core.toml import toml_value
from capgap.feeds.index_history import LONG_HISTORY_FILE
from capgap.feeds.recording.replay import (
    EXTENDED_FILE,
    FUNDAMENTALS_FILE,
    MEMBERS_DAILY_FILE,
    MEMBERS_HISTORY_FILE,
    MEMBERS_INTRADAY_FILE,
)
from capgap.market.universe import Universe
from capgap.sample.align import index_members
from capgap.sample.calibration import Calibration
from capgap.sample.checks import (
    constituent_betas,
    daily_returns,
    excess_kurtosis,
    fundamentals_by_leg,
    index_stats,
    member_index_gaps,
    member_prices,
    rotation_gaps,
    sector_forward_pe,
)
from capgap.sample.generator import GENERATOR_VERSION, SampleSession
from capgap.sample.intraday import MEMBER_MINUTES
from capgap.sample.long_history import LONG_HISTORY_START

DAILY_FILE = "daily.parquet"
INTRADAY_FILE = "intraday.parquet"
SESSION_FILE = "session.toml"
#: Row groups of the members' files: small, so a reader asking for a few symbols (statistics
#: on the sorted symbol column) skips the rest of the file.
_MEMBER_ROW_GROUP = 16_384
README_FILE = "README.md"
#: Fixed parquet settings: the same frame always gives the same bytes.
_PARQUET: dict[str, Any] = {
    "compression": "zstd",
    "compression_level": 10,
    "statistics": True,
    "row_group_size": 1 << 20,
}
REGENERATE = "python -m capgap.sample --out sample_data"


def session_toml(session: SampleSession, cal: Calibration) -> str:
    """Return the text of session.toml: what the replay feed needs to know."""
    lines = [
        "# capgap sample session. SYNTHETIC: real tickers and names, generated prices.",
        f"# Regenerate with: {REGENERATE}",
        f"session_date = {session.session_date.isoformat()}",
        "synthetic = true",
        f"seed = {session.seed}",
        f"seed_search_start = {session.seed_start}",
        f"rotation = {session.rotation}",
        'generator = "capgap.sample"',
        f'generator_version = "{GENERATOR_VERSION}"',
        f'daily_file = "{DAILY_FILE}"',
        f'intraday_file = "{INTRADAY_FILE}"',
        f'members_daily_file = "{MEMBERS_DAILY_FILE}"',
        f'members_intraday_file = "{MEMBERS_INTRADAY_FILE}"',
        f'fundamentals_file = "{FUNDAMENTALS_FILE}"',
        f'members_history_file = "{MEMBERS_HISTORY_FILE}"',
        f'extended_file = "{EXTENDED_FILE}"',
        f"daily_first = {session.first_daily.isoformat()}",
        f"daily_last = {session.last_daily.isoformat()}",
        'timezone = "America/New_York"',
        "",
        "[reference]",
    ]
    lines += [f"{key} = {toml_value(value)}" for key, value in cal.reference.items()]
    futures = session.futures
    lines += [
        "",
        "# 30-day Fed funds futures in the files (naming: tui/capgap/data/futures.toml).",
        "[futures]",
        f"front = {toml_value(futures.front_symbol)}",
        f"contracts = {toml_value([contract.symbol for contract in futures.contracts])}",
        f"grid = {toml_value(futures.grid)}",
    ]
    return "\n".join(lines) + "\n"


def _closes(frame: pl.DataFrame, symbol: str) -> np.ndarray[Any, np.dtype[np.float64]]:
    return frame.filter(pl.col("symbol") == symbol).sort("date").get_column("close").to_numpy()


def _futures_section(session: SampleSession, cal: Calibration) -> str:
    """Return the README's section on the ZQ futures and the rate path they encode."""
    futures, spec = session.futures, cal.futures
    day = session.session_date
    meetings = sorted(spec.meetings, key=lambda meeting: meeting.date)
    rate = spec.start_rate
    path_rows = []
    for meeting in meetings:
        rate -= spec.step * meeting.p_cut
        path_rows.append(
            f"| {meeting.date} | {meeting.p_cut * 100:.0f} % | {rate:.4f} % "
            f"| {futures.implied[meeting.date] * 100:.2f} % |"
        )
    meeting_of = {(meeting.date.year, meeting.date.month): meeting.date for meeting in meetings}
    close = (
        session.intraday.filter(pl.col("symbol").is_in([c.symbol for c in futures.contracts]))
        .group_by("symbol")
        .agg(pl.col("close").sort_by("time").last())
    )
    closes = dict(close.iter_rows())
    contract_rows = []
    for contract in futures.contracts:
        decision = meeting_of.get(contract.month)
        weights = f"{decision} (M/N = {decision.day - 1}/{contract.days})" if decision else "none"
        design = futures.design[contract.symbol]
        contract_rows.append(
            f"| {contract.symbol} | {contract.name} | {weights} | {100.0 - design:.6f} "
            f"| {design:.6f} | {closes[contract.symbol]:.4f} | {contract.last_trading_day} |"
        )
    first, last = futures.contracts[0], futures.contracts[-1]
    front = next(c for c in futures.contracts if c.last_trading_day >= day)
    expired_note = "".join(
        f"- {c.symbol} stopped trading on {c.last_trading_day}, the last business day of its\n"
        f"  month (NYSE sessions stand in for CME business days). Its later bars stay at its\n"
        f"  final value with zero volume; it stays in the files because it is the month without\n"
        f"  a meeting that anchors the first meeting's probability.\n"
        for c in futures.contracts
        if c.last_trading_day < day
    )
    low, high = cal.reference["target_range"]
    return f"""## 30-day Fed funds futures (ZQ)

Contracts {first.symbol} ({first.name}) to {last.symbol} ({last.name}): the symbols
and names follow `tui/capgap/data/futures.toml` (Yahoo's `ZQ{{code}}{{yy}}.CBT`, month codes
F G H J K M N Q U V X Z), the month range is in the calibration. `{futures.front_symbol}` is the
continuous front contract: on each date, the first contract not yet expired, so on {day}
it is {front.symbol}, bar for bar. Daily bars cover the last {spec.daily_sessions} sessions
before {day} ({futures.front_symbol}) and the last {spec.history_sessions} (the single months,
about three months: FedWatch over time prices them); the minute bars of {day} are mostly
flat, with occasional one-tick moves.

A contract settles at 100 minus the average daily EFFR of its month. The closes of {day}
encode this path: EFFR {spec.start_rate:.2f} % before the first meeting (target range
{low:.2f}-{high:.2f}); at each meeting a cut of {spec.step * 100:.0f} bp with probability p_cut
(given the path so far), so the expected rate steps down by {spec.step} x p_cut.

| decision | p_cut designed | expected rate after | p_cut implied by the closes |
|---|---|---|---|
{chr(10).join(path_rows)}

The price of a month is 100 - avg, with avg = (M/N) x start + ((N-M)/N) x end in a meeting
month (M = days before the meeting day, which counts as post-meeting; N = days in the month)
and avg = the rate in a month without a meeting.

| symbol | name | meeting (M/N) | expected avg | exact price | close {day} | last trading day |
|---|---|---|---|---|---|---|
{chr(10).join(contract_rows)}

{futures.grid_note}

The implied column recomputes each p_cut from the closes as CME's FedWatch does: the previous
month without a meeting gives the start rate (else the next month without one gives the end
rate), the meeting month's price gives the other, and p_cut = (start - end) / {spec.step}.
Real ZQ quotes use the 0.0025 tick only in the spot month (0.005 in the others); the sample
keeps every month on one grid.

- Before {day} each meeting's p_cut wanders: a random walk run backward from its design
  (daily Student-t steps of {spec.prob_daily_vol}, correlated {spec.prob_correlation} across
  meetings, kept within {spec.prob_bounds[0]}-{spec.prob_bounds[1]}), priced every day with
  the same formula. The session day's own change is small (volatility {spec.session_prob_vol});
  its minute bars walk from the {session.last_daily} close to the {day} close in one-tick
  steps, with a few moves out and back.
- The single months' {spec.history_sessions - spec.daily_sessions} sessions before those
  {spec.daily_sessions} continue the same walk backward from the close the first of them
  opens from, drawn from a random stream of their own (the generator's child 9): the last
  {spec.daily_sessions} sessions are the same with or without them. DEMO data: the walk, not
  the market, moved those odds.
{expired_note}- Volumes are in contracts, around approximate typical daily volumes. The futures draw
  from a random stream of their own, so they never change another symbol's data.
"""


def _members_section(session: SampleSession, cal: Calibration, universe: Universe) -> str:
    """Return the README's section on the members adding up to their index, measured."""
    gaps = member_index_gaps(
        index_members(session.plan, universe.constituents),
        session.daily,
        session.members_daily,
        session.intraday,
        session.members_intraday,
    )
    rows = "\n".join(
        f"| {gap.index} | {gap.daily_max:.4f} | {gap.year:+.4f} | {gap.marks_max:.4f} "
        f"| {gap.between_median:.3f} | {gap.between_max:.3f} |"
        for gap in gaps
    )
    step = MEMBER_MINUTES
    return f"""## The members add up to their index

Live, an index leg weighted as its fund holds it reproduces the fund's move (IVV tracks the
S&P 500 within a few basis points), and capgap's sectors table explains the headline with
those legs. The sample's members do the same: with q = the shares the fund holds (the shipped
holdings) and p = a member's price, the members' change sum(q x (p - prev)) / sum(q x prev),
the previous close the base, is the index's change at every daily close, over the whole
file, at the open and at every {step}-minute mark of {session.session_date}. The generator
simulates the members' moves as described above and then adds to every member's log move of
a period (a day; a minute of {session.session_date}) the same constant, the one that makes
the weighted move the index's. Worked backward from {session.last_daily}, where every member
stays at its holdings price. The shift keeps the members' differences from each other (their
sector moves and own noise); it lowers their betas on the sector funds a little (the median
above). What remains is the rounding of the written prices. Measured on the files, in
percentage points (target: within {cal.targets.members_index_pp:g} pp, `members_index_pp`; marks:
the open and every {step}-minute mark):

| index | daily, max | whole file | marks, max | between marks, median | between, max |
|---|---|---|---|---|---|
{rows}

Between the marks the replay serves a member's last {step}-minute bar (its close) until the
next bar completes, while the index moves every minute: from the minute after a mark to the
minute before the next, the index legs (the dashboard's members figures, the sectors' sum)
show the members as they stood at the last mark and differ from the index's own quote by
the index's move since then (the last two columns). At each mark, and from the close on,
they agree again.

"""


def _pct(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _fundamentals_section(session: SampleSession, cal: Calibration, universe: Universe) -> str:
    """Return the README's section on the members' fundamentals, measured on the files."""
    prices = session.members_intraday.group_by("symbol").agg(
        pl.col("close").sort_by("time").last().alias("price")
    )
    frame = member_prices(universe.constituents, prices).join(session.fundamentals, on="symbol")
    legs = fundamentals_by_leg(frame)
    large, small = legs["large"], legs["small"]
    discount = (
        100.0 * (1.0 - small.forward_pe / large.forward_pe)
        if large.forward_pe and small.forward_pe
        else None
    )
    sectors = sector_forward_pe(frame)
    sector_rows = "\n".join(
        f"| {sector.name} | {_pct(sectors.get(('large', sector.name)))} "
        f"| {_pct(sectors.get(('small', sector.name)))} |"
        for sector in universe.sectors
    )
    spec, targets = cal.fundamentals, cal.targets
    shares = {
        bucket: (
            f"{spec.buckets[bucket].negative_forward * 100:.0f} %",
            f"{spec.buckets[bucket].negative_trailing * 100:.0f} %",
        )
        for bucket in ("large", "small")
    }
    table = "\n".join(
        f"| {index} | {leg.members} | {_pct(leg.forward_pe, 2)} "
        f"| {_pct(leg.forward_pe_incl_negative, 2)} | {leg.unprofitable_pct:.1f} % "
        f"| {leg.negative_forward_pct:.1f} % |"
        for index, leg in (("S&P 500", large), ("Russell 2000", small))
    )
    return f"""## Fundamentals (`{FUNDAMENTALS_FILE}`)

One row per member with data: symbol, market_cap, eps_forward (next twelve months),
eps_trailing (last twelve months), all synthetic. Designed in `[fundamentals]` of the
calibration: a member's forward P/E is its sector's relative P/E times log-normal dispersion
(sigma {spec.pe_sigma}); {shares["large"][0]} of S&P 500 and {shares["small"][0]} of Russell
2000 members expect a loss (negative forward EPS, drawn independently), and
{shares["large"][1]} and {shares["small"][1]} are designed to have lost money over the
last twelve months; each index's EPS are then scaled so its bottom-up forward P/E hits
{spec.large_forward_pe:g} (S&P 500) and {spec.small_discount * 100:.0f} % less (Russell 2000) on
the {session.last_daily} closes. Market cap = the fund's holding (shares x the
{session.last_daily} close) / the fund's share of its index ({spec.buckets["large"].fund_share:g}
IVV, {spec.buckets["small"].fund_share:g} IWM) / a free-float share in
{spec.float_range[0]:g}-{spec.float_range[1]:g}; the replay moves it with the price.

Measured on the files the way index providers publish it (q = shares the fund holds, p = the
member's last price of {session.session_date}): forward P/E = sum(q x p) / sum(q x eps_forward)
over members with eps_forward > 0 (the headline); "incl. negatives" keeps every member;
unprofitable = share of members (by count) with eps_trailing < 0.

| index | members | forward P/E | incl. negatives | unprofitable | negative forward EPS |
|---|---|---|---|---|---|
{table}

Small-cap discount on the headline method: {_pct(discount)} % (target
{targets.small_discount_pct[0]:g}-{targets.small_discount_pct[1]:g} %; forward P/E target
{targets.large_forward_pe[0]:g}-{targets.large_forward_pe[1]:g}; unprofitable targets
{targets.large_unprofitable_pct[0]:g}-{targets.large_unprofitable_pct[1]:g} % and
{targets.small_unprofitable_pct[0]:g}-{targets.small_unprofitable_pct[1]:g} %). Forward P/E
by sector (bottom-up, the same method):

| sector | S&P 500 | Russell 2000 |
|---|---|---|
{sector_rows}
"""


def _extended_section(session: SampleSession) -> str:
    """Say what the session outside regular hours holds, with figures measured on the bars."""
    extended = session.extended
    bars = extended.bars
    lines = []
    for leg in extended.legs:
        future = bars.filter(pl.col("symbol") == leg.future)
        etf = bars.filter(pl.col("symbol") == leg.etf)
        settle = float(
            extended.daily.filter(pl.col("symbol") == leg.future).sort("date")["close"][-1]
        )
        open_bar = future.filter(pl.col("time") == session.intraday["time"].min())
        overnight = (float(open_bar["open"][0]) / settle - 1.0) * 100.0
        lines.append(
            f"| {leg.future} | {leg.index} | {extended.basis[leg.future] * 100:.3f} % "
            f"| {overnight:+.2f} % | {leg.etf} | {etf.height} |"
        )
    table = "\n".join(lines)
    return f"""## Outside the regular session

`{EXTENDED_FILE}` holds minute bars outside the regular grid: the index futures (front month)
every minute of the CME's day, 18:00 the evening before to 17:00, and SPY's and IWM's pre-market
(04:00 to the open) and post-market (the close to 20:00) trades, minutes without a trade left
out. The futures' daily bars are in `{DAILY_FILE}`: each close is the 16:00 settlement, the
index's close x (1 + basis), and the previous close of the futures' quotes. Overnight a future
walks from the last settlement to the index's open x (1 + basis), so the open continues the
overnight move; in the session it tracks the index within the calibrated basis noise. The ETFs'
pre-market trades follow their future since the settlement, the post-market ones since 16:00.

| future | index | basis on {session.session_date} | settlement to the open | ETF | ETF trades |
|---|---|---|---|---|---|
{table}
"""


def _long_history_section(session: SampleSession) -> str:
    """Say what the indices' long history holds, with its span and its first closes."""
    long = session.long_history
    firsts = long.group_by("symbol").agg(
        pl.col("date").first().alias("first"),
        pl.col("close").first().alias("close"),
        pl.col("date").last().alias("last"),
        pl.len().alias("rows"),
    )
    table = "\n".join(
        f"| {row['symbol']} | {row['first'].isoformat()} | {row['close']:.2f} "
        f"| {row['last'].isoformat()} | {row['rows']} |"
        for row in firsts.sort("symbol").iter_rows(named=True)
    )
    return f"""## The indices' long history (DEMO)

`{LONG_HISTORY_FILE}`: DAILY schema, synthetic closes of ^GSPC and ^RUT, one per NYSE session
from {LONG_HISTORY_START.isoformat()} (the first ^RUT date on Yahoo) to {session.first_daily},
for the cutting cycles' study (`capgap cycles --demo` and the cycles screen; nothing reads it
when the demo starts). Closes only: open, high and low are null, volume 0. The last row of each
index is the first session of `{DAILY_FILE}` with the very same close, so the two splice
without a jump. Nothing in it is real: daily log returns are a common Student-t factor (4
degrees of freedom, about 18 % a year), the Russell 2000 with a beta of 1.1 and a noise of its
own, drifts that put the median 1987 levels near the real ones, drawn from a random stream of
their own (`capgap.sample.long_history`). Any cycle's figures from it are DEMO figures.

| index | first session | first close | last session | sessions |
|---|---|---|---|---|
{table}
"""


def _change(closes: np.ndarray[Any, np.dtype[np.float64]]) -> float:
    """Return the change from the first close to the last, in percent."""
    return float(closes[-1] / closes[0] - 1.0) * 100.0


def _correlation(
    first: np.ndarray[Any, np.dtype[np.float64]], second: np.ndarray[Any, np.dtype[np.float64]]
) -> float:
    """Return the correlation of two close series' daily simple returns."""
    return float(
        np.corrcoef(daily_returns(first, simple=True), daily_returns(second, simple=True))[0, 1]
    )


def readme(session: SampleSession, cal: Calibration, universe: Universe) -> str:
    """Return sample_data/README.md, with the calibration figures measured on the files."""
    closes = {
        symbol: _closes(session.daily, symbol)
        for symbol in session.daily.get_column("symbol").unique().sort().to_list()
    }
    stats = index_stats(cal, closes)
    large, small = cal.large.symbol, cal.small.symbol
    gap = cal.gap_parts
    rows = "\n".join(
        f"| {label} | {s['large_vol'] * 100:.2f} % | {s['small_vol'] * 100:.2f} % "
        f"| {s['vol_ratio']:.2f} | {s['correlation']:.2f} | {s['beta']:.2f} |"
        for label, s in stats.items()
    )
    gaps = rotation_gaps(cal, universe, closes)
    rotation = "\n".join(
        f"| {sector.name} | {sector.large_etf} | {sector.small_etf} | "
        f"{gaps[sector.name] * 100:+.1f} pp |"
        for sector in universe.sectors
        if sector.small_etf
    )
    kurt = {
        symbol: excess_kurtosis(daily_returns(closes[symbol], simple=False))
        for symbol in (large, small)
    }
    anchors = "\n".join(
        f"| {spec.symbol} | {day.isoformat()} | {close:.2f} |"
        for spec in (cal.large, cal.small)
        for day, close in sorted(spec.anchors.items())
    )
    futures = {contract.symbol for contract in session.futures.contracts}
    futures.add(session.futures.front_symbol)
    symbols = session.daily.get_column("symbol").n_unique() - len(futures)
    members = session.members_daily.get_column("symbol").n_unique()
    member_closes = {
        symbol: group.sort("date").get_column("close").to_numpy()
        for (symbol,), group in session.members_daily.group_by("symbol")
    }
    betas = list(constituent_betas(session.plan, {**closes, **member_closes}).values())
    beta_low, beta_high = cal.targets.constituent_beta
    inside = sum(beta_low <= beta <= beta_high for beta in betas)
    placeholders = ", ".join(session.placeholders) or "none"
    sizes = {
        "large": universe.constituents.filter(pl.col("bucket") == "large").height,
        "small": universe.constituents.filter(pl.col("bucket") == "small").height,
    }
    sources = "; ".join(
        f"{source.fund} ({source.index}) as of {source.as_of}, {source.members} members"
        for source in universe.sources
    )
    return f"""# capgap sample session — SYNTHETIC DATA

**These prices are synthetic.** The tickers, company names and GICS sectors are real; every
price and volume was generated by `capgap.sample` with a fixed random seed. A handful of index
closes are real published closes (listed below) and the generator passes through them exactly.
Do not use these files for anything but demonstrating and testing capgap: the app shows a DEMO
badge whenever it replays them.

Regenerate (byte-identical output) from the repository root, with the generator's numpy
installed (`pip install '.[sample]'`):

    {REGENERATE}

Seed {session.seed} (search started at {session.seed_start}; {session.seeds_tried} seed(s)
tried), generator version {GENERATOR_VERSION}. The calibration lives in
`tui/capgap/sample/calibration.toml`; the members are every member of the holdings shipped with
capgap (`tui/capgap/data/universe/`: {sources}).

## Files

The core symbols (benchmarks, style and sector ETFs, the ZQ futures) and the index members are
in separate files: the demo reads the core at start and the members' files on their own, and
the members' 5-minute bars keep the whole universe within the demo's size and memory budgets.

- `{DAILY_FILE}`: DAILY schema (symbol str, date date, open/high/low/close f64, volume
  f64), one row per core symbol per NYSE session from {session.first_daily} to
  {session.last_daily} ({len(closes[large])} sessions x {symbols} symbols), plus the
  {len(futures)} ZQ futures series: the single months over the last
  {cal.futures.history_sessions} sessions, {session.futures.front_symbol} over the last
  {cal.futures.daily_sessions}.
- `{INTRADAY_FILE}`: BARS schema (symbol str, time datetime[us, UTC], open/high/low/close
  f64, volume f64), one-minute bars of the core symbols on {session.session_date}; `time` is
  the UTC start of the bar, 09:30 to 15:59 America/New_York (390 bars per symbol). The index
  futures' minute bars are in `{EXTENDED_FILE}` (see Outside the regular session).
- `{EXTENDED_FILE}`: BARS schema, the bars outside the regular grid: the index futures' and
  the ETFs' pre- and post-market trades (see below).
- `{MEMBERS_DAILY_FILE}`: DAILY schema, the same sessions for the {members} index members with
  data ({sizes["large"]} S&P 500 and {sizes["small"]} Russell 2000 members in the holdings; the
  members without a usable price in the holdings, placeholders such as escrow lines, have no
  data: {placeholders}).
- `{MEMBERS_INTRADAY_FILE}`: BARS schema, 5-minute bars of the members on {session.session_date}
  (78 per member), each exactly the aggregate of the member's simulated minutes.
- `{MEMBERS_HISTORY_FILE}`: per member, what its daily history gives a quote, computed from
  `{MEMBERS_DAILY_FILE}` by `capgap.feeds.details.history_details` (the function the replay
  uses for the core symbols): the previous close and its date, the means of the last 50 and
  200 closes (`avg_50d`, `avg_200d`) and the highest high and lowest low of the 52 weeks before
  {session.session_date} (`high_52w`, `low_52w`; the replay extends them by the day's range).
  Reading and aggregating a year of the members' bars when the demo starts would cost about
  0.2 s and 100 MB at peak; this file is 2,418 rows.
- `{FUNDAMENTALS_FILE}`: the members' market cap and forward and trailing EPS (below).
- `{SESSION_FILE}`: session date, seed, generator version, the file names, and the reference
  figures of the day (Fed target range, EFFR, their source label).

Every frame is sorted by (symbol, date/time); prices are rounded to 2 decimals (4 for members
under $1, ^TNX to 3, the ZQ futures to multiples of {session.futures.grid:g}); index volumes
(^GSPC, ^RUT, ^VIX, ^TNX, {gap.small_quality}) are 0. Parquet: zstd level 10, with
statistics. Symbols: every symbol of `load_universe().symbols()` (benchmarks, style ETFs, the
sector ETFs and every member of both holdings but the placeholders), plus the ZQ futures below
(they are not in the universe).

## What is calibrated to what

Exact closes (real published closes):

| index | date | close |
|---|---|---|
{anchors}
| {large} | {session.session_date} (last minute bar) | {cal.large.session_close:.2f} |
| {small} | {session.session_date} (last minute bar) | {cal.small.session_close:.2f} |

The {small} close of {session.last_daily} is the highest close of the file (a record close):
the generator rotates the pairs of daily shocks inside {small}'s last anchor segment
cyclically (rotation {session.rotation} in `{SESSION_FILE}`) to a position where the path
ends on its maximum; a rotation keeps every shock and its pairing, so the statistics below
keep their distribution. A seed (or rotation) that misses any target in the `[targets]`
table of the calibration is skipped, deterministically, in order.

Daily returns: correlated Student-t innovations ({cal.t_df} degrees of freedom, scaled to unit
variance); between two anchor dates a constant is added to each log return so the path hits
the anchors. Measured on the files ({small} against {large}):

| window / returns | {large} vol | {small} vol | vol ratio | correlation | beta |
|---|---|---|---|---|---|
{rows}

Excess kurtosis of daily log returns: {large} {kurt[large]:.2f}, {small} {kurt[small]:.2f}.

- SPY tracks {large} / 10 and IWM tracks {small} / 10.05 with tiny tracking noise. IWD / IWF
  load on {large} and a growth-minus-value factor, IWN / IWO on {small} and a small-cap style
  factor. ^VIX mean-reverts around 16 and moves against {large}; ^TNX hovers around 41.
- Sector ETFs: large = beta x {large} + sector factor + own noise, small = beta x {small} +
  the same sector factor + own noise. Over the last {cal.window} sessions (small minus large,
  simple returns):

| sector | large ETF | small ETF | small minus large |
|---|---|---|---|
{rotation}

- Members follow their bucket's sector ETF (or {small} plus the sector factor where no
  small-cap ETF exists: Communication Services, Real Estate) with a beta drawn in
  {cal.buckets["large"].beta[0]:g}-{cal.buckets["large"].beta[1]:g} and Student-t idiosyncratic
  noise; each closes {session.last_daily} at its price in the holdings file (`ref_price`, the
  price of the holdings' as-of date: a plausible level, not that day's close). Measured OLS
  beta on the driver: {inside} of {len(betas)} members inside {beta_low:g}-{beta_high:g}
  (target: {cal.targets.constituent_beta_share * 100:g} %), median {float(np.median(betas)):.2f}.
- {session.session_date}: every series opens near its {session.last_daily} close (gaps below
  2.5 %) and follows a bridge of fat-tailed minute moves (more volatile near the open and the
  close) to its close; ETFs and stocks load on their index's minute path. Volumes follow a U
  shape through the day.
- ETF levels, ^VIX and ^TNX are approximate late-2025 levels, there only to make the
  numbers look plausible.
- The gap in three parts ({large} against {gap.equal_weight}, {gap.small_quality} and
  {small}): {gap.equal_weight} (the S&P 500 equal-weighted) is derived from the members, not
  drawn: each session's return is the plain mean of the S&P 500 members' returns in
  `{MEMBERS_DAILY_FILE}` (equal weights every day), chained into a level that closes
  {session.last_daily} at {gap.equal_weight_close:.2f}; a session's open, high and low are the
  members' mean open, high and low over their previous closes (the mean of the highs bounds the
  equal-weighted high from above). Its minute bars of {session.session_date} are the same means
  over the members' simulated minutes (at every 5-minute mark: the mean of the members' bars in
  `{MEMBERS_INTRADAY_FILE}`); its volume is {gap.volume_share:g} x {gap.volume_parent}'s.
  {gap.small_quality} (the S&P SmallCap 600, a profitable subset of small caps) follows
  {gap.parent}'s log returns plus a normal own part of {gap.daily_noise * 100:g} % a session
  around {gap.excess_a_year * 100:g} % a year, drawn from a stream of its own, and closes
  {session.last_daily} at {gap.small_quality_close:.2f}; on {session.session_date} it follows
  {gap.parent}'s minutes plus a bridge to that day's own part. First to last daily close:
  {gap.equal_weight} {_change(closes[gap.equal_weight]):+.1f} %, {large}
  {_change(closes[large]):+.1f} %, {gap.small_quality} {_change(closes[gap.small_quality]):+.1f} %,
  {small} {_change(closes[small]):+.1f} %; correlation of daily returns {gap.small_quality} /
  {small} {_correlation(closes[gap.small_quality], closes[small]):.3f}.

{_members_section(session, cal, universe)}{_fundamentals_section(session, cal, universe)}
{_futures_section(session, cal)}
{_extended_section(session)}
{_long_history_section(session)}"""


def write_session(
    session: SampleSession, cal: Calibration, universe: Universe, out: Path
) -> list[Path]:
    """Write all sample files into ``out`` (created if needed) and return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    daily_path, intraday_path = out / DAILY_FILE, out / INTRADAY_FILE
    session.daily.write_parquet(daily_path, **_PARQUET)
    session.intraday.write_parquet(intraday_path, **_PARQUET)
    members = {**_PARQUET, "row_group_size": _MEMBER_ROW_GROUP}
    members_daily_path = out / MEMBERS_DAILY_FILE
    members_intraday_path = out / MEMBERS_INTRADAY_FILE
    fundamentals_path = out / FUNDAMENTALS_FILE
    history_path = out / MEMBERS_HISTORY_FILE
    session.members_history.write_parquet(history_path, **_PARQUET)
    session.members_daily.write_parquet(members_daily_path, **members)
    session.members_intraday.write_parquet(members_intraday_path, **members)
    session.fundamentals.write_parquet(fundamentals_path, **_PARQUET)
    extended_path = out / EXTENDED_FILE
    session.extended.bars.write_parquet(extended_path, **_PARQUET)
    long_path = out / LONG_HISTORY_FILE
    session.long_history.write_parquet(long_path, **_PARQUET)
    session_path, readme_path = out / SESSION_FILE, out / README_FILE
    session_path.write_text(session_toml(session, cal), encoding="utf-8")
    readme_path.write_text(readme(session, cal, universe), encoding="utf-8")
    return [
        daily_path,
        intraday_path,
        members_daily_path,
        members_intraday_path,
        fundamentals_path,
        history_path,
        extended_path,
        long_path,
        session_path,
        readme_path,
    ]
