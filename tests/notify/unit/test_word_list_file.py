"""POSTLOAN_LINT_WORDS_FILE: read when the app is built, before anything connects."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from notify.main import create_app
from notify.service_layer.lexicon import load_lexicon
from notify.settings import NotifySettings


def test_without_a_file_the_shipped_lists_are_used() -> None:
    lexicon = load_lexicon(None)

    assert lexicon.lint("老赖", locale="zh-CN", purpose="reminder")


def test_a_file_adds_its_words(tmp_path: Path) -> None:
    extra = tmp_path / "words.json"
    extra.write_text(json.dumps({"languages": {"zh-CN": {"insult": {"words": ["二百五"]}}}}))

    lexicon = load_lexicon(extra)

    assert [f.match for f in lexicon.lint("二百五，老赖", locale="zh-CN", purpose="reminder")] == [
        "二百五",
        "老赖",
    ]


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ('{"languages": {"en": {"threat": {"patterns": ["(oops"]}}}}', r"threat\.patterns\[0\]"),
        ('{"languages": {"en": {"gossip": {}}}}', r"languages\.en\.gossip"),
        ("not json", "cannot read it as JSON"),
    ],
)
def test_a_wrong_file_stops_the_start_naming_its_mistakes(
    tmp_path: Path, content: str, says: str
) -> None:
    extra = tmp_path / "words.json"
    extra.write_text(content)

    with pytest.raises(ValueError, match=says):
        create_app(NotifySettings(lint_words_file=extra))


def test_a_missing_file_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="POSTLOAN_LINT_WORDS_FILE"):
        create_app(NotifySettings(lint_words_file=tmp_path / "absent.json"))


def test_the_setting_is_read_from_its_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POSTLOAN_LINT_WORDS_FILE", str(tmp_path / "words.json"))

    assert NotifySettings().lint_words_file == tmp_path / "words.json"
