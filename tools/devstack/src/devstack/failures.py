"""The one error the runner reports: a named component that failed, with its last lines."""

from __future__ import annotations

from collections.abc import Iterable


class ComponentFailed(Exception):
    """``name`` failed to start or stopped on its own; ``lines`` are its last log lines."""

    def __init__(self, name: str, headline: str, lines: Iterable[str] = ()) -> None:
        super().__init__(f"{name}: {headline}")
        self.name = name
        self.headline = headline
        self.lines = list(lines)
