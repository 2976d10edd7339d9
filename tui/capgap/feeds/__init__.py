"""Data feeds: the Feed interface, the HTTP gate, providers and recording (no textual).

It imports market, settings and core (the shared contract with analytics); never analytics.
"""
