"""The audit log's recorder: an ASGI middleware around the proxy and the gateway's own routes.

It decides when the answer starts, once the caller is known (the proxy and the routes leave
their principal in the request's state) and the status is final. A recorded call's answer
waits until its entry is committed: a client never holds the answer of a call the log does
not hold. Should the entry fail to commit, the client gets a 503 problem instead of the
answer — the call itself may have taken effect upstream, which the detail says — and the
failure is logged. Calls the policy does not record cost one prefix check.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from opentelemetry import trace
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.domain.audit import Record
from gateway.domain.audit_policy import API_ROOT, describe_path, is_recorded
from gateway.domain.principal import Principal
from gateway.runtime import Gateway
from shared.problems import problem_response

log = logging.getLogger(__name__)

#: FastAPI's catch-all for unknown API paths: its template says nothing, the path does.
_CATCH_ALL = "{path:path}"


def principal_of(scope: Scope) -> Principal | None:
    principal: Principal | None = scope.get("state", {}).get("principal")
    return principal


def _route(scope: Scope) -> tuple[str, tuple[str, ...]]:
    template: str | None = getattr(scope.get("route"), "path", None)
    if template is None or _CATCH_ALL in template:
        return describe_path(scope["path"])
    return template, tuple(str(v) for v in scope.get("path_params", {}).values())


def _trace_id() -> str | None:
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


def record_of(scope: Scope, status: int, principal: Principal | None) -> Record:
    route, ids = _route(scope)
    client = scope.get("client")
    return Record(
        recorded_at=datetime.now(UTC),
        subject=principal.subject if principal else None,
        roles=tuple(sorted(principal.roles)) if principal else (),
        principal_kind=principal.kind.value if principal else None,
        method=scope["method"],
        route=route,
        path=scope["path"],
        resource_ids=ids,
        client=client[0] if client else None,
        status=status,
        request_id=scope.get("state", {}).get("request_id", ""),
        trace_id=_trace_id(),
    )


def _recorded(scope: Scope, principal: Principal | None) -> bool:
    raw: bytes = scope.get("query_string", b"")
    query = dict(parse_qsl(raw.decode("latin-1"))) if raw else {}
    subject = principal.subject if principal else None
    return is_recorded(scope["method"], scope["path"], query, subject)


class AuditMiddleware:
    """Records the calls the audit policy names, before their answer leaves."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(API_ROOT):
            await self.app(scope, receive, send)
            return
        gw: Gateway = scope["app"].state.gateway
        if gw.audit is None:
            await self.app(scope, receive, send)
            return
        started = replaced = False

        async def recording_send(message: Message) -> None:
            nonlocal started, replaced
            if message["type"] == "http.response.start":
                started = True
                replaced = not await _record(gw, scope, message["status"])
                if replaced:
                    await _unavailable(scope, send)
            if not replaced:
                await send(message)

        try:
            await self.app(scope, receive, recording_send)
        except Exception:
            if not started:  # the server answers 500: the log says so
                await _record(gw, scope, 500)
            raise


async def _record(gw: Gateway, scope: Scope, status: int) -> bool:
    """False when the entry could not be committed."""
    principal = principal_of(scope)
    if gw.audit is None or not _recorded(scope, principal):
        return True
    record = record_of(scope, status, principal)
    try:
        await gw.audit.record(record)
    except Exception:
        log.exception("audit entry lost: %s %s -> %s", record.method, record.route, status)
        return False
    return True


async def _unavailable(scope: Scope, send: Send) -> None:
    detail = (
        "the audit log could not record this call, so its answer is withheld; the call may "
        "have taken effect: look it up by its X-Request-Id before repeating it"
    )
    response = problem_response(503, "Audit log unavailable", detail, instance=scope["path"])

    async def no_input() -> Message:
        return {"type": "http.disconnect"}

    await response(scope, no_input, send)
