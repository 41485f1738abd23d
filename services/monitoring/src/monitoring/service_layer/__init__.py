"""Monitoring's use cases."""

from shared.envelope import source_of

#: The CloudEvents ``source`` of every event monitoring emits.
SOURCE = source_of("monitoring")
