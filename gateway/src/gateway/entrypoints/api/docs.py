"""``/api/v1/openapi.json``: the whole API in one document (Swagger UI at ``/docs``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from gateway.entrypoints.api.deps import GatewayDep

OPENAPI_URL = "/api/v1/openapi.json"

router = APIRouter(include_in_schema=False)


@router.get(OPENAPI_URL)
async def openapi_document(request: Request, gw: GatewayDep) -> JSONResponse:
    """The gateway's routes and every upstream's routed ones, merged."""
    return JSONResponse(await gw.openapi.document(request.app.openapi()))
