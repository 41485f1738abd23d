"""The borrower 360° view: a borrower's loans, bureau history and contact channels in one read.

The three reads go out together. An upstream that fails leaves its part empty (``null``) and
is named in ``sources``, so a screen still shows what the others know; only when every part
failed is the whole read a failure. A caller who sees only their own cases (a collector, a
supervisor) sees only the borrowers of those cases: collections is asked first, and any other
borrower is answered 404, as if unknown.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import quote, unquote, urlencode

from gateway.adapters.upstream import UpstreamError
from gateway.domain.forwarding import HeaderList
from gateway.domain.masking import Json, mask_object
from gateway.domain.routing import Upstream
from gateway.service_layer.proxy import Forward, Proxy
from shared.problems import NotFound, Problem

#: The identity headers of one call, signed for its method and (decoded) path.
IdentityOf = Callable[[str, str], Awaitable[HeaderList]]

#: More loans than one borrower has; the newest bureau reports, enough for a trend.
LOANS_LIMIT = 500
BUREAU_REPORTS_LIMIT = 50


class SourceStatus(StrEnum):
    OK = "ok"
    NOT_FOUND = "not_found"  # the upstream does not know the borrower
    FAILED = "failed"


@dataclass(frozen=True)
class Part:
    """One read of the view: where it comes from, and what a 404 means."""

    name: str
    upstream: Upstream
    target: str
    #: The field of the answer that is the part (``None``: the whole answer).
    field: str | None
    #: Whether a 404 means that the upstream does not know the borrower (else it is a failure).
    missing_ok: bool
    #: The part when the upstream does not know the borrower.
    empty: Json


@dataclass(frozen=True)
class Fetched:
    status: SourceStatus
    data: Json
    detail: str | None = None


M, N = Upstream.MONITORING, Upstream.NOTIFY


def parts_of(borrower_id: str) -> list[Part]:
    borrower = quote(borrower_id, safe="")
    loans_query = urlencode({"borrower_id": borrower_id, "limit": LOANS_LIMIT})
    bureau_reports = f"/api/v1/borrowers/{borrower}/bureau-reports?limit={BUREAU_REPORTS_LIMIT}"
    return [
        Part("contact", N, f"/api/v1/notify/recipients/{borrower}", None, True, None),
        Part("loans", M, f"/api/v1/loans?{loans_query}", "items", False, []),
        Part("bureau_reports", M, bureau_reports, "items", True, []),
    ]


def _path(target: str) -> str:
    return unquote(target.partition("?")[0])


async def _fetch(proxy: Proxy, part: Part, headers: HeaderList, identity: IdentityOf) -> Fetched:
    signed = [*await identity("GET", _path(part.target)), *headers]
    try:
        response = await proxy.forward(Forward(part.upstream, "GET", part.target, signed, None))
    except UpstreamError as exc:
        return Fetched(SourceStatus.FAILED, None, f"{exc.upstream}: {exc.reason}")
    if response.status == 404 and part.missing_ok:
        return Fetched(SourceStatus.NOT_FOUND, part.empty)
    if response.status != 200:
        return Fetched(SourceStatus.FAILED, None, f"{part.upstream} answered {response.status}")
    try:
        body = json.loads(response.body)
        data: Json = body if part.field is None else body[part.field]
    except (ValueError, KeyError, TypeError):
        return Fetched(SourceStatus.FAILED, None, f"{part.upstream} answered malformed JSON")
    return Fetched(SourceStatus.OK, data)


def _found_nothing(fetched: dict[str, Fetched]) -> bool:
    return all(f.status is not SourceStatus.FAILED and not f.data for f in fetched.values())


async def has_visible_case(
    proxy: Proxy, borrower_id: str, headers: HeaderList, identity: IdentityOf
) -> bool:
    """Whether collections shows the caller a case of this borrower (its own access rule)."""
    target = "/api/v1/cases?" + urlencode({"borrower_id": borrower_id, "limit": 1})
    signed = [*await identity("GET", "/api/v1/cases"), *headers]
    try:
        response = await proxy.forward(Forward(Upstream.COLLECTIONS, "GET", target, signed, None))
        items = json.loads(response.body)["items"] if response.status == 200 else None
    except (UpstreamError, ValueError, KeyError, TypeError):
        items = None
    if not isinstance(items, list):
        raise Problem(502, "Bad gateway", "collections could not say which cases are yours")
    return bool(items)


async def borrower_view(
    proxy: Proxy,
    borrower_id: str,
    *,
    headers: HeaderList,
    identity: IdentityOf,
    unmasked: bool,
    own_cases_only: bool = False,
) -> dict[str, Any]:
    """The 360° document; personal data masked unless ``unmasked``.

    ``headers`` go with each read (the request id ...), with ``identity``'s for its path.
    Raises a 404 problem when no upstream knows the borrower — or, with ``own_cases_only``,
    when collections shows the caller no case of theirs — and a 502 when none could be asked.
    """
    if own_cases_only and not await has_visible_case(proxy, borrower_id, headers, identity):
        raise NotFound("borrower", borrower_id)
    parts = parts_of(borrower_id)
    results = await asyncio.gather(*(_fetch(proxy, p, headers, identity) for p in parts))
    fetched = {p.name: f for p, f in zip(parts, results, strict=True)}
    if all(f.status is SourceStatus.FAILED for f in results):
        details = "; ".join(f.detail or "" for f in results)
        raise Problem(502, "Bad gateway", f"no source of the borrower view answered: {details}")
    if _found_nothing(fetched):
        raise NotFound("borrower", borrower_id)
    sources = {
        p.name: {"service": p.upstream.value, "status": f.status.value}
        | ({"detail": f.detail} if f.detail else {})
        for p, f in zip(parts, results, strict=True)
    }
    view: dict[str, Json] = {"borrower_id": borrower_id}
    view |= {name: f.data for name, f in fetched.items()}
    return (view if unmasked else mask_object(view)) | {"sources": sources}
