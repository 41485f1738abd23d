"""``/api/v1/openapi.json``: the whole API in one document (Swagger UI at ``/docs``)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse

from gateway.runtime import Gateway

OPENAPI_URL = "/api/v1/openapi.json"


async def openapi_document(request: Request, gw: Gateway) -> JSONResponse:
    """The gateway's routes and every upstream's routed ones, merged.

    Served by :class:`~gateway.entrypoints.api.guard.GuardMiddleware` once the caller is
    known: FastAPI's own route at ``OPENAPI_URL`` would give the gateway's routes only.
    """
    return JSONResponse(await gw.openapi.document(request.app.openapi()))
