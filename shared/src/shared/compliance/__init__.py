"""Borrower protection as data and one pure guard (BRIEF section 7, decisions 1-8).

Collections decides every contact with :func:`decide` at request time and notify re-checks the
same rules at send time (BRIEF decision 2), so both import this package; it depends on the
standard library only.

* :class:`Pack` and :func:`parse_pack` / :func:`default_pack`: the rules of a jurisdiction as
  versioned data; ``cn`` and ``us`` ship as JSON in ``shared/compliance/packs/``.
* :class:`ContactRequest`, :class:`ContactHistory`: what is asked and what the contact ledger
  says; :func:`decide` returns a :class:`Decision` that carries its rule and reason.
"""

from shared.compliance.documents import FieldError
from shared.compliance.guard import decide
from shared.compliance.history import (
    Attempt,
    ContactHistory,
    ContactRequest,
    Conversation,
    Decision,
    PreferredHours,
)
from shared.compliance.pack import Cap, OptOutLine, Pack
from shared.compliance.parse import default_pack, parse_pack
from shared.compliance.vocabulary import (
    CALLS,
    AttemptStatus,
    Channel,
    Outcome,
    Purpose,
    Recipient,
    Rule,
)

__all__ = [
    "CALLS",
    "Attempt",
    "AttemptStatus",
    "Cap",
    "Channel",
    "ContactHistory",
    "ContactRequest",
    "Conversation",
    "Decision",
    "FieldError",
    "OptOutLine",
    "Outcome",
    "Pack",
    "PreferredHours",
    "Purpose",
    "Recipient",
    "Rule",
    "decide",
    "default_pack",
    "parse_pack",
]
