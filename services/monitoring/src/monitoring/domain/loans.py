"""Loan registration rules: defaults, the resolved schedule, and what makes two bodies equal."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from monitoring.domain.schedule import Instalment, add_months, build_schedule
from shared.events import LoanAccepted, LoanRegistered


@dataclass(frozen=True)
class RegisteredLoan:
    """A registration with every default resolved, ready to store."""

    accepted: LoanAccepted
    schedule: list[Instalment]
    fingerprint: str


#: Fields added to the registration after fingerprints were first stored: left out of the
#: canonical form while unset, so that a body without them fingerprints as it always did (the
#: same body posted again is still a 200, not a 409).
LATER_FIELDS = ("time_barred_on", "contacts")
LATER_BORROWER_FIELDS = ("address",)


def canonical_json(registration: LoanRegistered) -> dict[str, Any]:
    """The registration's JSON as fingerprinted: its ``model_dump``, the later fields that are
    None left out."""
    body = registration.model_dump(mode="json")
    _drop_unset(body, LATER_FIELDS)
    _drop_unset(body["borrower"], LATER_BORROWER_FIELDS)
    return body


def _drop_unset(body: dict[str, Any], names: tuple[str, ...]) -> None:
    for name in names:
        if body.get(name) is None:
            body.pop(name, None)


def fingerprint(registration: LoanRegistered) -> str:
    """Equal for equal registrations, whatever the key order or the defaults spelled out."""
    canonical = json.dumps(canonical_json(registration), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def resolve(registration: LoanRegistered, *, jurisdiction: str = "cn") -> RegisteredLoan:
    first_due_on = registration.first_due_on or add_months(registration.disbursed_on, 1)
    if registration.schedule is not None:
        schedule = [
            Instalment(i.seq, i.due_on, i.principal, i.interest, i.fees)
            for i in sorted(registration.schedule, key=lambda i: i.seq)
        ]
    else:
        schedule = build_schedule(
            principal=registration.principal,
            annual_rate=registration.annual_rate,
            term_months=registration.term_months,
            method=registration.repayment_method,
            first_due_on=first_due_on,
        )
    # The event carries the resolved schedule, so consumers need not rebuild it.
    resolved = [
        {
            "seq": i.seq,
            "due_on": i.due_on,
            "principal": i.principal,
            "interest": i.interest,
            "fees": i.fees,
        }
        for i in schedule
    ]
    accepted = LoanAccepted.model_validate(
        registration.model_dump()
        | {"first_due_on": first_due_on, "jurisdiction": jurisdiction, "schedule": resolved}
    )
    return RegisteredLoan(accepted, schedule, fingerprint(registration))
