"""render_message, the call delivery makes for every message, against real PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from notify.domain.lint import shipped_lexicon
from notify.main import create_app
from notify.service_layer.lexicon import use_lexicon
from notify.service_layer.refusals import Unprocessable
from notify.service_layer.rendering import RenderedMessage, render_message
from notify.settings import NotifySettings
from postloan_testing.servers import running
from principals import signed
from shared.compliance import default_pack
from shared.db import Database
from shared.problems import NotFound

EMAIL = {
    "channel": "email",
    "purpose": "reminder",
    "variables": ["name", "amount_due"],
    "locales": {
        "zh-CN": {
            "subject": "{{ name }}，还款提醒",
            "body": "{{ name }}，您本期应还{{ amount_due }}元。",
        },
        "en": {"subject": "Payment reminder", "body": "{{ name }}, {{ amount_due }} is due."},
    },
}
VARIABLES = {"name": "Zhang", "amount_due": "1066.19"}


async def test_the_latest_version_is_rendered_with_the_us_opt_out_line(
    notify: httpx.AsyncClient, notify_db: Database
) -> None:
    await notify.put("/api/v1/templates/second-notice", json=EMAIL)

    async with notify_db.unit_of_work() as session:
        message = await render_message(
            session, "second-notice", locale="en", variables=VARIABLES, pack="us"
        )

    line = default_pack("us").opt_out_line("email", "en")
    assert message == RenderedMessage(
        template_id="second-notice",
        template_version=1,
        channel="email",
        purpose="reminder",
        locale="en",
        subject="Payment reminder",
        body=f"Zhang, 1066.19 is due.\n\n{line}",
    )


async def test_a_given_version_and_the_cn_pack_render_without_a_line(
    notify: httpx.AsyncClient, notify_db: Database
) -> None:
    await notify.put("/api/v1/templates/second-notice", json=EMAIL)
    newer = json.loads(json.dumps(EMAIL))
    newer["locales"]["zh-CN"]["body"] = "第二版：{{ name }}，{{ amount_due }}元。"
    await notify.put("/api/v1/templates/second-notice", json=newer)

    async with notify_db.unit_of_work() as session:
        first = await render_message(
            session, "second-notice", locale=None, variables=VARIABLES, pack="cn", version=1
        )
        latest = await render_message(
            session, "second-notice", locale="de", variables=VARIABLES, pack=None
        )

    assert (first.template_version, first.locale) == (1, "zh-CN")
    assert first.subject == "Zhang，还款提醒"
    assert first.body == "Zhang，您本期应还1066.19元。"
    assert (latest.template_version, latest.body) == (2, "第二版：Zhang，1066.19元。")


async def test_an_unknown_template_or_version_is_not_found(
    notify: httpx.AsyncClient, notify_db: Database
) -> None:
    await notify.put("/api/v1/templates/second-notice", json=EMAIL)

    async with notify_db.unit_of_work() as session:
        with pytest.raises(NotFound):
            await render_message(session, "nope", locale="en", variables=VARIABLES, pack=None)
        with pytest.raises(NotFound):
            await render_message(
                session, "second-notice", locale="en", variables=VARIABLES, pack=None, version=9
            )


async def test_missing_variables_and_findings_are_a_422_problem_with_errors(
    notify: httpx.AsyncClient, notify_db: Database
) -> None:
    await notify.put("/api/v1/templates/second-notice", json=EMAIL)

    async with notify_db.unit_of_work() as session:
        with pytest.raises(Unprocessable) as missing:
            await render_message(
                session, "second-notice", locale="en", variables={"name": "Z"}, pack="us"
            )
        with pytest.raises(Unprocessable) as shaming:
            await render_message(
                session,
                "second-notice",
                locale="en",
                variables={"name": "Zhang", "amount_due": "1066.19, everyone will know,"},
                pack="us",
            )

    assert missing.value.status == 422
    assert missing.value.extensions["errors"] == [
        {"field": "variables.amount_due", "message": "is required by the template"}
    ]
    (finding,) = shaming.value.extensions["errors"]
    assert (finding["field"], finding["rule"], finding["match"]) == (
        "locales.en.body",
        "shaming",
        "everyone will know",
    )


async def test_the_configured_word_list_extends_the_shipped_one(
    notify_settings: NotifySettings, tmp_path: Path
) -> None:
    extra = tmp_path / "words.json"
    extra.write_text(json.dumps({"languages": {"en": {"insult": {"words": ["numpty"]}}}}))
    settings = notify_settings.model_copy(update={"lint_words_file": extra})
    document = {"channel": "sms", "variables": [], "locales": {"en": {"body": "Hello numpty"}}}

    try:
        async with running(create_app(settings), auth=signed()) as client:
            extended = await client.put("/api/v1/templates/t", json=document)
            shipped = await client.put(
                "/api/v1/templates/t", json={**document, "locales": {"en": {"body": "老赖"}}}
            )
    finally:
        use_lexicon(shipped_lexicon())

    assert extended.status_code == 422
    assert extended.json()["errors"][0]["match"] == "numpty"
    assert shipped.json()["errors"][0]["rule"] == "insult"
