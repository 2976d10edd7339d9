"""Everything that reaches into Textual's internals: the driver, the output filter, signals.

Kept in one folder so that a Textual upgrade has one place to check.
"""
