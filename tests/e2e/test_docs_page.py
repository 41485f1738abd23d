"""The gateway's ``/docs`` in a real browser (Debian's Chromium driven by Playwright): Swagger UI
renders the merged document of every service, loads nothing from outside the gateway, and runs
under the page's Content-Security-Policy without a single violation."""

from __future__ import annotations

import os
import shutil

import httpx
import pytest
from playwright.async_api import ConsoleMessage, async_playwright

from .conftest import ADMIN_PASSWORD

#: Debian's package (``make chromium``); Playwright's own browser download is never used.
CHROMIUM = os.environ.get("POSTLOAN_CHROMIUM", "/usr/bin/chromium")
#: CI sets it: there a missing browser is a failure, not a skip.
REQUIRED = os.environ.get("POSTLOAN_REQUIRE_TOOLS") == "1"
#: Chromium's own traffic (updates, sync, field trials) stays off: only the page's requests.
QUIET = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(
    not REQUIRED and shutil.which(CHROMIUM) is None,
    reason=f"no Chromium at {CHROMIUM}: run `make chromium` (Debian's package)",
)


async def test_swagger_ui_renders_every_service_from_the_gateway_alone(gateway_url: str) -> None:
    requested: list[str] = []
    complaints: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type in {"error", "warning"}:
            complaints.append(message.text)

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=QUIET)
        context = await browser.new_context(
            http_credentials={"username": "admin", "password": ADMIN_PASSWORD}
        )
        page = await context.new_page()
        page.on("request", lambda request: requested.append(request.url))
        page.on("console", on_console)
        page.on("pageerror", lambda error: complaints.append(str(error)))
        await page.goto(f"{gateway_url}/docs")
        operations = page.locator(".opblock-summary-path")
        await operations.first.wait_for(timeout=30_000)
        paths = set(await operations.all_inner_texts())
        title = await page.locator(".title").first.inner_text()
        await browser.close()

    assert "PostLoan API" in title
    # One operation of each service and one of the gateway's own, from the merged document.
    for path in (
        "/api/v1/loans",
        "/api/v1/scoring/models",
        "/api/v1/cases",
        "/api/v1/messages",
        "/api/v1/audit",
    ):
        assert any(shown.replace("\u200b", "") == path for shown in paths), path
    outside = [url for url in requested if not url.startswith(gateway_url)]
    assert not outside, outside
    assert f"{gateway_url}/docs-assets/swagger-ui-bundle.js" in requested
    assert not complaints, complaints  # a CSP violation is reported on the console


async def test_the_page_has_no_inline_script_or_style_and_its_files_are_public(
    gateway_url: str,
) -> None:
    async with httpx.AsyncClient(base_url=gateway_url) as client:
        page = await client.get("/docs", auth=("admin", ADMIN_PASSWORD))
        unsigned = await client.get("/docs")
        files = [
            await client.get(f"/docs-assets/{name}")
            for name in ("swagger-ui-bundle.js", "swagger-ui.css", "postloan/swagger-init.js")
        ]

    assert (page.status_code, unsigned.status_code) == (200, 401)
    for inline in ("<script>", "<style", "style=", "https://", "cdn"):
        assert inline not in page.text.lower(), inline
    assert [f.status_code for f in files] == [200, 200, 200]
    assert "validatorUrl: null" in files[2].text  # no call to validator.swagger.io
