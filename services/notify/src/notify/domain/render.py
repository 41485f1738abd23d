"""Rendering one message from a template: variables in, masked and linted text out.

The order matters: the text is rendered in the sandbox, then national ID and card/account
numbers are masked, then the result is linted again (a variable can carry wording the template
did not have), and only then is the pack's opt-out line added (pack data, not borrower data).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from notify.domain import sandbox
from notify.domain.issues import Issue
from notify.domain.lint import Lexicon
from notify.domain.masking import mask
from notify.domain.templates import LOCALES, Template, finding_issue
from shared.compliance import Channel

_LINE_BREAKS = re.compile(r"\s*[\r\n]+\s*")
#: Between a body and its opt-out line: a blank line in a letter or e-mail, a break in a text.
_SEPARATOR = {Channel.EMAIL: "\n\n", Channel.LETTER: "\n\n"}


@dataclass(frozen=True, slots=True)
class Rendered:
    locale: str
    subject: str | None
    body: str


def choose_locale(template: Template, requested: str | None) -> str:
    """The requested locale if the template has it, else zh-CN, else en."""
    if requested in template.locales:
        return str(requested)
    return next(name for name in LOCALES if name in template.locales)


def render(
    template: Template,
    *,
    locale: str | None,
    variables: Mapping[str, object],
    lexicon: Lexicon,
    opt_out_line: str | None,
) -> Rendered | list[Issue]:
    """The message in the chosen locale, or every reason it cannot be sent as it is."""
    chosen = choose_locale(template, locale)
    missing = [
        Issue(f"variables.{name}", "is required by the template")
        for name in template.variables
        if variables.get(name) is None
    ]
    if missing:
        return missing
    job = _Job(template, chosen, {name: variables[name] for name in template.variables}, lexicon)
    text = template.locales[chosen]
    issues: list[Issue] = []
    subject = None if text.subject is None else job.text("subject", text.subject, issues)
    if subject is not None:
        subject = _LINE_BREAKS.sub(" ", subject).strip()  # a subject is one header line
    body = job.text("body", text.body, issues)
    if issues or body is None:
        return issues
    return Rendered(chosen, subject, _with_opt_out(body, template.channel, opt_out_line))


@dataclass(frozen=True, slots=True)
class _Job:
    template: Template
    locale: str
    context: Mapping[str, object]
    lexicon: Lexicon

    def text(self, part: str, source: str, issues: list[Issue]) -> str | None:
        """One text rendered and masked, or None with its issues added (an error, findings)."""
        where = f"locales.{self.locale}.{part}"
        try:
            text = mask(sandbox.render_text(sandbox.compiled(source), self.context))
        except sandbox.RenderError as e:
            issues.append(Issue(where, str(e), self.locale))
            return None
        found = self.lexicon.lint(text, locale=self.locale, purpose=self.template.purpose)
        issues += [finding_issue(where, f) for f in found]
        return None if found else text


def _with_opt_out(body: str, channel: Channel, line: str | None) -> str:
    if line is None or line in body:
        return body
    return body.rstrip() + _SEPARATOR.get(channel, "\n") + line
