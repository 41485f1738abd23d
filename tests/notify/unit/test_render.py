"""Rendering one message: variables checked, text masked and linted, opt-out line added."""

from __future__ import annotations

from typing import Any

import pytest

from notify.domain.issues import Issue
from notify.domain.lint import shipped_lexicon
from notify.domain.render import Rendered, choose_locale, render
from notify.domain.templates import Template, parse_template
from shared.compliance import default_pack

LEXICON = shipped_lexicon()
US = default_pack("us")
CN = default_pack("cn")
VARIABLES = {"name": "Zhang", "amount_due": "1066.19", "dpd": 3}


def make_template(
    *, channel: str = "sms", locales: dict[str, Any] | None = None, purpose: str = "reminder"
) -> Template:
    document = {
        "channel": channel,
        "purpose": purpose,
        "variables": ["name", "amount_due", "dpd"],
        "locales": locales
        or {
            "zh-CN": {"body": "{{ name }}，您本期应还{{ amount_due }}元，已逾期{{ dpd }}天。"},
            "en": {"body": "{{ name }}, {{ amount_due }} is {{ dpd }} days overdue."},
        },
    }
    template = parse_template("reminder-soft", document, LEXICON)
    assert isinstance(template, Template), template
    return template


def rendered(
    template: Template,
    *,
    locale: str | None = "en",
    variables: dict[str, object] | None = None,
    opt_out_line: str | None = None,
) -> Rendered:
    result = render(
        template,
        locale=locale,
        variables=VARIABLES if variables is None else variables,
        lexicon=LEXICON,
        opt_out_line=opt_out_line,
    )
    assert isinstance(result, Rendered), result
    return result


def refused(template: Template, variables: dict[str, object]) -> list[Issue]:
    result = render(template, locale="en", variables=variables, lexicon=LEXICON, opt_out_line=None)
    assert isinstance(result, list), result
    return result


def test_the_requested_locale_is_rendered() -> None:
    message = rendered(make_template())

    assert message == Rendered("en", None, "Zhang, 1066.19 is 3 days overdue.")


@pytest.mark.parametrize(
    ("present", "requested", "chosen"),
    [
        (("zh-CN", "en"), "en", "en"),
        (("zh-CN", "en"), "zh-CN", "zh-CN"),
        (("zh-CN", "en"), "fr", "zh-CN"),
        (("zh-CN", "en"), None, "zh-CN"),
        (("en",), "zh-CN", "en"),
        (("zh-CN",), "en", "zh-CN"),
    ],
)
def test_a_missing_locale_falls_back_to_chinese_then_english(
    present: tuple[str, ...], requested: str | None, chosen: str
) -> None:
    template = make_template(
        locales={name: {"body": "{{ name }}{{ amount_due }}{{ dpd }}"} for name in present}
    )

    assert choose_locale(template, requested) == chosen
    assert rendered(template, locale=requested).locale == chosen


def test_missing_variables_are_refused_each_by_name() -> None:
    found = refused(make_template(), {"name": "Zhang", "dpd": None})

    assert [(i.field, i.message) for i in found] == [
        ("variables.amount_due", "is required by the template"),
        ("variables.dpd", "is required by the template"),
    ]


def test_variables_the_template_does_not_declare_are_not_passed_to_it() -> None:
    message = rendered(make_template(), variables={**VARIABLES, "extra": "ignored"})

    assert "ignored" not in message.body


def test_national_ids_and_card_numbers_in_variables_are_masked() -> None:
    template = make_template()

    message = rendered(
        template, locale="zh-CN", variables={**VARIABLES, "name": "张三(110101199001011234)"}
    )

    assert "110101199001011234" not in message.body
    assert "**************1234" in message.body


def test_wording_a_variable_brings_in_is_refused_at_render() -> None:
    (found,) = refused(make_template(), {**VARIABLES, "name": "You deadbeat"})

    assert (found.field, found.locale, found.rule, found.match, found.at) == (
        "locales.en.body",
        "en",
        "insult",
        "deadbeat",
        4,
    )


@pytest.mark.parametrize(("channel", "separator"), [("sms", "\n"), ("email", "\n\n")])
def test_the_us_pack_adds_its_opt_out_line_to_texts_and_emails(
    channel: str, separator: str
) -> None:
    locales = {
        "en": {"subject": "Your account", "body": "Hello {{ name }} {{ amount_due }} {{ dpd }}"}
    }
    if channel == "sms":
        del locales["en"]["subject"]
    template = make_template(channel=channel, locales=locales)
    line = US.opt_out_line(channel, "en")
    assert line is not None

    message = rendered(template, opt_out_line=line)

    assert message.body == "Hello Zhang 1066.19 3" + separator + line


def test_the_opt_out_line_follows_the_rendered_locale() -> None:
    template = make_template()
    line = US.opt_out_line("sms", "zh-CN")

    message = rendered(template, locale="zh-CN", opt_out_line=line)

    assert line is not None
    assert message.body.endswith("\n" + line)


def test_no_opt_out_line_where_the_pack_asks_for_none() -> None:
    assert CN.opt_out_line("sms", "zh-CN") is None
    assert US.opt_out_line("letter", "en") is None
    assert rendered(make_template(), opt_out_line=None).body.endswith("overdue.")


def test_a_body_that_already_ends_with_the_line_does_not_get_it_twice() -> None:
    line = US.opt_out_line("sms", "en")
    assert line is not None
    template = make_template(
        locales={"en": {"body": "{{ name }} {{ amount_due }} {{ dpd }}. " + line}}
    )

    assert rendered(template, opt_out_line=line).body.count(line) == 1


def test_a_rendered_subject_stays_one_line() -> None:
    template = make_template(
        channel="email",
        locales={"en": {"subject": "Hello {{ name }}", "body": "{{ amount_due }} {{ dpd }}"}},
    )

    message = rendered(template, variables={**VARIABLES, "name": "Zhang\r\nBcc: x@example.com"})

    assert message.subject == "Hello Zhang Bcc: x@example.com"


def test_a_render_error_is_an_issue_not_an_exception() -> None:
    template = make_template(
        locales={"en": {"body": "{{ name.first }} {{ amount_due }} {{ dpd }}"}}
    )

    (found,) = refused(template, VARIABLES)

    assert found.field == "locales.en.body"
    assert "undefined" in found.message
