"""Required notices a person asks for on a case (agency notice, final legal notice, dispute
reply): decided by the guard like every contact, recorded, and requested from notify
(``collections.contact.requested``) when allowed; a deferred one is decided again by the
deferral worker with the same request id, so a placement or a file can wait for it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters import business_day_sql, cases_sql
from collections_service.adapters.cases_sql import CaseRecord, TimelineEntry
from collections_service.service_layer import contacts, effects, treatment
from collections_service.service_layer.clock import Context
from collections_service.service_layer.contacts import Recorded
from shared.compliance.vocabulary import Outcome
from shared.problems import Problem

#: Channels a written notice may take (a call is not a notice).
NOTICE_CHANNELS = frozenset({"letter", "email", "sms"})


@dataclass(frozen=True, slots=True)
class Notice:
    purpose: str
    channel: str
    template_id: str
    key: str  # what makes the request the same on a retry (see contacts.request_id_for)
    variables: dict[str, str]


def invalid(field: str, message: str) -> Problem:
    return Problem(
        422, "Invalid request", f"{field}: {message}", errors=[{"field": field, "message": message}]
    )


async def request_notice(
    session: AsyncSession, case: CaseRecord, notice: Notice, ctx: Context
) -> tuple[Recorded, uuid.UUID]:
    """Decide and (when allowed) request ``notice``; its request id either way. A refusal is
    recorded like every decision (the caller answers it, and the transaction keeps it)."""
    if notice.channel not in NOTICE_CHANNELS:
        raise invalid("channel", f"a notice goes by {', '.join(sorted(NOTICE_CHANNELS))}")
    ref = await cases_sql.loan_ref(session, case.loan_id)
    assert ref is not None  # a case's loan is known
    on = await business_day_sql.today_of_case(session, case.case_id)
    values = dict(ref)
    address = values.get("email") if notice.channel == "email" else values.get("phone")
    planned = contacts.Planned(
        loan_id=case.loan_id, borrower_id=case.borrower_id, channel=notice.channel,
        time_zone=str(ref["time_zone"]), pack=case.pack, business_date=on, case_id=case.case_id,
        purpose=notice.purpose, template_id=notice.template_id,
        to=str(address) if address else None, request_key=notice.key,
        variables={**treatment.variables(case, ref, on, ctx.contact_line), **notice.variables},
    )  # fmt: skip
    recorded = await contacts.decide_and_record(session, planned, ctx.now(), case_open=True)
    decision = recorded.decision
    detail = {
        "decision_id": str(recorded.decision_id), "channel": notice.channel,
        "template_id": notice.template_id, "purpose": notice.purpose,
        "outcome": decision.outcome.value, "rule": decision.rule.value if decision.rule else None,
    }  # fmt: skip
    line = TimelineEntry(ctx.now(), on, "contact_decided", detail)
    await effects.timeline(session, case.case_id, [line])
    return recorded, contacts.request_id_for(notice.key)


def refused(recorded: Recorded) -> bool:
    return recorded.decision.outcome is Outcome.REFUSED
