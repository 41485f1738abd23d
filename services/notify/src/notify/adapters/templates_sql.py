"""SQL of template versions: a head row per template, one row per version, never updated."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from notify.adapters.tables import Base, TemplateRow, TemplateVersionRow

TEMPLATE = Base.metadata.tables[TemplateRow.__tablename__]
VERSION = Base.metadata.tables[TemplateVersionRow.__tablename__]


async def next_version(session: AsyncSession, template_id: str) -> int:
    """Reserve the template's next version number (1 for a new template).

    The upsert locks the head row until the transaction ends, so concurrent uploads of one
    template get consecutive numbers instead of a duplicate key.
    """
    statement = (
        insert(TEMPLATE)
        .values(template_id=template_id, latest_version=1)
        .on_conflict_do_update(
            index_elements=["template_id"],
            set_={"latest_version": TEMPLATE.c.latest_version + 1, "updated_at": sa.func.now()},
        )
        .returning(TEMPLATE.c.latest_version)
    )
    return int((await session.execute(statement)).scalar_one())


async def insert_version(
    session: AsyncSession,
    template_id: str,
    version: int,
    document: dict[str, Any],
    created_by: str | None,
) -> dict[str, Any]:
    """Store one version; answers the stored row."""
    statement = (
        sa.insert(VERSION)
        .values(
            template_id=template_id,
            version=version,
            channel=document["channel"],
            purpose=document["purpose"],
            document=document,
            created_by=created_by,
        )
        .returning(*VERSION.c)
    )
    return dict((await session.execute(statement)).mappings().one())


async def get_version(
    session: AsyncSession, template_id: str, version: int | None = None
) -> dict[str, Any] | None:
    """One version (the latest when ``version`` is None); None when there is no such one."""
    query = sa.select(VERSION).where(VERSION.c.template_id == template_id)
    if version is None:
        latest = sa.select(TEMPLATE.c.latest_version).where(TEMPLATE.c.template_id == template_id)
        query = query.where(VERSION.c.version == latest.scalar_subquery())
    else:
        query = query.where(VERSION.c.version == version)
    row = (await session.execute(query)).mappings().one_or_none()
    return None if row is None else dict(row)


async def version_summaries(session: AsyncSession, template_id: str) -> list[dict[str, Any]]:
    """Every version of a template, oldest first, without its text."""
    query = (
        sa.select(VERSION.c.version, VERSION.c.created_at, VERSION.c.created_by)
        .where(VERSION.c.template_id == template_id)
        .order_by(VERSION.c.version)
    )
    return [dict(r) for r in (await session.execute(query)).mappings()]


async def latest_versions(
    session: AsyncSession,
    *,
    after: str | None,
    limit: int,
    channel: str | None = None,
    purpose: str | None = None,
) -> list[dict[str, Any]]:
    """The latest version of each template, by template id after ``after`` (keyset)."""
    query = (
        sa.select(VERSION)
        .join(
            TEMPLATE,
            sa.and_(
                TEMPLATE.c.template_id == VERSION.c.template_id,
                TEMPLATE.c.latest_version == VERSION.c.version,
            ),
        )
        .order_by(VERSION.c.template_id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(VERSION.c.template_id > after)
    if channel is not None:
        query = query.where(VERSION.c.channel == channel)
    if purpose is not None:
        query = query.where(VERSION.c.purpose == purpose)
    return [dict(r) for r in (await session.execute(query)).mappings()]
