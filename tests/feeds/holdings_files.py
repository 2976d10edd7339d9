"""Small iShares holdings files in the real format, and a small shipped universe to test against.

The real files hold thousands of rows; these hold a dozen (ten stocks, a cash line, a futures
line, an unlisted placeholder), written the way iShares writes them: a byte-order mark, eight
metadata lines, a line of one non-breaking space, the header, quoted rows with thousands
separators, then a non-breaking space line and the legal footer.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from capgap.feeds.providers.ishares import parse_holdings
from capgap.market import universe as universe_module
from capgap.market.holdings import FUNDS, write_holdings

HEADER = (
    "Ticker,Name,Sector,Asset Class,Market Value,Weight (%),Notional Value,Quantity,Price,"
    "Location,Exchange,Currency,FX Rate,Market Currency,Accrual Date"
)
FOOTER = (
    "\xa0\n"
    '"The content contained herein is owned or licensed by BlackRock and/or its third-party '
    'information providers."\n'
    "Holdings subject to change. See www.iShares.com for the most recent funds holdings.\n"
)

# (ticker, name, sector, weight %, quantity, price): ten stocks, sectors as iShares names them.
STOCKS = [
    ("AAA", "ALPHA CORP", "Information Technology", "20.00", "1,000,000.00", "100.00"),
    ("BBB", "BRAVO INC", "Financials", "15.00", "500,000.00", "150.50"),
    ("BRKB", "BERKSHIRE HATHAWAY INC CLASS B", "Financials", "12.00", "200,000.00", "300.00"),
    ("CCC", "CHARLIE HOLDINGS", "Health Care", "10.00", "250,000.00", "200.00"),
    ("DDD", "DELTA ENERGY", "Energy", "9.00", "90,000.00", "500.00"),
    ("EEE", "ECHO MEDIA", "Communication", "8.00", "400,000.00", "100.00"),
    ("FFF", "FOXTROT RETAIL", "Consumer Discretionary", "8.00", "80,000.00", "500.00"),
    ("BF.B", "BROWN FORMAN CORP CLASS B", "Consumer Staples", "7.00", "700,000.00", "50.00"),
    ("GGG", "GOLF INDUSTRIAL", "Industrials", "6.00", "60,000.00", "500.00"),
    ("HHH", "HOTEL REIT", "Real Estate", "5.00", "50,000.00", "500.00"),
]
OTHERS = [
    ("XTSLA", "BLK CSH FND TREASURY SL AGENCY", "Cash and/or Derivatives", "Money Market",
     "0.50", "1,000.00", "1.00"),
    ("USD", "USD CASH", "Cash and/or Derivatives", "Cash", "0.10", "100.00", "100.00"),
    ("-", "OMNIAB INC $12.50 VESTING Prvt", "Health Care", "Equity", "0.00", "130,676.00", "0.00"),
    ("RTYM6", "RUSSELL 2000 EMINI CME JUN 26", "Cash and/or Derivatives", "Futures", "0.00",
     "1,998.00", "2,852.90"),
]  # fmt: skip


def _line(fields: list[str]) -> str:
    return ",".join(f'"{field}"' for field in fields) + "\n"


def holdings_csv(
    as_of: date,
    stocks: list[tuple[str, str, str, str, str, str]] = STOCKS,
    *,
    header: str = HEADER,
    fund: str = "iShares Russell 2000 ETF",
) -> bytes:
    """Return a holdings file as iShares serves it, as of ``as_of``."""
    preamble = (
        f"\ufeff{fund}\n"
        f'Fund Holdings as of,"{as_of:%b %d, %Y}"\n'
        'Inception Date,"May 22, 2000"\n'
        'Shares Outstanding,"278,750,000.00"\n'
        'Stock,"-"\nBond,"-"\nCash,"-"\nOther,"-"\n'
        "\xa0\n"
    )
    rows = [
        _line([t, n, s, "Equity", "1,000.00", w, "1,000.00", q, p, "United States", "NYSE",
               "USD", "1.00", "USD", "-"])
        for t, n, s, w, q, p in stocks
    ]  # fmt: skip
    rows += [
        _line([t, n, s, k, "1,000.00", w, "1,000.00", q, p, "United States", "-", "USD", "1.00",
               "USD", "-"])
        for t, n, s, k, w, q, p in OTHERS
    ]  # fmt: skip
    # The cash and futures lines sit among the stocks, as in the real files.
    rows.insert(3, rows.pop())
    return (preamble + header + "\n" + "".join(rows) + FOOTER).encode()


#: The date of the small shipped universe the tests install.
SHIPPED_AS_OF = date(2026, 5, 5)


def install_small_shipped(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make ``folder`` the shipped universe: both funds hold the ten stocks as of 2026-05-05."""
    for fund in FUNDS:
        holdings = parse_holdings(holdings_csv(SHIPPED_AS_OF), fund.ticker, source="test")
        write_holdings(folder, holdings)
    monkeypatch.setattr(universe_module, "shipped_dir", lambda: folder)
    return folder
