"""The command line: one module per command, and the entry point that dispatches to them.

It sits on top and may import every other room.
"""
