"""The shared vocabulary every stage speaks: frame schemas, snapshot types, clocks, text and files.

It imports nothing else from capgap: every other room may import it.
"""
