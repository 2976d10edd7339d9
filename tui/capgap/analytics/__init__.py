"""Analytics: the market store and every figure of the Snapshot, computed with polars.

It imports market, settings and core; never feeds, the engine or the UI.
"""
