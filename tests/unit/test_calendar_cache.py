"""The NYSE calendar is computed by the holidays package once, then read back from the cache.

Importing holidays costs about 0.1 s at every start (it loads every country's calendar); the
demo's first data waited for it. These tests hold the cached answers to the package's own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from importlib.metadata import version
from pathlib import Path

import holidays
import pytest
from capgap.market import calendar
from capgap.market.calendar import early_close_name, holiday_name, is_trading_day


@pytest.fixture(autouse=True)
def fresh_process() -> Iterator[None]:
    """Forget the years this process has looked up, as a new capgap process would."""
    calendar.forget_years()
    yield
    calendar.forget_years()


def _package_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any use of the holidays package fail: the answers must come from the cache."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the holidays package was asked again")

    monkeypatch.setattr(holidays, "financial_holidays", refuse)


def test_a_second_start_answers_from_the_cache_without_the_package(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Facts from the market-facts notes: Good Friday 2026, the early close after Thanksgiving.
    assert holiday_name(date(2026, 4, 3)) == "Good Friday"
    assert early_close_name(date(2026, 11, 27)) == "Day after Thanksgiving Day"
    calendar.forget_years()
    _package_refuses(monkeypatch)
    assert holiday_name(date(2026, 4, 3)) == "Good Friday"
    assert early_close_name(date(2026, 11, 27)) == "Day after Thanksgiving Day"
    assert is_trading_day(date(2026, 4, 2))
    # The neighbouring years are stored with it: a session search across New Year stays cached.
    assert holiday_name(date(2027, 1, 1)) == "New Year's Day"
    assert (
        holiday_name(date(2025, 1, 9))
        == "National Day of Mourning for former President Jimmy Carter"
    )


@pytest.mark.parametrize("year", range(2024, 2029))
def test_cached_answers_are_the_packages(year: int, monkeypatch: pytest.MonkeyPatch) -> None:
    closures = dict(holidays.financial_holidays("NYSE", years=year).items())
    half = holidays.financial_holidays("NYSE", years=year, categories=("half_day",))
    holiday_name(date(year, 1, 2))  # computes and stores the year
    calendar.forget_years()
    _package_refuses(monkeypatch)  # every answer below comes from the file
    every_day = (date(year, 1, 1) + timedelta(days=n) for n in range(366))
    days = [day for day in every_day if day.year == year]
    assert {day: holiday_name(day) for day in days if holiday_name(day)} == closures
    assert {day for day in days if early_close_name(day)} == set(half)


def test_a_cache_of_another_package_version_is_not_used() -> None:
    path = calendar.calendar_cache_path()
    path.parent.mkdir(parents=True)
    # A file from another version of the rules that closes the exchange on an ordinary day.
    fake = {"closures": {"2026-03-03": "Not A Holiday"}, "half_days": {}}
    path.write_text(json.dumps({"holidays": "0.0-other", "years": {"2026": fake}}))
    assert holiday_name(date(2026, 3, 3)) is None
    assert holiday_name(date(2026, 4, 3)) == "Good Friday"
    stored = json.loads(path.read_text())
    assert stored["holidays"] == version("holidays")
    assert stored["years"]["2026"]["closures"]["2026-04-03"] == "Good Friday"


@pytest.mark.parametrize("body", ["", "{not json", "[]", '{"holidays": 1, "years": []}'])
def test_a_damaged_cache_is_computed_again(body: str) -> None:
    path = calendar.calendar_cache_path()
    path.parent.mkdir(parents=True)
    path.write_text(body)
    assert holiday_name(date(2026, 4, 3)) == "Good Friday"
    assert early_close_name(date(2026, 12, 24)) == "Christmas Eve"


def test_an_unwritable_cache_folder_still_gives_the_calendar(tmp_path: Path) -> None:
    blocker = calendar.calendar_cache_path().parent
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("a file where the folder should be")
    assert holiday_name(date(2026, 4, 3)) == "Good Friday"
    assert early_close_name(date(2026, 12, 24)) == "Christmas Eve"
