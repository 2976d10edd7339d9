"""What the user configures and what capgap remembers: the model, loading, the documented default.

It imports only core.
"""
