"""Outside agencies: a whitelist kept by an administrator, and a placement that waits for the
borrower's notice: refused until notify has sent it, then allowed; the agency's actions come
onto the case's timeline, and a recall takes the case back."""

from __future__ import annotations

from typing import Any

import httpx

from postloan_testing.plugin import NatsUnderTest
from scoring_events import Monitoring

from .conftest import published
from .notices_support import a_case, notify_says, timeline

ACME = {"name": "Acme Recoveries", "contact_line": "400-100-2000"}


async def whitelisted(client: httpx.AsyncClient, agency_id: str = "acme") -> None:
    answer = await client.put(f"/api/v1/agencies/{agency_id}", json=ACME)
    assert answer.status_code == 200, answer.text


async def request_placement(client: httpx.AsyncClient, case_id: str) -> dict[str, Any]:
    body = {"agency_id": "acme", "channel": "letter", "template_id": "agency-notice"}
    answer = await client.post(f"/api/v1/cases/{case_id}/placements", json=body)
    assert answer.status_code == 201, answer.text
    placement: dict[str, Any] = answer.json()
    return placement


async def placed_case(client: httpx.AsyncClient, monitoring: Monitoring) -> tuple[str, str]:
    """A case placed with agency ``acme`` once its notice was sent: (case id, placement id)."""
    case_id = await a_case(client, monitoring)
    await whitelisted(client)
    placement = await request_placement(client, case_id)
    await notify_says(client, monitoring, case_id, placement["notice_request_id"])
    pid: str = placement["placement_id"]
    assert (await client.post(f"/api/v1/placements/{pid}/place")).status_code == 200
    return case_id, pid


async def test_a_placement_is_refused_until_the_borrowers_notice_is_sent_then_allowed(
    collections: httpx.AsyncClient, monitoring: Monitoring, nats_server: NatsUnderTest
) -> None:
    case_id = await a_case(collections, monitoring)
    await whitelisted(collections)
    placement = await request_placement(collections, case_id)
    assert placement["status"] == "notice_requested"
    requests = await published(nats_server.url, "postloan.collections.contact.requested")
    [notice] = [r for r in requests if r["template_id"] == "agency-notice"]
    assert notice["request_id"] == placement["notice_request_id"]
    assert notice["variables"]["agency_name"] == "Acme Recoveries"
    place = f"/api/v1/placements/{placement['placement_id']}/place"

    early = await collections.post(place)
    assert early.status_code == 409
    assert early.headers["content-type"].startswith("application/problem+json")
    assert early.json()["rule"] == "agency_notice"
    await notify_says(collections, monitoring, case_id, notice["request_id"], "queued")
    assert (await collections.post(place)).status_code == 409  # queued is not sent
    await notify_says(collections, monitoring, case_id, notice["request_id"], "sent")

    placed = await collections.post(place)
    assert placed.status_code == 200, placed.text
    assert (placed.json()["status"], placed.json()["placed_on"]) == ("placed", "2026-02-16")
    assert (await collections.post(place)).status_code == 409  # placed once


async def test_the_agencys_actions_are_on_the_timeline_and_a_recall_takes_the_case_back(
    collections: httpx.AsyncClient, monitoring: Monitoring, nats_server: NatsUnderTest
) -> None:
    case_id, pid = await placed_case(collections, monitoring)
    action = {"kind": "call", "occurred_at": "2026-02-16T03:00:00+00:00", "note": "reached"}
    acted = await collections.post(f"/api/v1/placements/{pid}/actions", json=action)
    assert acted.status_code == 201, acted.text
    recalled = await collections.post(f"/api/v1/placements/{pid}/recall", json={"reason": "slow"})
    assert (recalled.status_code, recalled.json()["status"]) == (200, "recalled")
    after = await collections.post(f"/api/v1/placements/{pid}/actions", json=action)
    assert after.status_code == 409  # a recalled placement takes no more actions
    kinds = [t["kind"] for t in await timeline(collections, case_id)]
    assert [k for k in kinds if "agency" in k] == [
        "agency_placement_requested", "placed_with_agency", "agency_action", "agency_recalled",
    ]  # fmt: skip
    [line] = [t for t in await timeline(collections, case_id) if t["kind"] == "agency_action"]
    assert (line["detail"]["kind"], line["detail"]["agency_id"]) == ("call", "acme")
    again = await request_placement(collections, case_id)  # recalled: the case may go anew
    assert again["status"] == "notice_requested"


