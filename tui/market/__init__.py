"""Market clock: NYSE calendar and FOMC schedule (no textual, no httpx)."""
