"""A front-end team's first step: a TypeScript client generated from the gateway's document.

openapi-typescript (from the npm registry, ``tools/ts-client``, ``make ts-client``) turns
``/api/v1/openapi.json`` into types; ``tools/ts-client/src/main.ts`` calls the API through
openapi-fetch with them; ``tsc --strict`` must accept it, and the compiled client must get its
answers from the running platform (a loan, a 404 problem, a page of cases).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path

import httpx
import pytest

from factories import make_registration

from .conftest import admin_token

CLIENT = Path(__file__).parents[2] / "tools" / "ts-client"
MODULES = CLIENT / "node_modules"
#: CI sets it: there a client that cannot be built is a failure, not a skip.
REQUIRED = os.environ.get("POSTLOAN_REQUIRE_TOOLS") == "1"

pytestmark = pytest.mark.skipif(
    not REQUIRED and not (MODULES / ".bin" / "tsc").exists(),
    reason="tools/ts-client is not installed: run `make ts-client` (npm ci, needs Node.js)",
)


async def _run(*command: str, cwd: Path) -> str:
    process = await asyncio.create_subprocess_exec(
        *command, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await process.communicate()
    text = output.decode(errors="replace")
    assert process.returncode == 0, f"{' '.join(command)}:\n{text[-4000:]}"
    return text


async def test_the_generated_client_compiles_strictly_and_talks_to_the_platform(
    gateway_url: str, tmp_path: Path
) -> None:
    async with httpx.AsyncClient(base_url=gateway_url, timeout=30) as client:
        token = await admin_token(client)
        auth = {"Authorization": f"Bearer {token}"}
        loan = make_registration(loan_id="L-TS-1")
        assert (await client.post("/api/v1/loans", json=loan, headers=auth)).status_code == 201
        document = (await client.get("/api/v1/openapi.json", headers=auth)).content
    work = tmp_path / "client"
    shutil.copytree(CLIENT, work, ignore=shutil.ignore_patterns("node_modules", "out", "api.d.ts"))
    (work / "node_modules").symlink_to(MODULES)
    (work / "openapi.json").write_bytes(document)

    bin_ = work / "node_modules" / ".bin"
    await _run(str(bin_ / "openapi-typescript"), "openapi.json", "-o", "src/api.d.ts", cwd=work)
    await _run(str(bin_ / "tsc"), "-p", ".", cwd=work)
    printed = await _run("node", "out/main.js", gateway_url, token, "L-TS-1", cwd=work)

    answers = json.loads(printed.strip().splitlines()[-1])
    assert answers == {"loan": "L-TS-1 active", "missing": "404 loan not found", "cases": 0}


async def test_a_call_the_document_does_not_allow_is_refused_by_the_compiler(
    gateway_url: str, tmp_path: Path
) -> None:
    async with httpx.AsyncClient(base_url=gateway_url, timeout=30) as client:
        token = await admin_token(client)
        document = await client.get(
            "/api/v1/openapi.json", headers={"Authorization": f"Bearer {token}"}
        )
    work = tmp_path / "client"
    shutil.copytree(CLIENT, work, ignore=shutil.ignore_patterns("node_modules", "out", "api.d.ts"))
    (work / "node_modules").symlink_to(MODULES)
    (work / "openapi.json").write_bytes(document.content)
    main = work / "src" / "main.ts"
    main.write_text(main.read_text().replace("{ loan_id: id }", "{ loan: id }"))

    bin_ = work / "node_modules" / ".bin"
    await _run(str(bin_ / "openapi-typescript"), "openapi.json", "-o", "src/api.d.ts", cwd=work)
    compiled = await asyncio.create_subprocess_exec(
        str(bin_ / "tsc"), "-p", ".", cwd=work, stdout=asyncio.subprocess.PIPE
    )
    output, _ = await compiled.communicate()

    assert compiled.returncode != 0
    assert "loan_id" in output.decode()
