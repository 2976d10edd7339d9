"""The iShares holdings CSV: equity rows, Yahoo's symbols, and every malformed download refused."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from capgap.feeds.base import FeedError
from capgap.feeds.providers.ishares import parse_holdings, yahoo_symbol

SHARED = Path(__file__).parents[3] / "shared" / "fixtures" / "providers"
HEADER = (
    "Ticker,Name,Sector,Asset Class,Market Value,Weight (%),Notional Value,Quantity,Price,"
    "Location,Exchange,Currency,FX Rate,Market Currency,Accrual Date"
)
PREAMBLE = (
    "\ufeffiShares Test ETF\n"
    'Fund Holdings as of,"May 05, 2026"\n'
    'Inception Date,"May 22, 2000"\n'
    'Shares Outstanding,"278,750,000.00"\n'
    'Stock,"-"\nBond,"-"\nCash,"-"\nOther,"-"\n'
    "\xa0\n"
)
FOOTER = '\xa0\n"The content contained herein is owned or licensed by BlackRock.\nHoldings.\n'


def row(ticker: str, name: str, sector: str, kind: str, weight: str, qty: str, price: str) -> str:
    """One data line as iShares writes it: every field quoted, numbers with separators."""
    fields = [ticker, name, sector, kind, "1,000.00", weight, "1,000.00", qty, price,
              "United States", "NYSE", "USD", "1.00", "USD", "-"]  # fmt: skip
    return ",".join(f'"{field}"' for field in fields) + "\n"


# (ticker, name, sector, asset class, weight %, quantity, price), as iShares writes them.
LINES = [
    ("BE", "BLOOM ENERGY CLASS A CORP", "Industrials", "Equity", "1.93", "5,190,838.00", "295.25"),
    ("BF.B", "BROWN FORMAN CORP CLASS B", "Consumer Staples", "Equity", "0.01", "1,000.00", "-"),
    ("BRKB", "BERKSHIRE HATHAWAY INC CLASS B", "Financials", "Equity", "1.50", "2,000.00", "500.1"),
    ("XTSLA", "BLK CSH FND", "Cash and/or Derivatives", "Money Market", "0.50", "100.00", "1.00"),
    ("-", "OMNIAB INC $12.50 VESTING Prvt", "Health Care", "Equity", "0.00", "130,676.00", "0.00"),
    ("RTYM6", "RUSSELL 2000 EMINI", "Cash and/or Derivatives", "Futures", "0", "1,998.00", "2.9"),
]
ROWS = [row(*line) for line in LINES]


def holdings_file(rows: list[str] = ROWS, *, header: str = HEADER, footer: str = FOOTER) -> bytes:
    return (PREAMBLE + header + "\n" + "".join(rows) + footer).encode()


def test_only_equity_rows_with_a_ticker_count_and_numbers_are_read():
    holdings = parse_holdings(holdings_file(), "IWM", known_classes=frozenset({"BRKB"}))
    assert holdings.fund == "IWM"
    assert holdings.as_of == date(2026, 5, 5)
    assert holdings.rows.to_dicts() == [
        {"symbol": "BE", "ticker": "BE", "name": "BLOOM ENERGY CLASS A CORP",
         "sector": "Industrials", "shares": 5_190_838.0, "price": 295.25, "weight_pct": 1.93},
        {"symbol": "BF-B", "ticker": "BF.B", "name": "BROWN FORMAN CORP CLASS B",
         "sector": "Consumer Staples", "shares": 1_000.0, "price": None, "weight_pct": 0.01},
        {"symbol": "BRK-B", "ticker": "BRKB", "name": "BERKSHIRE HATHAWAY INC CLASS B",
         "sector": "Financials", "shares": 2_000.0, "price": 500.10, "weight_pct": 1.5},
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("ticker", "known", "symbol"),
    [
        ("BF.B", frozenset(), "BF-B"),
        ("BRKB", frozenset({"BRKB"}), "BRK-B"),
        # Undotted and not known as a class share: left alone (Yahoo writes FOXA, GOOGL too).
        ("FOXA", frozenset(), "FOXA"),
        ("GOOGL", frozenset({"BRKB"}), "GOOGL"),
        (" aapl ", frozenset(), "AAPL"),
    ],
)
def test_tickers_take_yahoos_spelling(ticker, known, symbol):
    assert yahoo_symbol(ticker, known_classes=known) == symbol


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<!DOCTYPE html><html><body>Select your region</body></html>", "sent an HTML page"),
        (holdings_file(footer=""), "cut short (no end after the rows)"),
        (holdings_file()[: len(holdings_file(ROWS[:2])) - len(FOOTER) - 20], "cut short inside"),
        (holdings_file(header=HEADER.replace("Quantity", "Shares")), "lacks the columns Quantity"),
        (PREAMBLE.encode() + b"no header here\n", "no header row"),
        (holdings_file(ROWS[3:]), "holds no equity rows"),
        (holdings_file().replace(b"Fund Holdings as of", b"Fund Holdings"), "no readable 'as of'"),
    ],
    ids=["html", "no-footer", "cut-in-a-row", "column-moved", "no-header", "no-equity", "no-date"],
)
def test_a_download_that_is_not_a_holdings_file_is_refused(body, message):
    with pytest.raises(FeedError, match=r"^iShares IVV: ") as caught:
        parse_holdings(body, "IVV")
    assert message in str(caught.value)


def test_far_fewer_stocks_than_the_last_good_file_is_refused():
    # Three stocks against a last good file of four: 75 %, under the 90 % floor.
    with pytest.raises(FeedError, match="lists 3 stocks, far fewer than the 4 of the last good"):
        parse_holdings(holdings_file(), "IWM", last_good_rows=4)
    assert parse_holdings(holdings_file(), "IWM", last_good_rows=3).rows.height == 3


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/fixtures is absent")
@pytest.mark.parametrize(
    ("name", "fund", "as_of", "stocks"),
    [
        ("ishares_IVV_holdings_2025-11-18.csv", "IVV", date(2025, 11, 18), 503),
        ("ishares_IWM_holdings_2026-05-05.csv", "IWM", date(2026, 5, 5), 1921),
    ],
)
def test_the_real_files_give_their_equity_rows(name, fund, as_of, stocks):
    holdings = parse_holdings((SHARED / name).read_bytes(), fund)
    assert (holdings.as_of, holdings.rows.height) == (as_of, stocks)
    # The equity rows carry nearly all of the fund (the rest is cash and futures).
    assert 99.0 < holdings.rows.get_column("weight_pct").sum() <= 100.0
    assert min(holdings.rows.get_column("shares").to_list()) > 0
