"""Analytics core: frame schemas, the market store and the Snapshot (polars only)."""
