"""Templates over HTTP against real PostgreSQL: versions, refusals that store nothing, preview."""

from __future__ import annotations

from typing import Any

import httpx

REMINDER: dict[str, Any] = {
    "channel": "sms",
    "variables": ["name", "amount_due", "dpd"],
    "locales": {
        "zh-CN": {"body": "{{ name }}，您本期应还{{ amount_due }}元，已逾期{{ dpd }}天。"},
        "en": {"subject": None, "body": "{{ name }}, {{ amount_due }} is {{ dpd }} days overdue."},
    },
}


async def test_the_first_upload_is_version_1_and_answers_what_was_stored(
    notify: httpx.AsyncClient,
) -> None:
    response = await notify.put("/api/v1/templates/reminder-soft", json=REMINDER)

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["template_id"] == "reminder-soft"
    assert body["version"] == 1
    assert body["purpose"] == "reminder"
