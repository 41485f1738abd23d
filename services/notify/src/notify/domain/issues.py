"""One mistake in a template or a render, as the 422 problem lists it (BRIEF decision 14)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Issue:
    """Where a mistake is (a bracket path such as ``locales.en.body``) and what is wrong.

    A content-lint finding adds the ``locale`` it was found in, its ``rule``, the text that
    matched and ``at``, the character offset of the match in that field's text.
    """

    field: str
    message: str
    locale: str | None = None
    rule: str | None = None
    match: str | None = None
    at: int | None = None

    def as_dict(self) -> dict[str, str | int]:
        item: dict[str, str | int] = {"field": self.field, "message": self.message}
        for key in ("locale", "rule", "match", "at"):
            value = getattr(self, key)
            if value is not None:
                item[key] = value
        return item
