"""The word lists the content lint uses in this process: the shipped ones, plus the file named
by ``POSTLOAN_LINT_WORDS_FILE`` when set (loaded once, at start-up)."""

from __future__ import annotations

import json
from pathlib import Path

from notify.domain.lint import Lexicon, parse_lexicon, shipped_lexicon


class _InUse:
    lexicon: Lexicon | None = None


def load_lexicon(extra: Path | None) -> Lexicon:
    """The shipped lists, extended by the file ``extra``; ValueError naming every mistake."""
    shipped = shipped_lexicon()
    if extra is None:
        return shipped
    try:
        document = json.loads(extra.read_text("utf-8"))
    except (OSError, ValueError) as e:
        raise ValueError(f"POSTLOAN_LINT_WORDS_FILE {extra}: cannot read it as JSON: {e}") from e
    parsed = parse_lexicon(document)
    if isinstance(parsed, list):
        mistakes = "; ".join(f"{e.field}: {e.message}" for e in parsed)
        raise ValueError(f"POSTLOAN_LINT_WORDS_FILE {extra}: {mistakes}")
    return shipped.merged(parsed)


def use_lexicon(lexicon: Lexicon) -> None:
    """Make ``lexicon`` the one every later upload and render is linted with."""
    _InUse.lexicon = lexicon


def current_lexicon() -> Lexicon:
    """The lexicon in use: the configured one, or the shipped lists before start-up."""
    return _InUse.lexicon or shipped_lexicon()
