"""Scoring's use cases."""

#: The CloudEvents ``source`` of every event scoring emits.
SOURCE = "postloan/scoring"
