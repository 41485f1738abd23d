"""Letters against real PostgreSQL and NATS: a final notice in Chinese rendered to a PDF whose
text is the letter's, set in the Chinese font notify ships, downloadable once handed over."""

from __future__ import annotations

import io
from typing import Any

import httpx
from pypdf import PdfReader

from postloan_testing.plugin import eventually

from .conftest import Events, borrower_known, make_loan

FINAL_NOTICE: dict[str, Any] = {
    "channel": "letter",
    "purpose": "reminder",
    "variables": ["name", "amount_due"],
    "locales": {
        "zh-CN": {
            "subject": "最后还款通知书",
            "body": "{{ name }}：您的借款已逾期，本期应还{{ amount_due }}元，请于七日内还款。",
        },
        "en": {"subject": "Final notice", "body": "{{ name }}, {{ amount_due }} is overdue."},
    },
}


async def letter_sent(client: httpx.AsyncClient, events: Events, key: str) -> dict[str, Any]:
    await events.publish(make_loan(), domain="monitoring")
    await borrower_known(client)
    stored = await client.put("/api/v1/templates/final-notice", json=FINAL_NOTICE)
    assert stored.status_code == 201, stored.text
    request = {
        "idempotency_key": key,
        "borrower_id": "B-0001",
        "loan_id": "L-0001",
        "channel": "letter",
        "template_id": "final-notice",
        "variables": {"name": "张三", "amount_due": "1066.19"},
    }
    posted = await client.post("/api/v1/messages", json=request)
    assert posted.status_code == 202, posted.text
    message_id = posted.json()["message_id"]
    found: dict[str, Any] = {}

    async def handed() -> bool:
        found.update((await client.get(f"/api/v1/messages/{message_id}")).json())
        return found["status"] in {"sent", "failed", "blocked"}

    await eventually(handed)
    return found


def text_of(pdf: bytes) -> str:
    """The PDF's text, without white space and NULs: fpdf2 embeds the CFF font with its
    two-byte encoding as a CMap stream, which pypdf reads a byte at a time (the high byte
    comes out as a NUL; every glyph still maps back to its character)."""
    reader = PdfReader(io.BytesIO(pdf))
    text = "".join(page.extract_text() for page in reader.pages)
    return "".join(text.replace("\x00", "").split())


def fonts_of(pdf: bytes) -> set[str]:
    reader = PdfReader(io.BytesIO(pdf))
    names = set()
    for page in reader.pages:
        resources: Any = page["/Resources"]
        for font in resources["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


async def test_a_chinese_final_notice_becomes_a_pdf_with_its_text_in_a_chinese_font(
    notify: httpx.AsyncClient, events: Events
) -> None:
    message = await letter_sent(notify, events, "letter-1")

    assert message["status"] == "sent", message
    assert (message["provider"], message["locale"]) == ("pdf", "zh-CN")
    answer = await notify.get(f"/api/v1/messages/{message['message_id']}/document")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF-")
    text = text_of(answer.content)
    assert "最后还款通知书" in text
    assert "张三：您的借款已逾期，本期应还1066.19元，请于七日内还款。" in text
    assert message["message_id"] in text  # the reference printed on the letter
    assert any("NotoSansCJKSC" in name for name in fonts_of(answer.content))


async def test_a_message_that_is_no_letter_has_no_document(
    notify: httpx.AsyncClient, events: Events
) -> None:
    message = await letter_sent(notify, events, "letter-2")
    unknown = await notify.get("/api/v1/messages/00000000-0000-0000-0000-000000000000/document")

    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    assert (await notify.get(f"/api/v1/messages/{message['message_id']}/document")).is_success
