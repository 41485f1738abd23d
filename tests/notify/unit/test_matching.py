"""The lint's matcher runs only the patterns a text can match, and finds what a full scan finds."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notify.domain.lint import shipped_lexicon
from notify.domain.matching import Matcher, triggers

REGEXES = [e.regex for e in shipped_lexicon().entries]


@pytest.mark.parametrize(
    ("regex", "expected"),
    [
        (r"\barrest(s|ed|ing)?\b", {"arrest"}),
        ("(小心|当心|注意)(你|您)?(的)?(家人|孩子)", {"家人", "孩子"}),  # fewer, as long
        (r"\b(hurt|harm)\s+(you|your)\b", {"you"}),  # parsed as h(urt|arm) ... you(|r)
        ("(a|b)+xyz", {"xyz"}),
        ("Police", {"police"}),
        (r"\w+", None),
        ("(a|)b?", None),
    ],
)
def test_a_patterns_triggers_are_the_literals_every_match_contains(
    regex: str, expected: set[str] | None
) -> None:
    assert triggers(regex) == (None if expected is None else frozenset(expected))


def test_every_shipped_pattern_has_triggers() -> None:
    assert all(triggers(regex) is not None for regex in REGEXES)


def _full_scan(text: str) -> list[tuple[int, int, str]]:
    return [
        (key, m.start(), m.group(0))
        for key, regex in enumerate(REGEXES)
        for m in re.finditer(regex, text, re.IGNORECASE)
    ]


_CHINESE = ["坐牢", "老赖", "法院", "逾期", "通知您的家人", "黑名单", "借钱还", "请按时还款", "，"]
_ENGLISH = ["ARRESTED", "deadbeat", "court", "our lawyer", "blacklist", "debt", "payday loan"]
_OTHER = [" ", "please", "Zhang", "1066.19", "ſ", "İ", "ß", "PRİSON", "prıson", "ARREſT"]
_PIECES = st.sampled_from([*_CHINESE, *_ENGLISH, *_OTHER])


@given(st.lists(_PIECES, max_size=12).map("".join))
def test_the_matcher_finds_exactly_what_a_full_scan_finds(text: str) -> None:
    matcher = Matcher(REGEXES)

    found = [(m.key, m.start, m.text) for m in matcher.matches(text)]

    assert found == _full_scan(text)
