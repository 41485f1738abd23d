"""``render_message``: the one way notify turns a template into the text it sends.

Delivery (the consumers of ``collections.contact.requested`` and ``POST /api/v1/messages``)
calls it for every message; the preview route calls it too, so what a preview shows is what
would be sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from notify.adapters import templates_sql
from notify.domain.issues import Issue
from notify.domain.render import choose_locale, render
from notify.domain.templates import from_document
from notify.service_layer.lexicon import current_lexicon
from notify.service_layer.packs import pack_for
from notify.service_layer.refusals import Unprocessable
from shared.problems import NotFound


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    template_id: str
    template_version: int
    channel: str  # the template's channel
    purpose: str
    locale: str  # the locale actually used
    subject: str | None
    body: str  # masked, linted, opt-out line added when the pack requires it


async def render_message(
    session: AsyncSession,
    template_id: str,
    *,
    locale: str | None,
    variables: Mapping[str, object],
    pack: str | None,
    version: int | None = None,
) -> RenderedMessage:
    """Latest version unless `version` is given. Locale: the requested one if the template
    has it, else zh-CN, else en. Raises shared.problems NotFound for an unknown template and
    an Unprocessable-style problem (422, with errors) for missing variables or lint findings."""
    row = await templates_sql.get_version(session, template_id, version)
    if row is None:
        what = "template" if version is None else "template version"
        raise NotFound(what, template_id if version is None else f"{template_id} v{version}")
    template = from_document(template_id, row["document"])
    opt_out = None
    if pack is not None:
        rules = await pack_for(session, pack)
        if rules is None:
            raise Unprocessable("Message refused", [Issue("pack", f"unknown pack {pack!r}")])
        opt_out = rules.opt_out_line(template.channel, choose_locale(template, locale))
    result = render(
        template,
        locale=locale,
        variables=variables,
        lexicon=current_lexicon(),
        opt_out_line=opt_out,
    )
    if isinstance(result, list):
        raise Unprocessable("Message refused", result)
    return RenderedMessage(
        template_id=template_id,
        template_version=row["version"],
        channel=str(template.channel),
        purpose=str(template.purpose),
        locale=result.locale,
        subject=result.subject,
        body=result.body,
    )
