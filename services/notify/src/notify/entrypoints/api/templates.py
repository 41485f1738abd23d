"""Routes of message templates: versioned uploads, reads, and previews."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, status
from pydantic import BaseModel, ConfigDict, Field

from notify.service_layer import templates
from shared.app import SessionDep
from shared.compliance import Purpose
from shared.events import Channel
from shared.params import Cursor, PageLimit, Version
from shared.principal import PrincipalDep
from shared.types import ExternalId

router = APIRouter(prefix="/api/v1/templates", tags=["templates"])

TemplateId = ExternalId

_EXAMPLE = {
    "channel": "sms",
    "purpose": "reminder",
    "variables": ["name", "amount_due", "dpd"],
    "locales": {
        "zh-CN": {"body": "{{ name }}，您本期应还{{ amount_due }}元，已逾期{{ dpd }}天。"},
        "en": {"subject": None, "body": "{{ name }}, {{ amount_due }} is {{ dpd }} days overdue."},
    },
}


class LocaleTextPublic(BaseModel):
    subject: str | None
    body: str


class VersionPublic(BaseModel):
    version: int
    created_at: datetime
    created_by: str | None


class TemplatePublic(BaseModel):
    template_id: str
    version: int
    channel: Channel
    purpose: Purpose
    variables: list[str]
    locales: dict[str, LocaleTextPublic]
    created_at: datetime
    created_by: str | None


class TemplateDetailPublic(TemplatePublic):
    versions: list[VersionPublic]


class TemplatePage(BaseModel):
    items: list[TemplatePublic]
    next_cursor: str | None


class PreviewRequest(BaseModel):
    """Sample data to render with; ``pack`` adds the opt-out line that pack requires."""

    model_config = ConfigDict(extra="forbid")

    locale: str | None = Field(default=None, max_length=16)
    variables: dict[str, Any] = Field(default_factory=dict)
    pack: str | None = Field(default=None, max_length=32)
    version: Version | None = None


class PreviewPublic(BaseModel):
    subject: str | None
    body: str
    locale: str
    template_id: str
    template_version: int
    channel: Channel
    purpose: Purpose


@router.put(
    "/{template_id}",
    response_model=TemplatePublic,
    status_code=status.HTTP_201_CREATED,
    responses={422: {"description": "Refused (every mistake and lint finding); none stored"}},
)
async def put_template(
    template_id: TemplateId,
    document: Annotated[dict[str, Any], Body(openapi_examples={"sms": {"value": _EXAMPLE}})],
    session: SessionDep,
    principal: PrincipalDep,
) -> TemplatePublic:
    """Store a new version of a template (versions are never edited)."""
    stored = await templates.upload_template(
        session, template_id, document, actor=principal.subject
    )
    return _public(stored)


@router.get("", response_model=TemplatePage)
async def list_templates(
    session: SessionDep,
    channel: Channel | None = None,
    purpose: Purpose | None = None,
    cursor: Cursor | None = None,
    limit: PageLimit = 50,
) -> TemplatePage:
    """The latest version of every template, by template id."""
    page = await templates.list_templates(
        session, cursor=cursor, limit=limit, channel=channel, purpose=purpose
    )
    return TemplatePage(items=[_public(t) for t in page.items], next_cursor=page.next_cursor)


@router.get("/{template_id}", response_model=TemplateDetailPublic)
async def get_template(template_id: TemplateId, session: SessionDep) -> TemplateDetailPublic:
    """The latest version of a template, with the list of its versions."""
    stored = await templates.latest_template(session, template_id)
    versions = [VersionPublic.model_validate(v, from_attributes=True) for v in stored.versions]
    return TemplateDetailPublic(**_public(stored).model_dump(), versions=versions)


@router.get("/{template_id}/versions/{version}", response_model=TemplatePublic)
async def get_template_version(
    template_id: TemplateId, version: Version, session: SessionDep
) -> TemplatePublic:
    """One version of a template."""
    return _public(await templates.template_version(session, template_id, version))


@router.post(
    "/{template_id}/preview",
    response_model=PreviewPublic,
    responses={422: {"description": "Missing variables, or the rendered text is refused"}},
)
async def preview_template(
    template_id: TemplateId, body: PreviewRequest, session: SessionDep
) -> PreviewPublic:
    """The message as it would be sent with these variables: masked, linted (nothing stored)."""
    rendered = await templates.preview(
        session,
        template_id,
        locale=body.locale,
        variables=body.variables,
        pack=body.pack,
        version=body.version,
    )
    return PreviewPublic.model_validate(rendered, from_attributes=True)


def _public(stored: templates.StoredTemplate) -> TemplatePublic:
    t = stored.template
    return TemplatePublic(
        template_id=t.template_id,
        version=stored.version,
        channel=Channel(t.channel),
        purpose=t.purpose,
        variables=list(t.variables),
        locales={
            name: LocaleTextPublic(subject=text.subject, body=text.body)
            for name, text in t.locales.items()
        },
        created_at=stored.created_at,
        created_by=stored.created_by,
    )
