"""Generator of the bundled sample session."""