async def test_only_an_active_whitelisted_agency_takes_a_placement_and_one_at_a_time(
    collections: httpx.AsyncClient, monitoring: Monitoring
) -> None:
    case_id = await a_case(collections, monitoring)
    body = {"agency_id": "nobody", "template_id": "agency-notice"}
    unknown = await collections.post(f"/api/v1/cases/{case_id}/placements", json=body)
    assert (unknown.status_code, unknown.json()["errors"][0]["field"]) == (422, "agency_id")
    await whitelisted(collections)
    await request_placement(collections, case_id)
    body["agency_id"] = "acme"
    second = await collections.post(f"/api/v1/cases/{case_id}/placements", json=body)
    assert second.status_code == 409
    off = await collections.put("/api/v1/agencies/acme", json={**ACME, "active": False})
    assert off.json()["active"] is False
    listed = await collections.get("/api/v1/agencies")
    assert [a["agency_id"] for a in listed.json()] == ["acme"]
    bad = await collections.put("/api/v1/agencies/bad%20id", json=ACME)
    assert bad.status_code == 422


async def test_a_notice_the_guard_refuses_places_nothing_and_its_decision_is_kept(
    collections: httpx.AsyncClient, monitoring: Monitoring
) -> None:
    case_id = await a_case(collections, monitoring)
    await whitelisted(collections)
    wrong = {"channel": "agent_call", "outcome": "wrong_number",
             "contacted_at": "2026-02-16T02:00:00+00:00"}  # fmt: skip
    assert (
        await collections.post(f"/api/v1/cases/{case_id}/outcomes", json=wrong)
    ).status_code == 201
    body = {"agency_id": "acme", "channel": "sms", "template_id": "agency-notice"}
    refused = await collections.post(f"/api/v1/cases/{case_id}/placements", json=body)
    assert refused.status_code == 409
    assert refused.json()["rule"] == "third_party"  # the number reaches someone else
    assert (await collections.get(f"/api/v1/cases/{case_id}/placements")).json() == []
    decisions = (await collections.get("/api/v1/contact-decisions")).json()["items"]
    [kept] = [d for d in decisions if d["decision_id"] == refused.json()["decision_id"]]
    assert (kept["outcome"], kept["purpose"]) == ("refused", "agency_notice")


async def test_an_agencys_contacts_are_judged_by_the_guard_and_a_breach_is_announced(
    collections: httpx.AsyncClient, monitoring: Monitoring, nats_server: NatsUnderTest
) -> None:
    case_id, pid = await placed_case(collections, monitoring)
    actions = f"/api/v1/placements/{pid}/actions"

    # Pack cn: calls from 08:00 to 22:00, 3 connected calls a day. Calls at 10:00, 11:00, 12:00
    # and 13:00 in Shanghai (the fourth one too many: counted with the three before it), one at
    # 23:30, then a note.
    for hour in ("02", "03", "04", "05", "15:30"):
        at = f"2026-02-16T{hour}:00:00+00:00" if len(hour) == 2 else f"2026-02-16T{hour}:00+00:00"
        answer = await collections.post(actions, json={"kind": "call", "occurred_at": at})
        assert answer.status_code == 201, answer.text
    note = {"kind": "note", "occurred_at": "2026-02-16T15:40:00+00:00", "note": "no answer"}
    assert (await collections.post(actions, json=note)).status_code == 201

    lines = [t for t in await timeline(collections, case_id) if t["kind"] == "agency_action"]
    assert [t["detail"]["breach"] for t in lines] == [
        None, None, None, "daily_attempts", "contact_hours", None,
    ]  # fmt: skip
    breaches = await published(nats_server.url, "postloan.collections.compliance.breach")
    assert [(b["case_id"], b["rule"], b["channel"]) for b in breaches] == [
        (case_id, "daily_attempts", "agent_call"),
        (case_id, "contact_hours", "agent_call"),
    ]
    assert breaches[0]["outcome_id"] == lines[3]["detail"]["action_id"]
