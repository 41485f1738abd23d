"""The 422 problem of a template or message refused, with every issue as an error item."""

from __future__ import annotations

from collections.abc import Sequence

from notify.domain.issues import Issue
from shared.problems import Problem


class Unprocessable(Problem):
    """422: the request is well-formed but refused; ``errors`` lists each issue (``field``,
    ``message``, and for a lint finding ``locale``, ``rule``, ``match``, ``at``)."""

    def __init__(self, title: str, issues: Sequence[Issue]) -> None:
        detail = "; ".join(f"{i.field}: {i.message}" for i in issues[:5])
        super().__init__(422, title, detail, errors=[i.as_dict() for i in issues])
        self.issues = tuple(issues)
