"""iShares' fund holdings CSV (IVV for the S&P 500, IWM for the Russell 2000): the equity rows.

The file is a byte-order mark, metadata lines ("Fund Holdings as of" gives the date), a header
(Ticker, Name, Sector, Asset Class, Market Value, Weight (%), Notional Value, Quantity, Price,
...), the rows, then a legal footer. Numbers are quoted with thousands separators; "-" means
missing. Only equity rows count: cash, futures and money-market lines sit among the stocks.
A body that is not such a file (an HTML page served as CSV, a cut-off download, columns that
moved, far fewer stocks than the last good file) is refused: the last good universe stays.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime

import polars as pl

from capgap.core.schemas import HOLDINGS
from capgap.feeds.base import FeedError
from capgap.market.holdings import CLASS_SHARES, Holdings, gics_sector

#: The columns read, by the header's names; the file is refused if any is missing.
COLUMNS = ("Ticker", "Name", "Sector", "Asset Class", "Weight (%)", "Quantity", "Price")
#: A download with fewer equity rows than this share of the last good one is refused.
MIN_SHARE_OF_LAST = 0.9
_AS_OF = "Fund Holdings as of"
_CLASS_SUFFIX = re.compile(r"^([A-Z]+)\.?([A-Z])$")


def yahoo_symbol(ticker: str, *, known_classes: frozenset[str] = CLASS_SHARES) -> str:
    """Return Yahoo's spelling of an iShares ticker: class shares take a hyphen (BRK-B).

    iShares writes a class share with a dot (``BF.B``) or, for some, without punctuation
    (``BRKB``); only the dotted form is unambiguous, so an undotted ticker becomes a class share
    only when it is in ``known_classes``.
    """
    ticker = ticker.strip().upper()
    if "." in ticker:
        return ticker.replace(".", "-")
    if ticker in known_classes and (match := _CLASS_SUFFIX.match(ticker)):
        return f"{match.group(1)}-{match.group(2)}"
    return ticker


def _number(text: str) -> float | None:
    text = text.strip().replace(",", "")
    if text in {"", "-"}:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _as_of(lines: list[list[str]], fund: str) -> date:
    for line in lines:
        if len(line) >= 2 and line[0].strip() == _AS_OF:
            try:
                return datetime.strptime(line[1].strip(), "%b %d, %Y").date()
            except ValueError:
                break
    raise FeedError(f"iShares {fund}: the holdings file has no readable 'as of' date")


def parse_holdings(
    body: bytes,
    fund: str,
    *,
    last_good_rows: int | None = None,
    known_classes: frozenset[str] = CLASS_SHARES,
    source: str = "",
) -> Holdings:
    """Parse an iShares holdings CSV into its equity rows, or raise FeedError saying why not."""
    text = body.decode("utf-8-sig", errors="replace")
    if text.lstrip()[:1] == "<":
        raise FeedError(f"iShares {fund}: sent an HTML page where the holdings CSV was expected")
    lines = list(csv.reader(io.StringIO(text)))
    header_at = next((i for i, line in enumerate(lines) if line[:1] == ["Ticker"]), None)
    if header_at is None:
        raise FeedError(f"iShares {fund}: the holdings file has no header row (Ticker, Name, ...)")
    header = [name.strip() for name in lines[header_at]]
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        raise FeedError(f"iShares {fund}: the holdings file lacks the columns {', '.join(missing)}")
    at = {name: header.index(name) for name in COLUMNS}
    rows: list[dict[str, object]] = []
    ended = False
    for line in lines[header_at + 1 :]:
        if len(line) < len(header):
            if any(cell.strip() for cell in line):
                raise FeedError(f"iShares {fund}: the holdings file was cut short inside a row")
            ended = True  # the blank line before the legal footer
            break
        if line[at["Asset Class"]].strip() != "Equity":
            continue
        ticker = line[at["Ticker"]].strip()
        shares = _number(line[at["Quantity"]])
        if ticker in {"", "-"} or shares is None:
            continue  # unlisted lines (vesting rights, placeholders) have no ticker
        rows.append(
            {
                "symbol": yahoo_symbol(ticker, known_classes=known_classes),
                "ticker": ticker,
                "name": line[at["Name"]].strip(),
                "sector": gics_sector(line[at["Sector"]].strip()),
                "shares": shares,
                "price": _number(line[at["Price"]]),
                "weight_pct": _number(line[at["Weight (%)"]]),
            }
        )
    if not ended:
        raise FeedError(f"iShares {fund}: the holdings file was cut short (no end after the rows)")
    if not rows:
        raise FeedError(f"iShares {fund}: the holdings file holds no equity rows")
    if last_good_rows is not None and len(rows) < MIN_SHARE_OF_LAST * last_good_rows:
        raise FeedError(
            f"iShares {fund}: the holdings file lists {len(rows)} stocks, far fewer than the "
            f"{last_good_rows} of the last good one"
        )
    as_of = _as_of(lines[:header_at], fund)
    return Holdings(fund, as_of, pl.DataFrame(rows, schema=HOLDINGS), source)
