"""The borrower's postal address and contacts (BRIEF decisions 5 and 6) through real NATS and
PostgreSQL: a letter prints the address loan.registered or contact.updated gave; a message to a
guarantor goes to the guarantor's stored number, one to a recipient notify has no contact of is
blocked; in pack us a known attorney is the only recipient at send time too."""

from __future__ import annotations

from typing import Any

import httpx

from postloan_testing.plugin import eventually
from shared.events import ContactRequested, ContactUpdated, LoanAccepted

from .conftest import NOW, Events, borrower_known, make_contact_request, make_loan
from .test_letters import FINAL_NOTICE, text_of
from .test_sending import message_reaching, prepared, sink_of

ADDRESS = {"lines": ["上海市浦东新区", "世纪大道100号 3栋1201室"], "postal_code": "200120",
           "country": "CN"}  # fmt: skip
MOVED = {"lines": ["北京市朝阳区", "建国路88号"], "postal_code": "100022", "country": "CN"}
GUARANTOR = {"recipient": "guarantor", "name": "李四", "phone": "+8613900000001"}
ATTORNEY = {"recipient": "attorney", "name": "Ann Law", "phone": "+12025550100"}


def to(recipient: str, **request: Any) -> ContactRequested:
    return make_contact_request(**request).model_copy(update={"recipient": recipient})


async def letter_text(client: httpx.AsyncClient, events: Events) -> str:
    """The text of the PDF of a final notice requested now (by collections)."""
    stored = await client.put("/api/v1/templates/final-notice", json=FINAL_NOTICE)
    assert stored.status_code == 201, stored.text
    requested = make_contact_request(channel="letter", template_id="final-notice")
    await events.publish(requested, domain="collections")
    message = await message_reaching(client, requested.request_id, {"sent", "failed", "blocked"})
    assert message["status"] == "sent", message
    document = await client.get(f"/api/v1/messages/{message['message_id']}/document")
    assert document.status_code == 200
    return text_of(document.content)


async def recipient(client: httpx.AsyncClient) -> dict[str, Any]:
    found: dict[str, Any] = (await client.get("/api/v1/notify/recipients/B-0001")).json()
    return found


async def contacts_applied(client: httpx.AsyncClient, events: Events, **change: Any) -> None:
    """Publish the lender's contact.updated; returns once notify shows what it changed."""
    update = ContactUpdated(borrower_id="B-0001", updated_at=NOW, **change)
    await events.publish(update, domain="ingest")
    shown = update.model_dump(mode="json", include=set(change))

    async def applied() -> bool:
        found = await recipient(client)
        return all(found[k] == v for k, v in shown.items())

    await eventually(applied)


async def test_a_letter_prints_the_borrowers_postal_address_from_loan_registered(
    notify: httpx.AsyncClient, events: Events
) -> None:
    await prepared(notify, events, address=ADDRESS)
    text = await letter_text(notify, events)
    block = "张三上海市浦东新区世纪大道100号3栋1201室200120CN"  # name, lines, code and country
    assert block in text
    assert text.index(block) < text.index("最后还款通知书")  # the addressee comes first


async def test_a_letter_after_contact_updated_goes_to_the_new_address(
    notify: httpx.AsyncClient, events: Events
) -> None:
    await prepared(notify, events, address=ADDRESS)
    await contacts_applied(notify, events, address=MOVED)
    text = await letter_text(notify, events)
    assert "北京市朝阳区建国路88号100022CN" in text
    assert "上海市浦东新区" not in text


async def test_a_message_to_the_guarantor_goes_to_their_stored_number(
    notify: httpx.AsyncClient, events: Events
) -> None:
    await prepared(notify, events)
    await contacts_applied(notify, events, contacts=[GUARANTOR])
    guarantor, spouse = to("guarantor"), to("spouse")
    await events.publish(guarantor, domain="collections")
    await events.publish(spouse, domain="collections")

    sent = await message_reaching(notify, guarantor.request_id, {"sent", "blocked", "failed"})
    blocked = await message_reaching(notify, spouse.request_id, {"sent", "blocked", "failed"})
    assert sent["status"] == "sent", sent
    [received] = await sink_of(notify, "sms")
    assert received["address"] == GUARANTOR["phone"]
    assert (blocked["status"], blocked["reason"]) == ("blocked", "no_address")


async def test_with_an_attorney_known_pack_us_sends_only_to_the_attorney(
    notify: httpx.AsyncClient, events: Events
) -> None:
    await prepared(notify, events, locale="en", jurisdiction="us")
    await contacts_applied(notify, events, contacts=[ATTORNEY])
    borrower, attorney = to("borrower", pack="us"), to("attorney", pack="us")
    await events.publish(borrower, domain="collections")
    await events.publish(attorney, domain="collections")

    refused = await message_reaching(notify, borrower.request_id, {"sent", "blocked", "failed"})
    sent = await message_reaching(notify, attorney.request_id, {"sent", "blocked", "failed"})
    assert refused["status"] == "blocked"
    assert refused["reason"].startswith("third_party:")
    assert sent["status"] == "sent", sent
    assert [r["address"] for r in await sink_of(notify, "sms")] == [ATTORNEY["phone"]]


async def test_loan_registered_gives_the_contacts_and_address_a_later_loan_keeps(
    notify: httpx.AsyncClient, events: Events
) -> None:
    first = make_loan(address=ADDRESS).model_dump(mode="json") | {"contacts": [GUARANTOR]}
    await events.publish(LoanAccepted.model_validate(first), domain="monitoring")
    await borrower_known(notify)
    await events.publish(make_loan(loan_id="L-0002"), domain="monitoring")  # says nothing of them

    async def second_linked() -> bool:
        return (await notify.get("/api/v1/notify/loans/L-0002/recipient")).status_code == 200

    await eventually(second_linked)
    found = await recipient(notify)
    assert found["address"] == ADDRESS
    assert [(c["recipient"], c["phone"]) for c in found["contacts"]] == [
        ("guarantor", GUARANTOR["phone"])
    ]
