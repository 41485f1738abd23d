"""Use cases on message templates: upload a version, read versions, list, preview."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from notify.adapters import templates_sql
from notify.domain.templates import Template, from_document, parse_template
from notify.service_layer.lexicon import current_lexicon
from notify.service_layer.refusals import Unprocessable
from notify.service_layer.rendering import RenderedMessage, render_message
from shared.pagination import decode_cursor, encode_cursor
from shared.problems import NotFound


@dataclass(frozen=True, slots=True)
class VersionSummary:
    version: int
    created_at: datetime
    created_by: str | None


@dataclass(frozen=True, slots=True)
class StoredTemplate:
    """One stored version of a template, as the API answers it."""

    template: Template
    version: int
    created_at: datetime
    created_by: str | None
    versions: tuple[VersionSummary, ...] = ()


@dataclass(frozen=True, slots=True)
class TemplatePage:
    items: list[StoredTemplate]
    next_cursor: str | None


async def upload_template(
    session: AsyncSession, template_id: str, document: object, *, actor: str | None
) -> StoredTemplate:
    """Store the document as the template's next version; a 422 with every mistake, and
    nothing stored, when it is refused."""
    parsed = parse_template(template_id, document, current_lexicon())
    if isinstance(parsed, list):
        raise Unprocessable("Template refused", parsed)
    version = await templates_sql.next_version(session, template_id)
    row = await templates_sql.insert_version(
        session, template_id, version, parsed.as_document(), actor
    )
    return _stored(row)


async def latest_template(session: AsyncSession, template_id: str) -> StoredTemplate:
    """The latest version, with the list of every version."""
    row = await templates_sql.get_version(session, template_id)
    if row is None:
        raise NotFound("template", template_id)
    summaries = await templates_sql.version_summaries(session, template_id)
    return _stored(row, tuple(VersionSummary(**s) for s in summaries))


async def template_version(session: AsyncSession, template_id: str, version: int) -> StoredTemplate:
    """One version of a template."""
    row = await templates_sql.get_version(session, template_id, version)
    if row is None:
        raise NotFound("template version", f"{template_id} v{version}")
    return _stored(row)


async def list_templates(
    session: AsyncSession,
    *,
    cursor: str | None,
    limit: int,
    channel: str | None = None,
    purpose: str | None = None,
) -> TemplatePage:
    """The latest version of each template, by template id."""
    rows = await templates_sql.latest_versions(
        session, after=decode_cursor(cursor), limit=limit + 1, channel=channel, purpose=purpose
    )
    items = [_stored(r) for r in rows[:limit]]
    more = len(rows) > limit
    return TemplatePage(items, encode_cursor(items[-1].template.template_id) if more else None)


async def preview(
    session: AsyncSession,
    template_id: str,
    *,
    locale: str | None,
    variables: Mapping[str, object],
    pack: str | None = None,
    version: int | None = None,
) -> RenderedMessage:
    """The message as it would be sent with these variables (nothing is stored)."""
    return await render_message(
        session, template_id, locale=locale, variables=variables, pack=pack, version=version
    )


def _stored(row: Mapping[str, Any], versions: tuple[VersionSummary, ...] = ()) -> StoredTemplate:
    return StoredTemplate(
        template=from_document(row["template_id"], row["document"]),
        version=row["version"],
        created_at=row["created_at"],
        created_by=row["created_by"],
        versions=versions,
    )
