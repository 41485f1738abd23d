"""Templates over HTTP against real PostgreSQL: versions, refusals that store nothing, previews."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import httpx
import pytest

from principals import make_principal, signed
from shared.compliance import default_pack

REMINDER: dict[str, Any] = {
    "channel": "sms",
    "variables": ["name", "amount_due", "dpd"],
    "locales": {
        "zh-CN": {"body": "{{ name }}，您本期应还{{ amount_due }}元，已逾期{{ dpd }}天。"},
        "en": {"subject": None, "body": "{{ name }}, {{ amount_due }} is {{ dpd }} days overdue."},
    },
}
VARIABLES = {"name": "Zhang", "amount_due": "1066.19", "dpd": 3}


def make_reminder(*, en_body: str | None = None, **changes: Any) -> dict[str, Any]:
    document = copy.deepcopy(REMINDER)
    document.update(changes)
    if en_body is not None:
        document["locales"]["en"]["body"] = en_body
    return document


async def put(
    client: httpx.AsyncClient,
    template_id: str,
    document: object,
    auth: httpx.Auth | None = None,
) -> httpx.Response:
    path = f"/api/v1/templates/{template_id}"
    return await client.put(path, json=document, auth=auth or httpx.USE_CLIENT_DEFAULT)


async def test_each_upload_is_a_new_version_and_answers_what_was_stored(
    notify: httpx.AsyncClient,
) -> None:
    first = await put(notify, "reminder-soft", REMINDER, auth=signed(make_principal("alice")))
    second = await put(
        notify,
        "reminder-soft",
        make_reminder(en_body="{{ name }}: {{ amount_due }}, {{ dpd }} days."),
    )

    assert (first.status_code, second.status_code) == (201, 201), second.text
    stored = first.json()
    assert stored["template_id"] == "reminder-soft"
    assert (stored["version"], second.json()["version"]) == (1, 2)
    assert stored["channel"] == "sms"
    assert stored["purpose"] == "reminder"
    assert stored["variables"] == ["name", "amount_due", "dpd"]
    assert stored["locales"]["en"] == REMINDER["locales"]["en"]
    assert stored["locales"]["zh-CN"] == {"subject": None, **REMINDER["locales"]["zh-CN"]}
    assert stored["created_by"] == "alice"
    assert stored["created_at"]


async def test_the_latest_version_comes_with_the_list_and_old_versions_stay_as_they_were(
    notify: httpx.AsyncClient,
) -> None:
    await put(notify, "reminder-soft", REMINDER)
    await put(
        notify, "reminder-soft", make_reminder(en_body="{{ name }} {{ amount_due }} {{ dpd }}")
    )

    latest = (await notify.get("/api/v1/templates/reminder-soft")).json()
    first = (await notify.get("/api/v1/templates/reminder-soft/versions/1")).json()

    assert latest["version"] == 2
    assert latest["locales"]["en"]["body"] == "{{ name }} {{ amount_due }} {{ dpd }}"
    assert [v["version"] for v in latest["versions"]] == [1, 2]
    assert first["version"] == 1
    assert first["locales"]["en"]["body"] == REMINDER["locales"]["en"]["body"]


async def test_a_refused_upload_lists_every_finding_and_stores_nothing(
    notify: httpx.AsyncClient,
) -> None:
    bad = make_reminder(en_body="{{ name }}, pay {{ amount_due }} or be arrested, {{ dpd }}.")
    bad["locales"]["zh-CN"]["body"] = "{{ name }}你这个老赖，{{ amount_due }}{{ dpd }}"

    response = await put(notify, "reminder-soft", bad)

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    errors = response.json()["errors"]
    assert {(e["locale"], e["rule"], e["match"]) for e in errors} == {
        ("en", "threat", "arrested"),
        ("zh-CN", "insult", "老赖"),
    }
    english = next(e for e in errors if e["locale"] == "en")
    assert english["field"] == "locales.en.body"
    assert english["at"] == bad["locales"]["en"]["body"].index("arrested")
    assert english["message"]
    assert (await notify.get("/api/v1/templates/reminder-soft")).status_code == 404


async def test_a_refused_new_version_leaves_the_template_as_it_was(
    notify: httpx.AsyncClient,
) -> None:
    await put(notify, "reminder-soft", REMINDER)

    refused = await put(notify, "reminder-soft", make_reminder(variables=["name"]))
    accepted = await put(notify, "reminder-soft", REMINDER)

    assert refused.status_code == 422
    assert {e["field"] for e in refused.json()["errors"]} == {
        "locales.zh-CN.body",
        "locales.en.body",
    }
    assert accepted.json()["version"] == 2  # the refused upload took no number


@pytest.mark.parametrize(
    ("document", "field"),
    [
        (["not", "an", "object"], "body"),
        ({"variables": [], "locales": {"en": {"body": "hi"}}}, "channel"),
        (
            {"channel": "email", "variables": [], "locales": {"en": {"body": "hi"}}},
            "locales.en.subject",
        ),
        (
            {"channel": "sms", "variables": [], "locales": {"en": {"body": "{{ ''.__class__ }}"}}},
            "locales.en.body",
        ),
        (
            {
                "channel": "sms",
                "variables": [],
                "locales": {"en": {"body": "{% import 'os' as os %}"}},
            },
            "locales.en.body",
        ),
    ],
)
async def test_a_malformed_document_is_a_422_with_the_field(
    notify: httpx.AsyncClient, document: object, field: str
) -> None:
    response = await put(notify, "reminder-soft", document)

    assert response.status_code == 422
    assert field in {e["field"] for e in response.json()["errors"]}
    assert (await notify.get("/api/v1/templates/reminder-soft")).status_code == 404


async def test_a_bad_template_id_is_refused(notify: httpx.AsyncClient) -> None:
    response = await put(notify, "bad id", REMINDER)

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["template_id"]


async def test_uploads_at_the_same_time_get_consecutive_versions(
    notify: httpx.AsyncClient,
) -> None:
    answers = await asyncio.gather(*(put(notify, "reminder-soft", REMINDER) for _ in range(6)))

    assert sorted(a.json()["version"] for a in answers) == [1, 2, 3, 4, 5, 6]


async def test_the_list_shows_each_templates_latest_version_page_by_page(
    notify: httpx.AsyncClient,
) -> None:
    for template_id in ("a-reminder", "b-reminder", "c-reminder"):
        await put(notify, template_id, REMINDER)
    await put(notify, "b-reminder", REMINDER)
    email = make_reminder(channel="email")
    for text in email["locales"].values():
        text["subject"] = "{{ name }}"
    await put(notify, "d-email", email)

    first = (await notify.get("/api/v1/templates", params={"limit": 2})).json()
    rest = (
        await notify.get("/api/v1/templates", params={"limit": 2, "cursor": first["next_cursor"]})
    ).json()
    emails = (await notify.get("/api/v1/templates", params={"channel": "email"})).json()

    assert [(t["template_id"], t["version"]) for t in first["items"] + rest["items"]] == [
        ("a-reminder", 1),
        ("b-reminder", 2),
        ("c-reminder", 1),
        ("d-email", 1),
    ]
    assert rest["next_cursor"] is None
    assert [t["template_id"] for t in emails["items"]] == ["d-email"]


async def test_unknown_templates_and_versions_are_404_problems(
    notify: httpx.AsyncClient,
) -> None:
    await put(notify, "reminder-soft", REMINDER)

    for path in ("/api/v1/templates/nope", "/api/v1/templates/reminder-soft/versions/2"):
        response = await notify.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/problem+json")
    preview = await notify.post("/api/v1/templates/nope/preview", json={"variables": VARIABLES})
    assert preview.status_code == 404


async def test_a_preview_renders_masks_and_adds_the_packs_opt_out_line(
    notify: httpx.AsyncClient,
) -> None:
    await put(notify, "reminder-soft", REMINDER)
    variables = {**VARIABLES, "name": "Zhang 110101199001011234"}

    plain = await notify.post(
        "/api/v1/templates/reminder-soft/preview", json={"locale": "en", "variables": variables}
    )
    us = await notify.post(
        "/api/v1/templates/reminder-soft/preview",
        json={"locale": "en", "variables": VARIABLES, "pack": "us"},
    )

    assert plain.status_code == 200, plain.text
    assert plain.json()["subject"] is None
    assert plain.json()["body"] == "Zhang **************1234, 1066.19 is 3 days overdue."
    assert plain.json()["locale"] == "en"
    assert plain.json()["template_version"] == 1
    line = default_pack("us").opt_out_line("sms", "en")
    assert us.json()["body"] == f"Zhang, 1066.19 is 3 days overdue.\n{line}"


async def test_a_preview_falls_back_to_chinese_and_can_show_an_older_version(
    notify: httpx.AsyncClient,
) -> None:
    await put(notify, "reminder-soft", REMINDER)
    await put(
        notify, "reminder-soft", make_reminder(en_body="v2 {{ name }}{{ amount_due }}{{ dpd }}")
    )

    french = await notify.post(
        "/api/v1/templates/reminder-soft/preview", json={"locale": "fr", "variables": VARIABLES}
    )
    old = await notify.post(
        "/api/v1/templates/reminder-soft/preview",
        json={"locale": "en", "variables": VARIABLES, "version": 1},
    )

    assert french.json()["locale"] == "zh-CN"
    assert french.json()["body"] == "Zhang，您本期应还1066.19元，已逾期3天。"
    assert old.json()["body"] == "Zhang, 1066.19 is 3 days overdue."


async def test_a_preview_without_its_variables_or_with_bad_wording_in_them_is_a_422(
    notify: httpx.AsyncClient,
) -> None:
    await put(notify, "reminder-soft", REMINDER)

    missing = await notify.post(
        "/api/v1/templates/reminder-soft/preview", json={"variables": {"name": "Zhang"}}
    )
    insulting = await notify.post(
        "/api/v1/templates/reminder-soft/preview",
        json={"locale": "en", "variables": {**VARIABLES, "name": "Deadbeat"}},
    )
    unknown_pack = await notify.post(
        "/api/v1/templates/reminder-soft/preview", json={"variables": VARIABLES, "pack": "mars"}
    )

    assert missing.status_code == 422
    assert [e["field"] for e in missing.json()["errors"]] == [
        "variables.amount_due",
        "variables.dpd",
    ]
    assert insulting.status_code == 422
    assert insulting.json()["errors"][0]["rule"] == "insult"
    assert unknown_pack.status_code == 422
    assert [e["field"] for e in unknown_pack.json()["errors"]] == ["pack"]
