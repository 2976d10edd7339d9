"""Fixtures of the app tests (the helpers themselves live in app_support)."""

from __future__ import annotations

import pytest
from app_support import SESSION_11AM
from capgap.core.clock import ManualClock


@pytest.fixture
def manual_clock() -> ManualClock:
    """A clock stopped at 11:00 New York on the sample session."""
    return ManualClock(SESSION_11AM)
