"""Content lint: the wording no message to a borrower (or anyone else) may contain.

The rules are BRIEF decision 14's (``threat``, ``insult``, ``shaming``, ``impersonation``,
``fake_blacklist``, ``disclosure``, ``borrow_to_repay``), after the CBA collection guideline
(2026) for ``cn`` and FDCPA §1692d-f / Reg F for ``us``. What each rule looks for is data: a
word and pattern list per language, shipped in ``notify/domain/wordlists/*.json`` and
extendable by a file of the same shape (see docs/notify.md). An entry may apply only to some
template purposes (the debt words of ``disclosure`` only to ``location`` templates, which go
to people who must not learn of the debt) or spare some (a ``legal_notice`` may name the court).

Every language's lists apply to every text, whatever its locale: a Chinese message can carry
an English word, and the reverse.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

from notify.domain.matching import Matcher
from shared.compliance import FieldError, Purpose
from shared.compliance import documents as d
from shared.compliance.documents import Errors, at


class LintRule(StrEnum):
    THREAT = "threat"
    INSULT = "insult"
    SHAMING = "shaming"
    IMPERSONATION = "impersonation"
    FAKE_BLACKLIST = "fake_blacklist"
    DISCLOSURE = "disclosure"
    BORROW_TO_REPAY = "borrow_to_repay"


_PURPOSES = frozenset(Purpose)
_RULES = tuple(LintRule)
_RULE_ORDER = {rule: i for i, rule in enumerate(_RULES)}
_LATIN_EDGE = re.compile(r"[A-Za-z0-9]")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_ENTRY_KEYS = ("purposes", "except_purposes")


@dataclass(frozen=True, slots=True)
class Finding:
    """One forbidden wording: in which locale's text, under which rule, what matched, where."""

    locale: str
    rule: LintRule
    match: str
    at: int


@dataclass(frozen=True, slots=True)
class Entry:
    """One word or pattern of a rule, as a regular expression, and the purposes it covers
    (``purposes`` None: all of them but ``except_purposes``)."""

    language: str
    rule: LintRule
    regex: str
    purposes: frozenset[Purpose] | None = None
    except_purposes: frozenset[Purpose] = frozenset()

    def applies_to(self, purpose: Purpose) -> bool:
        if purpose in self.except_purposes:
            return False
        return self.purposes is None or purpose in self.purposes


class Lexicon:
    """The entries of every rule, with a matcher per purpose over the entries that apply."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self.entries: tuple[Entry, ...] = tuple(entries)
        self._by_purpose = {p: _PurposeMatcher(self.entries, p) for p in Purpose}

    def merged(self, other: Lexicon) -> Lexicon:
        """This lexicon with ``other``'s entries added (an extension never removes a word)."""
        return Lexicon(self.entries + other.entries)

    def lint(self, text: str, *, locale: str, purpose: Purpose | str) -> list[Finding]:
        """Every forbidden wording in ``text``, in the order of the rules, then of position
        (matches of one rule that overlap are reported once, the first and longest)."""
        return self._by_purpose[Purpose(purpose)].findings(text, locale)


class _PurposeMatcher:
    def __init__(self, entries: Iterable[Entry], purpose: Purpose) -> None:
        picked = sorted(
            (e for e in entries if e.applies_to(purpose)), key=lambda e: _RULE_ORDER[e.rule]
        )
        self._rules = [e.rule for e in picked]
        self._matcher = Matcher([e.regex for e in picked])

    def findings(self, text: str, locale: str) -> list[Finding]:
        found = sorted(
            (_RULE_ORDER[self._rules[m.key]], m.start, -len(m.text), m.text)
            for m in self._matcher.matches(text)
        )
        kept: list[Finding] = []
        end: dict[LintRule, int] = {}  # where the last kept match of each rule ends
        for order, start, _, match in found:
            rule = _RULES[order]
            if start < end.get(rule, 0):
                continue
            end[rule] = start + len(match)
            kept.append(Finding(locale, rule, match, start))
        return kept


