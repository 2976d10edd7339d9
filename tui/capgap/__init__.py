"""capgap: a terminal monitor for the gap between large and small caps."""

__version__ = "0.1.0"
