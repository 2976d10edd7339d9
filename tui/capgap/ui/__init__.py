"""The Textual user interface: the app, screens, widgets, themes and terminal handling.

It imports the engine's polars-free start-up, market, settings and core; screens post messages
that the app handles.
"""