def word_regex(word: str) -> str:
    """A literal word as an expression; a Latin word matches only whole (``arrest`` is not in
    ``arrears``), a Chinese one anywhere (Chinese is written without spaces)."""
    regex = re.escape(word)
    if _LATIN_EDGE.match(word[:1]):
        regex = r"(?<![A-Za-z0-9])" + regex
    if _LATIN_EDGE.match(word[-1:]):
        regex += r"(?![A-Za-z0-9])"
    return regex


def parse_lexicon(document: object) -> Lexicon | list[FieldError]:
    """The lexicon a word-list document describes, or every mistake in it with its path."""
    errors = Errors()
    top = d.mapping(document, "", errors, required=("languages",), optional=("version", "sources"))
    entries: list[Entry] = []
    if top is not None:
        languages = d.mapping(top.get("languages"), "languages", errors, optional=_keys(top))
        for language, rules in (languages or {}).items():
            entries += _language(str(language), rules, at("languages", str(language)), errors)
    return errors.items if errors else Lexicon(entries)


@cache
def shipped_lexicon() -> Lexicon:
    """The word lists shipped with notify (``wordlists/*.json``), parsed once."""
    folder = resources.files("notify.domain").joinpath("wordlists")
    lexicon = Lexicon(())
    for item in sorted(folder.iterdir(), key=lambda f: f.name):
        if item.name.endswith(".json"):
            parsed = parse_lexicon(json.loads(item.read_text("utf-8")))
            if isinstance(parsed, list):  # the shipped lists are tested valid: a packaging fault
                raise ValueError(f"shipped word list {item.name} is invalid: {parsed}")
            lexicon = lexicon.merged(parsed)
    return lexicon


def _keys(top: Mapping[str, Any]) -> Collection[str]:
    value = top.get("languages")
    return value.keys() if isinstance(value, Mapping) else ()


def _language(language: str, value: object, path: str, errors: Errors) -> list[Entry]:
    if not _LANGUAGE.match(language):
        errors.add(path, 'must be a language such as "en" or "zh-CN"')
    rules = d.mapping(value, path, errors, optional=frozenset(LintRule))
    entries: list[Entry] = []
    for rule, lists in (rules or {}).items():
        if rule in frozenset(LintRule):
            entries += _rule(language, LintRule(rule), lists, at(path, str(rule)), errors)
    return entries


def _rule(language: str, rule: LintRule, value: object, path: str, errors: Errors) -> list[Entry]:
    lists = d.mapping(value, path, errors, optional=("words", "patterns"))
    entries: list[Entry] = []
    for kind in ("words", "patterns"):
        listed = d.items(lists.get(kind, []), at(path, kind), errors) if lists else None
        for i, item in enumerate(listed or ()):
            entry = _entry(language, rule, kind, item, at(at(path, kind), i), errors)
            if entry is not None:
                entries.append(entry)
    return entries


def _entry(
    language: str, rule: LintRule, kind: str, value: object, path: str, errors: Errors
) -> Entry | None:
    key = "word" if kind == "words" else "pattern"
    body: Mapping[str, Any] | None = {key: value} if isinstance(value, str) else None
    if body is None:
        body = d.mapping(value, path, errors, required=(key,), optional=_ENTRY_KEYS)
    if body is None:
        return None
    where = path if isinstance(value, str) else at(path, key)
    text = d.text(body.get(key), where, errors, max_length=500)
    regex = None if text is None else _regex(text, kind, where, errors)
    only = body.get("purposes")
    purposes = None if only is None else _purposes(only, at(path, "purposes"), errors)
    spared = _purposes(body.get("except_purposes", []), at(path, "except_purposes"), errors)
    if regex is None or (only is not None and purposes is None) or spared is None:
        return None
    return Entry(language, rule, regex, purposes, spared)


def _regex(text: str, kind: str, path: str, errors: Errors) -> str | None:
    regex = word_regex(text) if kind == "words" else text
    try:
        compiled = re.compile(regex, re.IGNORECASE)
    except re.error as e:
        errors.add(path, f"is not a valid regular expression: {e}")
        return None
    if compiled.search("") is not None:
        errors.add(path, "must not match an empty text (it would match everywhere)")
        return None
    return regex


def _purposes(value: object, path: str, errors: Errors) -> frozenset[Purpose] | None:
    picked = d.choices(value, path, errors, _PURPOSES, non_empty=False)
    return None if picked is None else frozenset(Purpose(p) for p in picked)
