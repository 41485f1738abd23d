"""The dispute workflow: evidence from both sides, a resolution with its outcome and reasons,
and replies to the borrower, which go through the guard (a reply is a required notice: it goes
while the dispute freezes collection) and are requested from notify like every contact."""

from __future__ import annotations

from typing import Any

import httpx

from postloan_testing.plugin import NatsUnderTest
from scoring_events import Monitoring

from .conftest import published
from .notices_support import a_case, timeline

STATEMENT = {"kind": "statement", "submitted_by": "borrower", "title": "I repaid in cash",
             "text": "Paid 500.00 at the branch on 2026-02-10."}  # fmt: skip
CONTRACT = {"kind": "contract", "submitted_by": "lender", "title": "Loan agreement",
            "uri": "s3://disputes/L-1/agreement.pdf", "media_type": "application/pdf"}  # fmt: skip


async def disputed(client: httpx.AsyncClient, monitoring: Monitoring) -> tuple[str, str]:
    case_id = await a_case(client, monitoring)
    opened = await client.post("/api/v1/loans/L-1/disputes", json={"reason": "already repaid"})
    assert opened.status_code == 201, opened.text
    return case_id, str(opened.json()["dispute_id"])


async def test_evidence_from_both_sides_is_kept_on_the_disputes_file(
    collections: httpx.AsyncClient, monitoring: Monitoring
) -> None:
    _, dispute_id = await disputed(collections, monitoring)
    url = f"/api/v1/disputes/{dispute_id}"
    empty = {"kind": "other", "submitted_by": "lender", "title": "nothing"}
    refused = await collections.post(f"{url}/evidence", json=empty)
    assert refused.status_code == 422  # neither text nor a document: nothing stored
    for item in (STATEMENT, CONTRACT):
        assert (await collections.post(f"{url}/evidence", json=item)).status_code == 201
    found = (await collections.get(url)).json()
    assert [(e["kind"], e["submitted_by"]) for e in found["evidence"]] == [
        ("statement", "borrower"), ("contract", "lender"),
    ]  # fmt: skip
    assert found["evidence"][0]["added_on"] == "2026-02-16"  # the business date
    assert found["evidence"][1]["uri"] == CONTRACT["uri"]


async def test_a_resolution_needs_its_reasons_and_then_collection_resumes(
    collections: httpx.AsyncClient, monitoring: Monitoring, nats_server: NatsUnderTest
) -> None:
    _, dispute_id = await disputed(collections, monitoring)
    url = f"/api/v1/disputes/{dispute_id}"
    reject = {"outcome": "rejected", "summary": "no cash payment on record"}
    unverified = await collections.post(f"{url}/resolution", json=reject)
    assert (unverified.status_code, unverified.json()["errors"][0]["field"]) == (422, "evidence")
    corrected = {"outcome": "corrected", "summary": "part was paid"}
    no_amount = await collections.post(f"{url}/resolution", json=corrected)
    assert no_amount.json()["errors"][0]["field"] == "corrected_amount"
    assert (await collections.get(url)).json()["status"] == "open"  # nothing changed
    await collections.post(f"{url}/evidence", json=CONTRACT)

    resolved = await collections.post(f"{url}/resolution", json=reject)
    assert resolved.status_code == 200, resolved.text
    body: dict[str, Any] = resolved.json()
    assert (body["status"], body["resolution"]) == ("resolved", "rejected")
    assert (body["outcome"]["outcome"], body["outcome"]["summary"]) == (
        "rejected",
        reject["summary"],
    )
    events = await published(nats_server.url, "postloan.collections.dispute.>")
    assert [(e["status"], e["resolution"]) for e in events] == [
        ("open", None),
        ("resolved", "rejected"),
    ]
    late = await collections.post(f"{url}/evidence", json=STATEMENT)
    assert late.status_code == 409  # the file is closed
    assert (await collections.post(f"{url}/resolution", json=reject)).status_code == 409


async def test_a_reply_goes_through_the_guard_to_notify_even_while_collection_is_frozen(
    collections: httpx.AsyncClient, monitoring: Monitoring, nats_server: NatsUnderTest
) -> None:
    case_id, dispute_id = await disputed(collections, monitoring)
    reply = {"channel": "letter", "template_id": "dispute-ack"}
    sent = await collections.post(f"/api/v1/disputes/{dispute_id}/replies", json=reply)
    assert sent.status_code == 201, sent.text
    decision = sent.json()["decision"]
    assert (decision["outcome"], decision["rule"]) == ("allowed", None)
    requests = await published(nats_server.url, "postloan.collections.contact.requested")
    [request] = [r for r in requests if r["template_id"] == "dispute-ack"]
    assert request["request_id"] == decision["request_id"]
    assert request["variables"]["dispute_id"] == dispute_id
    [kept] = sent.json()["dispute"]["replies"]
    assert kept["request_id"] == decision["request_id"]
    assert "dispute_reply" in [t["kind"] for t in await timeline(collections, case_id)]
    decisions = (await collections.get("/api/v1/contact-decisions")).json()["items"]
    [logged] = [d for d in decisions if d["template_id"] == "dispute-ack"]
    assert logged["purpose"] == "dispute_reply"
    twice = await collections.post(f"/api/v1/disputes/{dispute_id}/replies", json=reply)
    assert twice.json()["decision"]["request_id"] == decision["request_id"]  # one message
    assert len(twice.json()["dispute"]["replies"]) == 1
    requests = await published(nats_server.url, "postloan.collections.contact.requested")
    assert len([r for r in requests if r["template_id"] == "dispute-ack"]) == 1
    bad = await collections.post(f"/api/v1/disputes/{dispute_id}/replies",
                                 json={"channel": "agent_call", "template_id": "x"})  # fmt: skip
    assert bad.status_code == 422
