"""Alerts: the user's rules checked against each snapshot, and what fires.

It imports analytics' vocabulary (core), market and settings; never feeds, the engine or the UI.
"""
