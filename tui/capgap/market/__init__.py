"""Market facts: the NYSE calendar, the FOMC schedule, FedWatch, chart windows and the universe.

It imports settings and core only (no textual, no httpx).
"""
