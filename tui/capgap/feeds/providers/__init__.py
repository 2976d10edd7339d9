"""One module per market-data provider: its wire format turned into frames of the core schemas."""
