"""Finding many patterns in a short text fast: only the patterns that can match are run.

One alternation of a few hundred patterns is tried at every position of the text (~300-600 µs
for one message, measured). But every pattern of a word list needs some literal text to match
(``\\barrest(s|ed)?\\b`` needs "arrest"; ``(小心|当心)你`` needs "小心" or "当心"), and a message
contains few of them. So each pattern gets its *triggers* (one of which any match contains),
found from its parsed form; the triggers are indexed by their first character, and a text
runs only the patterns whose trigger it contains (~10-30 µs).

The test of a trigger is on the text's ``casefold()`` (with the Turkish dotted and dotless I
as "i", the only letters ``re.IGNORECASE`` matches to a Latin letter that casefold does not
turn into it); the patterns run case-insensitively on the text itself, so offsets are the
text's own. (Look-alike letters of other scripts are not folded: the lint catches wording,
not deliberate disguise.)
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT)
#: The two letters a case-insensitive pattern matches as "i" but casefold() does not make "i".
_TURKISH_I = str.maketrans({"\u0130": "i", "\u0131": "i"})


def triggers(regex: str) -> frozenset[str] | None:
    """Literal texts (case-folded) one of which every match of ``regex`` contains; None when
    no such set is found (the pattern then always runs)."""
    found = _required(sre_parse.parse(regex))
    return None if found is None else frozenset(_fold(t) for t in found)


def _fold(text: str) -> str:
    return text.translate(_TURKISH_I).casefold()


def _required(sequence: Any) -> set[str] | None:
    """The best required set of a sequence: the one whose shortest member is longest."""
    best: set[str] | None = None
    run: list[str] = []

    def offer(candidate: set[str] | None) -> None:
        nonlocal best
        if candidate and (best is None or _weight(candidate) > _weight(best)):
            best = candidate

    for op, arg in sequence:
        if op is sre.LITERAL:
            run.append(chr(arg))
            continue
        offer({"".join(run)} if run else None)
        run = []
        if op is sre.SUBPATTERN:
            offer(_required(arg[3]))
        elif op is sre.BRANCH:
            offer(_any_of(arg[1]))
        elif op in _REPEATS and arg[0] >= 1:
            offer(_required(arg[2]))
    offer({"".join(run)} if run else None)
    return best


def _any_of(branches: Sequence[Any]) -> set[str] | None:
    sets = [_required(branch) for branch in branches]
    if any(s is None for s in sets):
        return None
    return {t for s in sets if s is not None for t in s}


def _weight(candidate: set[str]) -> tuple[int, int]:
    return min(len(t) for t in candidate), -len(candidate)


@dataclass(frozen=True, slots=True)
class Match:
    key: int  # the pattern's position in the list given to the Matcher
    start: int
    text: str


class Matcher:
    """Patterns compiled once, with their triggers indexed by first character."""

    def __init__(self, regexes: Sequence[str]) -> None:
        self._patterns = [re.compile(r, re.IGNORECASE) for r in regexes]
        self._always: list[int] = []
        self._index: dict[str, list[tuple[str, int]]] = {}
        for key, regex in enumerate(regexes):
            found = triggers(regex)
            if found is None:
                self._always.append(key)
                continue
            for trigger in found:
                self._index.setdefault(trigger[0], []).append((trigger, key))

    def matches(self, text: str) -> Iterator[Match]:
        """Every match of every pattern in ``text``, pattern by pattern (in the given order)."""
        for key in self._candidates(text):
            for m in self._patterns[key].finditer(text):
                yield Match(key, m.start(), m.group(0))

    def _candidates(self, text: str) -> list[int]:
        folded = _fold(text)
        keys = set(self._always)
        for char in set(folded):
            for trigger, key in self._index.get(char, ()):
                if key not in keys and trigger in folded:
                    keys.add(key)
        return sorted(keys)
