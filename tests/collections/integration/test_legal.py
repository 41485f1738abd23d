"""Legal escalation: refused until the final notice has been sent and, after it, until the
pack's waiting period (cn: 15 business days) has passed; then the case closes to legal with a
legal file, and a judgment for the lender flags the borrower (失信) and says so on the bus."""

from __future__ import annotations

from typing import Any

import httpx

from collections_service.settings import CollectionsSettings
from postloan_testing.plugin import NatsUnderTest
from scoring_events import Monitoring

from .conftest import published
from .notices_support import a_case, business_day, notify_says, timeline


async def final_notice(client: httpx.AsyncClient, case_id: str) -> dict[str, Any]:
    body = {"channel": "letter", "template_id": "final-notice"}
    answer = await client.post(f"/api/v1/cases/{case_id}/legal-notice", json=body)
    assert answer.status_code == 201, answer.text
    decision: dict[str, Any] = answer.json()
    assert decision["outcome"] == "allowed"
    return decision


async def escalated_case(
    client: httpx.AsyncClient, monitoring: Monitoring, database_url: str
) -> tuple[str, dict[str, Any]]:
    case_id = await a_case(client, monitoring)
    notice = await final_notice(client, case_id)
    await notify_says(client, monitoring, case_id, notice["request_id"])
    await business_day(monitoring, database_url, "2026-03-03")
    answer = await client.post(f"/api/v1/cases/{case_id}/legal-escalation")
    assert answer.status_code == 201, answer.text
    legal_file: dict[str, Any] = answer.json()
    return case_id, legal_file


async def test_escalation_is_refused_before_the_notice_is_sent_and_its_waiting_period_ends(
    collections: httpx.AsyncClient, monitoring: Monitoring,
    collections_settings: CollectionsSettings,
) -> None:  # fmt: skip
    case_id = await a_case(collections, monitoring)
    escalate = f"/api/v1/cases/{case_id}/legal-escalation"
    no_notice = await collections.post(escalate)
    assert no_notice.status_code == 409
    assert no_notice.headers["content-type"].startswith("application/problem+json")
    assert "no final (legal) notice" in no_notice.json()["detail"]
    notice = await final_notice(collections, case_id)
    assert (await collections.post(escalate)).status_code == 409  # requested, not yet sent
    await notify_says(collections, monitoring, case_id, notice["request_id"])

    waiting = await collections.post(escalate)
    assert waiting.status_code == 409
    assert (waiting.json()["rule"], waiting.json()["allowed_from"]) == (
        "legal_notice_period", "2026-03-03",
    )  # fmt: skip
    await business_day(monitoring, collections_settings.database_url, "2026-03-02")
    assert (await collections.post(escalate)).status_code == 409  # a day short
    await business_day(monitoring, collections_settings.database_url, "2026-03-03")

    allowed = await collections.post(escalate)
    assert allowed.status_code == 201, allowed.text
    assert (allowed.json()["status"], allowed.json()["notice_sent_on"]) == (
        "preparing", "2026-02-16",
    )  # fmt: skip
    assert allowed.json()["escalated_on"] == "2026-03-03"
    case = (await collections.get(f"/api/v1/cases/{case_id}")).json()
    assert (case["status"], case["close_reason"]) == ("closed", "legal")
    assert (await collections.post(escalate)).status_code == 409  # closed: once


async def test_a_judgment_for_the_lender_flags_the_borrower_and_emits_the_event(
    collections: httpx.AsyncClient, monitoring: Monitoring, nats_server: NatsUnderTest,
    collections_settings: CollectionsSettings,
) -> None:  # fmt: skip
    case_id, legal_file = await escalated_case(
        collections, monitoring, collections_settings.database_url
    )
    file_url = f"/api/v1/legal-files/{legal_file['legal_file_id']}"
    judgment = {"judgment_on": "2026-03-03", "amount": "1066.19"}
    early = await collections.post(f"{file_url}/judgment", json=judgment)
    assert early.status_code == 409  # not filed with a court yet
    unnamed = await collections.patch(file_url, json={"status": "filed"})
    assert (unnamed.status_code, unnamed.json()["errors"][0]["field"]) == (422, "court")
    court = {"court": "上海市浦东新区人民法院", "court_case_number": "(2026)沪0115民初1号"}
    filed = await collections.patch(file_url, json={"status": "filed", **court})
    assert filed.status_code == 200, filed.text
    document = {"kind": "complaint", "title": "起诉状", "uri": "s3://legal/complaint.pdf"}
    added = await collections.post(f"{file_url}/documents", json=document)
    assert [d["title"] for d in added.json()["documents"]] == ["起诉状"]
    future = await collections.post(
        f"{file_url}/judgment", json={**judgment, "judgment_on": "2026-03-04"}
    )
    assert (future.status_code, future.json()["errors"][0]["field"]) == (422, "judgment_on")

    judged = await collections.post(f"{file_url}/judgment", json=judgment)
    assert judged.status_code == 200, judged.text
    assert (judged.json()["status"], judged.json()["dishonest_debtor"]) == ("judgment", True)
    assert judged.json()["judgment_amount"] == "1066.19"
    assert (await collections.post(f"{file_url}/judgment", json=judgment)).status_code == 409
    [flagged] = await published(nats_server.url, "postloan.collections.debtor.flagged")
    assert (flagged["case_id"], flagged["judgment_amount"]) == (case_id, "1066.19")
    [line] = [t for t in await timeline(collections, case_id) if t["kind"] == "judgment_recorded"]
    assert line["detail"]["dishonest_debtor"] is True
    shown = await collections.get(f"/api/v1/cases/{case_id}/legal-file")
    assert shown.json()["dishonest_debtor"] is True
    standing = (await collections.get(f"/api/v1/cases/{case_id}")).json()["legal"]
    assert standing == {
        "file": {
            "legal_file_id": legal_file["legal_file_id"],
            "status": "judgment",
            "judgment_outcome": "for_lender",
        },
        "dishonest_debtor": True,
    }


async def test_a_judgment_for_the_borrower_flags_nobody(
    collections: httpx.AsyncClient, monitoring: Monitoring, nats_server: NatsUnderTest,
    collections_settings: CollectionsSettings,
) -> None:  # fmt: skip
    _, legal_file = await escalated_case(collections, monitoring, collections_settings.database_url)
    file_url = f"/api/v1/legal-files/{legal_file['legal_file_id']}"
    await collections.patch(
        file_url, json={"status": "filed", "court": "c", "court_case_number": "1"}
    )
    judgment = {"judgment_on": "2026-03-03", "amount": "10.00", "outcome": "for_borrower"}
    judged = await collections.post(f"{file_url}/judgment", json=judgment)
    assert judged.json()["dishonest_debtor"] is False
    assert await published(nats_server.url, "postloan.collections.debtor.flagged") == []
    case = (await collections.get(f"/api/v1/cases/{legal_file['case_id']}")).json()
    assert case["legal"]["dishonest_debtor"] is False
    assert case["legal"]["file"]["judgment_outcome"] == "for_borrower"
