"""Port choice: the ports a stack used last time, kept in its state folder and reused when free.

Reusing ports keeps bookmarks and ``psql`` command lines valid across restarts; a port that
another program took meanwhile is replaced by a free one. 4222 and 5432 (and NATS's other
well-known ports) are never chosen, so the stack never collides with a server the user runs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from devstack.embedded import RESERVED_PORTS, free_port, port_is_free


class PortBook:
    """Ports by component name, read from and saved to ``<state>/ports.json``."""

    def __init__(
        self,
        path: Path,
        *,
        is_free: Callable[[int], bool] = port_is_free,
        any_free: Callable[[], int] = free_port,
    ) -> None:
        self.path = path
        self._is_free = is_free
        self._any_free = any_free
        self._remembered = _read(path)
        self.chosen: dict[str, int] = {}

    def claim(self, name: str, preferred: int | None = None) -> int:
        """The remembered port, else ``preferred``, else any free one; never one claimed already."""
        for candidate in (self._remembered.get(name), preferred):
            if candidate is not None and self._usable(candidate):
                return self.record(name, candidate)
        while True:
            port = self._any_free()
            if self._usable(port):
                return self.record(name, port)

    def record(self, name: str, port: int) -> int:
        """Note the port a component really got (a server may pick another one itself)."""
        self.chosen[name] = port
        return port

    def save(self) -> None:
        ports = {**self._remembered, **self.chosen}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(ports, indent=2, sort_keys=True) + "\n")
        os.replace(tmp, self.path)

    def _usable(self, port: int) -> bool:
        taken = port in self.chosen.values()
        return 0 < port < 65536 and port not in RESERVED_PORTS and not taken and self._is_free(port)


def _read(path: Path) -> dict[str, int]:
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(raw, dict):
        return {}
    return {str(k): v for k, v in raw.items() if isinstance(v, int) and not isinstance(v, bool)}
