"""Swagger UI at ``/docs`` from files the platform serves itself: nothing from a CDN.

FastAPI's own page loads Swagger UI from jsDelivr and starts it with an inline script; banks run
air-gapped, and the gateway's page policy (``script-src 'self'``) forbids inline scripts. So
every service's page is this one: the Swagger UI files that ship in the ``fastapi-offline``
wheel, and a start-up script of our own (``docs_assets/swagger-init.js``), all under
:data:`ASSETS_URL`. ReDoc is not served: it injects inline styles, which the policy forbids.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Final

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_URL: Final = "/docs"
ASSETS_URL: Final = "/docs-assets"
#: Our own files (the start-up script), beside Swagger UI's.
OWN_ASSETS_URL: Final = f"{ASSETS_URL}/postloan"

_SWAGGER_FILES = Path(fastapi_offline.__file__).parent / "static"
_OWN_FILES = Path(__file__).parent / "docs_assets"


def docs_page(*, title: str, openapi_url: str, root: str = "", persist: bool = False) -> str:
    """The HTML of the page: links and data attributes only, no inline script or style."""
    a = f"{root}{ASSETS_URL}"
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(title)} - Swagger UI</title>
<link rel="stylesheet" href="{a}/swagger-ui.css">
<link rel="icon" href="{a}/favicon.png">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{html.escape(root + openapi_url)}"
     data-persist-authorization="{str(persist).lower()}"></div>
<script src="{a}/swagger-ui-bundle.js"></script>
<script src="{root}{OWN_ASSETS_URL}/swagger-init.js"></script>
</body>
</html>
"""


def install_docs(app: FastAPI) -> None:
    """Serve the page at :data:`DOCS_URL` and its files under :data:`ASSETS_URL`; the app
    must be made with ``docs_url=None`` and ``redoc_url=None``."""
    app.mount(OWN_ASSETS_URL, StaticFiles(directory=_OWN_FILES), name="docs-own-assets")
    app.mount(ASSETS_URL, StaticFiles(directory=_SWAGGER_FILES), name="docs-assets")

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        assert app.openapi_url is not None
        persist = bool(
            app.swagger_ui_parameters and app.swagger_ui_parameters.get("persistAuthorization")
        )
        page = docs_page(
            title=app.title,
            openapi_url=app.openapi_url,
            root=request.scope.get("root_path", ""),
            persist=persist,
        )
        return HTMLResponse(page)
