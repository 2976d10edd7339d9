"""Index membership from the funds' holdings: the funds, Yahoo's spelling, and the universe file.

A universe file is what capgap keeps of one holdings download: ``# key = value`` lines (fund,
as-of date, where it came from), then a CSV in the HOLDINGS schema. The shipped universe
(``capgap/data/universe/``) and the daily downloads in the cache directory share the format and
this one reader and writer.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from capgap.core.atomic import write_bytes_atomic
from capgap.core.resources import package_data
from capgap.core.schemas import HOLDINGS, conform
from capgap.core.snapshot import Bucket


@dataclass(frozen=True, slots=True)
class Fund:
    """A fund whose holdings define one leg's index membership."""

    ticker: str  # "IVV"
    index: str  # "S&P 500"
    bucket: Bucket  # the leg it defines: "large" or "small"
    product_path: str  # the fund's page under the iShares base URL


#: The funds whose holdings are the two indices, large leg first.
FUNDS: tuple[Fund, ...] = (
    Fund("IVV", "S&P 500", "large", "us/products/239726/ishares-core-sp-500-etf"),
    Fund("IWM", "Russell 2000", "small", "us/products/239710/ishares-russell-2000-etf"),
)

#: iShares' sector names that differ from GICS' (the universe uses GICS names).
SECTOR_NAMES: dict[str, str] = {"Communication": "Communication Services"}

#: NYSE class shares that iShares writes without punctuation (``BRKB``) and Yahoo with a hyphen
#: (``BRK-B``). A plain ``A``/``B`` ending is no sign of a class share (MA, ZETA, CIA, VIA), so
#: only the listed ones are translated; a name Yahoo then does not know is listed once.
CLASS_SHARES: frozenset[str] = frozenset(
    {
        "BRKB",
        "BFA",
        "BFB",
        "MOGA",
        "MOGB",
        "GEFB",
        "CRDA",
        "CRDB",
        "HEIA",
        "LENB",
        "BIOB",
        "CWENA",
        "GTNA",
        "AKOA",
        "AKOB",
        "MKCV",
        "HVTA",
        "JWA",
    }
)

_HEADER_LINE = re.compile(r"^#\s*(\w+)\s*=\s*(.*?)\s*$")


@dataclass(frozen=True, slots=True)
class Holdings:
    """A fund's equity holdings on a date; ``rows`` follows HOLDINGS, ``source`` says whence."""

    fund: str
    as_of: date
    rows: pl.DataFrame
    source: str = ""


def fund_of(ticker: str) -> Fund:
    """Return the fund of ``ticker`` (IVV or IWM, any case); ValueError names the choices."""
    for fund in FUNDS:
        if fund.ticker == ticker.strip().upper():
            return fund
    raise ValueError(f"unknown fund {ticker!r}: choose {', '.join(f.ticker for f in FUNDS)}")


def gics_sector(sector: str) -> str:
    """Return the GICS name of an iShares sector label."""
    return SECTOR_NAMES.get(sector, sector)


def shipped_dir() -> Path:
    """Return the folder of the universe that ships with capgap."""
    return package_data("universe")


def cache_dir() -> Path:
    """Return the folder of the downloaded holdings (platformdirs' user cache, ``universe/``)."""
    from platformdirs import user_cache_path

    return user_cache_path("capgap", appauthor=False) / "universe"


def file_name(fund: str) -> str:
    """Return the name of a fund's universe file (the same in the shipped and cache folders)."""
    return f"{fund.upper()}.csv"


def holdings_bytes(holdings: Holdings) -> bytes:
    """Return the universe file of ``holdings``: its header lines, then the HOLDINGS CSV."""
    head = (
        f"# capgap universe: {holdings.fund} holdings, as published by iShares\n"
        f"# fund = {holdings.fund}\n"
        f"# as_of = {holdings.as_of.isoformat()}\n"
        f"# source = {holdings.source}\n"
    )
    body = conform(holdings.rows, HOLDINGS).write_csv(float_precision=None)
    return head.encode() + body.encode()


def write_holdings(folder: Path, holdings: Holdings) -> Path:
    """Write ``holdings`` atomically as ``folder/<FUND>.csv`` and return the path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / file_name(holdings.fund)
    write_bytes_atomic(path, holdings_bytes(holdings))
    return path


def read_holdings(path: Path) -> Holdings:
    """Read a universe file; ValueError says in one line what is wrong with it."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"universe file {path}: cannot be read ({exc})") from exc
    meta: dict[str, str] = {}
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        if match := _HEADER_LINE.match(line):
            meta[match.group(1)] = match.group(2)
    try:
        fund = meta["fund"]
        as_of = date.fromisoformat(meta["as_of"])
    except (KeyError, ValueError) as exc:
        raise ValueError(f"universe file {path}: no readable fund and as_of lines") from exc
    try:
        rows = pl.read_csv(
            io.StringIO(text), comment_prefix="#", schema_overrides=dict(HOLDINGS.items())
        )
        rows = conform(rows, HOLDINGS)
    except (pl.exceptions.PolarsError, ValueError) as exc:
        raise ValueError(f"universe file {path}: not a holdings table ({exc})") from exc
    if rows.height == 0:
        raise ValueError(f"universe file {path}: holds no members")
    return Holdings(fund, as_of, rows, meta.get("source", ""))
