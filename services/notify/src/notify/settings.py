"""Notify's settings (environment variables with the ``POSTLOAN_`` prefix)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from shared.settings import ServiceSettings


class NotifySettings(ServiceSettings):
    service_name: str = "notify"
    lint_words_file: Path | None = Field(
        default=None,
        description=(
            "POSTLOAN_LINT_WORDS_FILE: a JSON word list of the shipped lists' shape whose "
            "words and patterns are added to them (docs/notify.md); read at start-up, which "
            "fails if the file is missing or wrong."
        ),
    )
