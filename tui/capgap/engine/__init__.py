"""The loop that polls the feeds, builds snapshots with the analytics and hands them to viewers.

It imports feeds, analytics, market, settings and core; never the UI or the CLI. Its start-up
module stays free of polars and httpx so that the first paint does not wait for them.
"""
