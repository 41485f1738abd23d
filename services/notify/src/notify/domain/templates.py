"""A message template as an uploaded document: checked once, then frozen.

``parse_template`` reads the body of ``PUT /api/v1/templates/{template_id}`` (BRIEF section 5)
and returns a :class:`Template` or every mistake in it: unknown channel or purpose, a missing
e-mail subject, syntax errors and constructs the sandbox refuses, variables used but not
declared, and every content-lint finding in every locale. Nothing is stored unless this
returns a template.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from notify.domain import sandbox
from notify.domain.issues import Issue
from notify.domain.lint import Finding, Lexicon
from shared.compliance import Channel, Purpose
from shared.compliance import documents as d
from shared.compliance.documents import Errors, at

#: The locales a template may carry, in the order a missing locale falls back through.
LOCALES = ("zh-CN", "en")
#: The channels a template renders for (agent calls and field visits are people, not text).
CHANNELS = frozenset({Channel.SMS, Channel.EMAIL, Channel.PUSH, Channel.VOICE, Channel.LETTER})
#: Channels whose messages have a subject: required for e-mail, an optional title on a letter.
WITH_SUBJECT = frozenset({Channel.EMAIL, Channel.LETTER})
MAX_VARIABLES = 50
TEMPLATE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
#: Jinja tags and comments, blanked before lint so that a variable's name (``{{ debt_id }}``)
#: is not read as wording; what they render is linted at render time.
_TAGS = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)


@dataclass(frozen=True, slots=True)
class LocaleText:
    subject: str | None
    body: str


@dataclass(frozen=True, slots=True)
class Template:
    """One version's content: what it is for, what it needs, and its text per locale."""

    template_id: str
    channel: Channel
    purpose: Purpose
    variables: tuple[str, ...]
    locales: Mapping[str, LocaleText]

    def as_document(self) -> dict[str, Any]:
        """The JSON document this template was parsed from (what is stored and answered)."""
        return {
            "channel": str(self.channel),
            "purpose": str(self.purpose),
            "variables": list(self.variables),
            "locales": {
                name: {"subject": text.subject, "body": text.body}
                for name, text in self.locales.items()
            },
        }


def parse_template(template_id: str, document: object, lexicon: Lexicon) -> Template | list[Issue]:
    """The template a document describes, or every mistake in it (never only the first).

    Each text is checked (syntax, sandbox, undeclared variables, lint) even when other fields
    are wrong, so one upload shows everything to fix."""
    errors = Errors()
    if not TEMPLATE_ID.match(template_id):
        errors.add("template_id", "must be 1-64 letters, digits, '.', '_' or '-'")
    top = d.mapping(
        document, "", errors, required=("channel", "variables", "locales"), optional=("purpose",)
    )
    if top is None:
        return [Issue(e.field, e.message) for e in errors.items]
    channel = d.choice(top.get("channel"), "channel", errors, CHANNELS)
    purpose = d.choice(top.get("purpose", Purpose.REMINDER), "purpose", errors, frozenset(Purpose))
    variables = _variables(top.get("variables"), errors)
    locales = _locales(top.get("locales"), channel, errors)
    issues = [Issue(e.field, e.message) for e in errors.items]
    for name, text in locales.items():
        issues += _check_text(name, text, frozenset(variables), purpose, lexicon)
    if issues or channel is None or purpose is None:
        return issues
    return Template(template_id, Channel(channel), Purpose(purpose), variables, locales)


def from_document(template_id: str, document: Mapping[str, Any]) -> Template:
    """A stored template back from its document (stored documents passed parse_template)."""
    return Template(
        template_id=template_id,
        channel=Channel(document["channel"]),
        purpose=Purpose(document["purpose"]),
        variables=tuple(document["variables"]),
        locales={
            name: LocaleText(text.get("subject"), text["body"])
            for name, text in document["locales"].items()
        },
    )


def lint_source(source: str) -> str:
    """The text of a template with its tags blanked (same length, so offsets hold)."""
    return _TAGS.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), source)


def _variables(value: object, errors: Errors) -> tuple[str, ...]:
    """The declared names (the well-formed ones, when some are not)."""
    listed = d.items(value, "variables", errors) or []
    if len(listed) > MAX_VARIABLES:
        errors.add("variables", f"must list at most {MAX_VARIABLES} variables")
    names = []
    for i, item in enumerate(listed):
        if not isinstance(item, str) or not _VARIABLE.match(item):
            errors.add(at("variables", i), "must be a name of letters, digits and '_'")
        else:
            names.append(item)
    if len(set(names)) != len(names):
        errors.add("variables", "must not repeat a name")
    return tuple(dict.fromkeys(names))


def _locales(value: object, channel: str | None, errors: Errors) -> dict[str, LocaleText]:
    """The text of each locale that has a body (mistakes in the others recorded)."""
    listed = d.mapping(value, "locales", errors, optional=LOCALES)
    if listed is None:
        return {}
    if not listed:
        errors.add("locales", f"must give the text in at least one of {', '.join(LOCALES)}")
    texts = {}
    for name in LOCALES:
        if name in listed:
            text = _locale(listed[name], at("locales", name), channel, errors)
            if text is not None:
                texts[name] = text
    return texts


def _locale(value: object, path: str, channel: str | None, errors: Errors) -> LocaleText | None:
    text = d.mapping(value, path, errors, required=("body",), optional=("subject",))
    if text is None:
        return None
    body = d.text(text.get("body"), at(path, "body"), errors, max_length=sandbox.MAX_SOURCE)
    subject = _subject(text.get("subject"), at(path, "subject"), channel, errors)
    return None if body is None else LocaleText(subject, body)


def _subject(value: object, path: str, channel: str | None, errors: Errors) -> str | None:
    if value is None:
        if channel == Channel.EMAIL:
            errors.add(path, "is required for e-mail")
        return None
    if channel is not None and channel not in WITH_SUBJECT:
        errors.add(path, f"must be null: a {channel} message has no subject")
        return None
    subject = d.text(value, path, errors, max_length=500)
    if subject is not None and ("\n" in subject or "\r" in subject):
        errors.add(path, "must be one line")
        return None
    return subject


def _check_text(
    locale: str, text: LocaleText, declared: frozenset[str], purpose: str | None, lexicon: Lexicon
) -> list[Issue]:
    issues: list[Issue] = []
    parts = {"subject": text.subject, "body": text.body}
    for part, source in parts.items():
        if source is None:
            continue
        where = f"locales.{locale}.{part}"
        checked = sandbox.check(source)
        if isinstance(checked, list):
            issues += [Issue(where, message, locale) for message in checked]
        else:
            issues += [
                Issue(where, f"uses undeclared variable {name!r} (declare it in variables)", locale)
                for name in sorted(checked.variables - declared)
            ]
        if purpose is not None:  # which entries apply depends on it
            found = lexicon.lint(lint_source(source), locale=locale, purpose=purpose)
            issues += [finding_issue(where, f) for f in found]
    return issues


def finding_issue(field: str, finding: Finding) -> Issue:
    """A lint finding as an error item: where, why, and the finding's own four keys."""
    return Issue(
        field,
        f"{finding.rule}: {finding.match!r} is not allowed in a message",
        finding.locale,
        str(finding.rule),
        finding.match,
        finding.at,
    )
