"""Uploaded templates: the BRIEF's example is accepted, every mistake is reported at its path."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from notify.domain.issues import Issue
from notify.domain.lint import shipped_lexicon
from notify.domain.templates import Template, lint_source, parse_template
from shared.compliance import Channel, Purpose

LEXICON = shipped_lexicon()
BRIEF_EXAMPLE: dict[str, Any] = {
    "channel": "sms",
    "variables": ["name", "amount_due", "dpd"],
    "locales": {
        "zh-CN": {"body": "{{ name }}，您本期应还{{ amount_due }}元，已逾期{{ dpd }}天。"},
        "en": {"subject": None, "body": "{{ name }}, {{ amount_due }} is {{ dpd }} days overdue."},
    },
}


def make_document(**changes: Any) -> dict[str, Any]:
    document = copy.deepcopy(BRIEF_EXAMPLE)
    document.update(changes)
    return document


def issues(document: object, template_id: str = "reminder-soft") -> list[Issue]:
    result = parse_template(template_id, document, LEXICON)
    assert isinstance(result, list), "the document was accepted"
    return result


def fields(document: object) -> set[str]:
    return {i.field for i in issues(document)}


def test_the_brief_example_is_a_reminder_by_default() -> None:
    template = parse_template("reminder-soft", BRIEF_EXAMPLE, LEXICON)

    assert isinstance(template, Template)
    assert template.channel is Channel.SMS
    assert template.purpose is Purpose.REMINDER
    assert template.variables == ("name", "amount_due", "dpd")
    assert set(template.locales) == {"zh-CN", "en"}
    assert template.as_document()["locales"]["en"] == BRIEF_EXAMPLE["locales"]["en"]


def test_a_variable_used_but_not_declared_is_refused_in_each_locale() -> None:
    document = make_document(variables=["name", "amount_due"])

    found = issues(document)

    assert {(i.field, i.locale) for i in found} == {
        ("locales.zh-CN.body", "zh-CN"),
        ("locales.en.body", "en"),
    }
    assert all("'dpd'" in i.message for i in found)


def test_a_syntax_error_is_refused_with_its_line() -> None:
    document = make_document()
    document["locales"]["en"]["body"] = "Hello\n{{ name "

    (found,) = issues(document)

    assert found.field == "locales.en.body"
    assert "line 2" in found.message


def test_every_locale_is_linted_and_each_finding_says_where() -> None:
    document = make_document()
    document["locales"]["zh-CN"]["body"] = (
        "{{ name }}，再不还{{ amount_due }}元就让你坐牢。{{ dpd }}"
    )
    document["locales"]["en"]["body"] = "{{ name }}, {{ amount_due }}: pay, you deadbeat. {{ dpd }}"

    found = issues(document)

    by_locale = {i.locale: i for i in found}
    assert by_locale["zh-CN"].rule == "threat"
    assert by_locale["zh-CN"].match == "坐牢"
    assert by_locale["zh-CN"].at == document["locales"]["zh-CN"]["body"].index("坐牢")
    assert by_locale["en"].rule == "insult"
    assert by_locale["en"].at == document["locales"]["en"]["body"].index("deadbeat")
    assert {i.field for i in found} == {"locales.zh-CN.body", "locales.en.body"}


def test_a_variable_name_is_not_read_as_wording() -> None:
    document = make_document(variables=["name", "amount_due", "dpd", "blacklist_flag"])
    document["locales"]["en"]["body"] += " {{ blacklist_flag }}"

    assert isinstance(parse_template("reminder-soft", document, LEXICON), Template)


def test_a_location_template_may_not_mention_the_debt() -> None:
    document = {
        "channel": "sms",
        "purpose": "location",
        "variables": ["name"],
        "locales": {
            "zh-CN": {"body": "您好，请转告{{ name }}尽快还款。"},
            "en": {"body": "Hello, please ask {{ name }} to call us back."},
        },
    }

    (found,) = issues(document)

    assert (found.locale, found.rule, found.match) == ("zh-CN", "disclosure", "还款")


def test_an_email_needs_a_subject_and_a_text_has_none() -> None:
    email = make_document(channel="email")
    sms = make_document()
    sms["locales"]["en"]["subject"] = "Reminder"

    assert fields(email) == {"locales.zh-CN.subject", "locales.en.subject"}
    assert fields(sms) == {"locales.en.subject"}


def test_a_subject_is_one_line() -> None:
    document = make_document(channel="email")
    document["locales"] = {"en": {"subject": "Reminder\nBcc: x@example.com", "body": "Hi"}}

    assert fields(document) == {"locales.en.subject"}


def test_a_letter_may_carry_a_title() -> None:
    document = make_document(channel="letter", purpose="legal_notice")
    document["locales"]["zh-CN"]["subject"] = "律师函"

    assert isinstance(parse_template("final-letter", document, LEXICON), Template)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"channel": "fax"}, "channel"),
        ({"channel": "agent_call"}, "channel"),
        ({"purpose": "marketing"}, "purpose"),
        ({"variables": "name"}, "variables"),
        ({"variables": ["name", "name", "amount_due", "dpd"]}, "variables"),
        ({"variables": ["name", "amount due", "amount_due", "dpd"]}, "variables[1]"),
        ({"locales": {}}, "locales"),
        ({"locales": {"fr": {"body": "Bonjour"}}}, "locales.fr"),
        ({"locales": {"en": {"subject": None}}}, "locales.en.body"),
        ({"locales": {"en": {"body": "   "}}}, "locales.en.body"),
        ({"locales": {"en": {"body": "x", "footer": "y"}}}, "locales.en.footer"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_wrong_field_is_refused_at_its_path(changes: dict[str, Any], field: str) -> None:
    assert field in fields(make_document(**changes))


def test_every_mistake_is_reported_at_once() -> None:
    document = make_document(channel="fax", purpose="spam", variables=["name"])
    document["locales"]["en"]["body"] = "{{ ''.__class__ }}"

    found = fields(document)

    assert {"channel", "purpose", "locales.en.body", "locales.zh-CN.body"} <= found


def test_a_bad_template_id_and_a_document_that_is_not_an_object_are_refused() -> None:
    assert {i.field for i in issues(BRIEF_EXAMPLE, "no spaces allowed")} == {"template_id"}
    assert issues(["not", "a", "template"])


def test_lint_source_blanks_tags_and_keeps_offsets() -> None:
    source = "{{ name }}，{% if a %}坐牢{% endif %}{# 老赖 #}"

    blanked = lint_source(source)

    assert len(blanked) == len(source)
    assert blanked.index("坐牢") == source.index("坐牢")
    assert "name" not in blanked
    assert "老赖" not in blanked
