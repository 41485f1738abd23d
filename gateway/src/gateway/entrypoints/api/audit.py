"""``/api/v1/audit``: the audit log, for auditors; and the verification of its chain."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from gateway.domain.audit import Anchor, Entry, Reason, parse_anchor
from gateway.domain.principal import Principal
from gateway.domain.scopes import Scope
from gateway.entrypoints.api.deps import GatewayDep, require
from gateway.service_layer.audit import AuditFilter, find_entries, verify_log
from shared.pagination import decode_cursor, encode_cursor
from shared.params import Cursor, Instant, PageLimit
from shared.problems import Problem

router = APIRouter(tags=["audit"])
Auditor = Annotated[Principal, Depends(require(Scope.AUDIT_READ))]


class AuditEntryPublic(BaseModel):
    sequence: int
    recorded_at: datetime
    subject: str | None = Field(description="who called; null when no credential was valid")
    roles: list[str]
    principal_kind: str | None = Field(description="user or api_key (subject: the key's name)")
    method: str
    route: str = Field(description="the path's template, e.g. /api/v1/cases/{id}/assign")
    path: str
    resource_ids: list[str]
    client: str | None = Field(description="the client's address")
    status: int = Field(description="the status the client was answered")
    request_id: str = Field(description="X-Request-Id, forwarded to the service that acted")
    trace_id: str | None = Field(description="the trace, also on the events the call caused")
    prev_hash: str
    hash: str


class AuditPage(BaseModel):
    items: list[AuditEntryPublic]
    next_cursor: str | None


class HeadPublic(BaseModel):
    sequence: int
    hash: str


class BreakPublic(BaseModel):
    sequence: int = Field(description="the first entry where the chain does not hold")
    reason: Reason
    detail: str


class VerdictPublic(BaseModel):
    ok: bool
    checked: int = Field(description="entries checked")
    head: HeadPublic = Field(description="the head verified up to")
    broken: BreakPublic | None


def _public(entry: Entry) -> AuditEntryPublic:
    r = entry.record
    return AuditEntryPublic(
        sequence=entry.sequence,
        recorded_at=r.recorded_at,
        subject=r.subject,
        roles=list(r.roles),
        principal_kind=r.principal_kind,
        method=r.method,
        route=r.route,
        path=r.path,
        resource_ids=list(r.resource_ids),
        client=r.client,
        status=r.status,
        request_id=r.request_id,
        trace_id=r.trace_id,
        prev_hash=entry.prev_hash,
        hash=entry.hash,
    )


def _before(cursor: str | None) -> int | None:
    key = decode_cursor(cursor)
    if key is None:
        return None
    if not key.isdigit():
        raise Problem(400, "Invalid cursor", "pass back the next_cursor of a previous page")
    return int(key)


#: A filter's text: bounded, no control characters (a route template may be long).
Text = Annotated[str | None, Query(min_length=1, max_length=2000, pattern=r"^[^\x00-\x1f\x7f]+$")]
#: An exported head, ``SEQUENCE:HASH`` or one JSON line of a head file.
AnchorText = Annotated[str, Field(min_length=1, max_length=1000, pattern=r"^[^\x00-\x1f\x7f]+$")]


@router.get("/api/v1/audit", response_model=AuditPage)
async def audit_log(
    gw: GatewayDep,
    _auditor: Auditor,
    subject: Text = None,
    method: Annotated[str | None, Query(pattern=r"^[A-Z]{3,7}$")] = None,
    route: Text = None,
    resource_id: Text = None,
    status: Annotated[int | None, Query(ge=100, le=599)] = None,
    request_id: Text = None,
    since: Annotated[Instant | None, Query(alias="from")] = None,
    until: Annotated[Instant | None, Query(alias="to")] = None,
    cursor: Cursor | None = None,
    limit: PageLimit = 100,
) -> AuditPage:
    """Audit entries, newest first; ``from`` inclusive, ``to`` exclusive (pass ``next_cursor``
    back for the next page)."""
    wanted = AuditFilter(subject, method, route, resource_id, status, request_id, since, until)
    found = await find_entries(gw.db, wanted, before=_before(cursor), limit=limit + 1)
    page = found[:limit]
    more = len(found) > limit
    next_cursor = encode_cursor(str(page[-1].sequence)) if more else None
    return AuditPage(items=[_public(e) for e in page], next_cursor=next_cursor)


def _anchors(given: list[str]) -> list[Anchor]:
    anchors, errors = [], []
    for n, text in enumerate(given):
        try:
            anchors.append(parse_anchor(text))
        except ValueError as exc:
            errors.append({"field": f"anchor[{n}]", "message": str(exc)})
    if errors:
        raise Problem(422, "Invalid request", "anchors are SEQUENCE:HASH", errors=errors)
    return anchors


@router.get("/api/v1/audit/verify", response_model=VerdictPublic)
async def verify(
    gw: GatewayDep,
    _auditor: Auditor,
    anchor: Annotated[list[AnchorText] | None, Query(max_length=100)] = None,
) -> VerdictPublic:
    """Walk the chain: ``ok``, or the first entry where it breaks and why; each ``anchor``
    (``SEQUENCE:HASH``, an exported head) must still hold."""
    verdict = await verify_log(gw.db, _anchors(anchor or []))
    broken = verdict.broken
    return VerdictPublic(
        ok=verdict.ok,
        checked=verdict.checked,
        head=HeadPublic(sequence=verdict.head.sequence, hash=verdict.head.hash),
        broken=BreakPublic(sequence=broken.sequence, reason=broken.reason, detail=broken.detail)
        if broken
        else None,
    )
