"""The runner's terminal output: progress lines, the banner, prefixed logs, loud failures.

On a terminal (``interactive``) one status line, such as a progress bar, can stay at the bottom:
every other line is written above it and the status is drawn again below, so logs keep
streaming while it moves.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TextIO

NAME_WIDTH = 11
_COLOURS = ("36", "33", "35", "32", "34", "96", "93", "95")
_RED, _GREEN, _BOLD, _DIM = "31", "32", "1", "2"
_FIXED = {"postgres": "94", "nats": "92", "stack": "1"}
_CLEAR_LINE = "\r\x1b[2K"


def wants_colour(stream: TextIO, env: Mapping[str, str]) -> bool:
    """Colour on a terminal, unless NO_COLOR is set (https://no-color.org)."""
    if env.get("NO_COLOR"):
        return False
    return bool(env.get("FORCE_COLOR")) or stream.isatty()


@dataclass(frozen=True)
class Link:
    label: str
    target: str


class Console:
    """Writes to one stream; component log lines are shown only once the stack is ``live``."""

    def __init__(
        self, stream: TextIO = sys.stdout, *, colour: bool = False, interactive: bool = False
    ) -> None:
        self.stream = stream
        self.colour = colour
        self.interactive = interactive
        self.live = False
        self._colours: dict[str, str] = dict(_FIXED)
        self._status: str | None = None

    def log(self, name: str, line: str) -> None:
        if self.live:
            self._write(f"{self._prefix(name)} {line}")

    def progress(self, name: str, message: str, *, ok: bool = False) -> None:
        mark = self._paint("✔", _GREEN) if ok else self._paint("…", _DIM)
        self._write(f"{self._prefix(name)} {mark} {message}")

    def failure(self, name: str, headline: str, lines: Iterable[str] = ()) -> None:
        rule = self._paint("━" * 72, _RED)
        self._write(rule)
        self._write(self._paint(f"✖ {name}: {headline}", f"{_BOLD};{_RED}"))
        tail = list(lines)
        if tail:
            self._write(self._paint(f"  last {len(tail)} lines of {name}:", _RED))
            for line in tail:
                self._write(f"  {self._prefix(name)} {line}")
        self._write(rule)

    def status(self, name: str, message: str) -> None:
        """Show ``message`` on the bottom line, replacing the previous status (terminal only)."""
        if not self.interactive:
            return
        room = max(shutil.get_terminal_size().columns - NAME_WIDTH - 3, 10)
        self._status = f"{self._prefix(name)} {message[:room]}"
        self._emit(_CLEAR_LINE + self._status)

    def clear_status(self) -> None:
        """Remove the status line, if one is shown."""
        if self._status is not None:
            self._status = None
            self._emit(_CLEAR_LINE)

    def banner(self, title: str, links: Sequence[Link], notes: Sequence[str] = ()) -> None:
        width = max(len(link.label) for link in links)
        self._write("")
        self._write(self._paint(title, f"{_BOLD};{_GREEN}"))
        for link in links:
            self._write(f"  {link.label.ljust(width)}  {self._paint(link.target, _BOLD)}")
        for note in notes:
            self._write(f"  {note}")
        self._write("")

    def _prefix(self, name: str) -> str:
        label = f"{name:<{NAME_WIDTH}} |"
        if name not in self._colours:
            self._colours[name] = _COLOURS[len(self._colours) % len(_COLOURS)]
        return self._paint(label, self._colours[name])

    def _paint(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.colour else text

    def _write(self, text: str) -> None:
        if self._status is None:
            self._emit(text + "\n")
        else:
            self._emit(f"{_CLEAR_LINE}{text}\n{self._status}")

    def _emit(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (BrokenPipeError, ValueError):
            # Output piped into a pager that quit: the stack keeps running without a screen.
            pass
