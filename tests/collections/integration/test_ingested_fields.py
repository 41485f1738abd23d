"""What the lender tells collections beyond the loan's terms (BRIEF decisions 5 and 6): an
ingested ``time_barred_on`` bars legal escalation from that day; the borrower's contacts
(``contacts[]`` of loan.registered and contact.updated) give the number a collector's call to a
guarantor goes to, and in pack ``us`` a known attorney becomes the only recipient."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx

from collections_service.settings import CollectionsSettings
from factories import make_registration
from postloan_testing.plugin import eventually
from scoring_events import Monitoring
from shared.db import asyncpg_dsn
from shared.events import ContactUpdated, LoanAccepted, make_event

from .notices_support import business_day, notify_says
from .test_cases import cases, moved, with_strategy
from .test_contacts import decisions
from .test_legal import final_notice

GUARANTOR = {"recipient": "guarantor", "name": "李四", "phone": "+8613900000001"}
ATTORNEY = {"recipient": "attorney", "name": "Ann Law", "phone": "+12025550100"}


def registered(jurisdiction: str = "cn", **later: Any) -> LoanAccepted:
    body = make_registration(loan_id="L-1", borrower_id="B-1", **later)
    return LoanAccepted.model_validate(
        {**body, "first_due_on": "2026-02-15", "jurisdiction": jurisdiction}
    )


async def case_of(client: httpx.AsyncClient, monitoring: Monitoring, loan: LoanAccepted) -> str:
    """The open case of ``loan`` (L-1), once its first strategy step has been decided."""
    await with_strategy(client)
    await monitoring.publish(loan)

    async def known() -> bool:
        return (await client.get("/api/v1/collections/loans/L-1")).status_code == 200

    await eventually(known)
    await monitoring.publish(moved("C", "M1", "2026-02-16", 1))

    async def decided() -> bool:
        return bool(await decisions(client))

    await eventually(decided)
    [case] = await cases(client)
    return str(case["case_id"])


async def number_called(database_url: str, decision_id: str) -> str | None:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        found: str | None = await conn.fetchval(
            'SELECT "to" FROM contact_attempt WHERE decision_id = $1::uuid', decision_id
        )
    finally:
        await conn.close()
    return found


async def contacts_updated(monitoring: Monitoring, contacts: list[dict[str, Any]]) -> None:
    update = ContactUpdated(
        borrower_id="B-1",
        updated_at=datetime(2026, 2, 16, 1, 0, tzinfo=UTC),
        contacts=contacts,  # type: ignore[arg-type]
    )
    await monitoring.publish_event(make_event(update, source="lender", domain="ingest"))


async def attempt(client: httpx.AsyncClient, case_id: str, **body: str) -> httpx.Response:
    return await client.post(
        f"/api/v1/cases/{case_id}/contact-attempts", json={"channel": "agent_call", **body}
    )


async def test_legal_escalation_is_refused_from_an_ingested_time_barred_on(
    collections: httpx.AsyncClient,
    monitoring: Monitoring,
    collections_settings: CollectionsSettings,
) -> None:
    # The pack (cn) counts no limitation from payments: only the lender's date bars the debt.
    case_id = await case_of(collections, monitoring, registered(time_barred_on="2026-03-01"))
    notice = await final_notice(collections, case_id)  # 2026-02-16: not yet time-barred
    await notify_says(collections, monitoring, case_id, notice["request_id"])
    await business_day(monitoring, collections_settings.database_url, "2026-03-03")

    refused = await collections.post(f"/api/v1/cases/{case_id}/legal-escalation")
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["rule"] == "time_barred"
    assert "2026-03-01" in refused.json()["detail"]
    case = (await collections.get(f"/api/v1/cases/{case_id}")).json()
    assert case["status"] == "open"  # nothing changed


async def test_a_legal_notice_on_or_after_the_ingested_date_is_refused(
    collections: httpx.AsyncClient, monitoring: Monitoring
) -> None:
    case_id = await case_of(collections, monitoring, registered(time_barred_on="2026-02-16"))
    body = {"channel": "letter", "template_id": "final-notice"}
    answer = await collections.post(f"/api/v1/cases/{case_id}/legal-notice", json=body)
    assert (answer.status_code, answer.json()["rule"]) == (409, "time_barred")


async def test_a_call_to_the_guarantor_goes_to_the_number_the_loan_registered(
    collections: httpx.AsyncClient,
    monitoring: Monitoring,
    collections_settings: CollectionsSettings,
) -> None:
    case_id = await case_of(collections, monitoring, registered(contacts=[GUARANTOR]))
    asked = await attempt(collections, case_id, recipient="guarantor")
    assert asked.status_code == 201, asked.text
    assert asked.json()["outcome"] == "allowed"
    called = await number_called(collections_settings.database_url, asked.json()["decision_id"])
    assert called == GUARANTOR["phone"]

    nobody = await attempt(collections, case_id, recipient="spouse")
    assert nobody.status_code == 422
    assert nobody.json()["errors"][0]["field"] == "to"
    given = await attempt(collections, case_id, recipient="spouse", to="+8613900000002")
    assert given.status_code == 201, given.text


async def test_an_attorney_in_contact_updated_is_the_only_recipient_in_us(
    collections: httpx.AsyncClient, monitoring: Monitoring
) -> None:
    case_id = await case_of(collections, monitoring, registered("us"))
    assert (await attempt(collections, case_id)).json()["outcome"] == "allowed"
    await contacts_updated(monitoring, [ATTORNEY])

    async def attorney_only() -> bool:
        return bool((await attempt(collections, case_id)).json()["rule"] == "third_party")

    await eventually(attorney_only)
    to_attorney = await attempt(collections, case_id, recipient="attorney")
    assert (to_attorney.json()["outcome"], to_attorney.json()["rule"]) == ("allowed", None)

    await contacts_updated(monitoring, [])  # the same updated_at: stale, changes nothing
    refused = await attempt(collections, case_id)
    assert refused.json()["rule"] == "third_party"
