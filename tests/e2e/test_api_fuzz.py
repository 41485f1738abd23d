"""Schemathesis over the gateway's whole OpenAPI document, as an admin (issue 20).

The four services and the gateway run on real ports against embedded PostgreSQL and NATS;
schemathesis (its CLI, in its own process, so this event loop keeps serving) generates requests
for every operation of ``/api/v1/openapi.json`` — valid ones, and ones that break the schema —
and checks every answer. Nothing is excluded: a failure is fixed in the route, not here.
"""

from __future__ import annotations

import asyncio
import os
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest

from factories import make_registration

from .conftest import Edge, admin_token

OPENAPI_PATH = "/api/v1/openapi.json"
#: That every answer documents its status, content type and body (the shared Problem schema
#: for every error, shared.openapi and the gateway's merge).
CONFORMANCE_CHECKS = (
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
#: What every answer must satisfy: no 5xx, and conformance to the document.
CHECKS = ("not_a_server_error", *CONFORMANCE_CHECKS)
#: Per operation and phase; with the coverage phase's boundary cases this is ~6,000 requests.
MAX_EXAMPLES = 10
#: Fixed, so that CI is reproducible; set POSTLOAN_FUZZ_SEED to explore other inputs.
SEED = int(os.environ.get("POSTLOAN_FUZZ_SEED", "20261207"))
PHASES = "examples,coverage,fuzzing,stateful"


def _command(url: str, token: str, report: Path) -> list[str]:
    return [
        str(Path(sys.executable).with_name("st")),
        "run",
        url + OPENAPI_PATH,
        "--checks",
        ",".join(CHECKS),
        "--phases",
        PHASES,
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--workers",
        "2",
        "--header",
        f"Authorization: Bearer {token}",
        # Our token is the credential: generated API keys beside it would test only the 401.
        "--generation-with-security-parameters",
        "false",
        "--generation-database",
        "none",
        "--request-timeout",
        "30",
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
        "--no-color",
    ]


def _failures(report: Path) -> dict[str, str]:
    """Operation → the first lines of what failed there."""
    found = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        for problem in [*case.iter("failure"), *case.iter("error")]:
            text = (problem.text or problem.get("message") or "").strip()
            found[case.get("name", "?")] = "\n".join(text.splitlines()[:12])
    return found


def _tested(report: Path) -> set[str]:
    return {c.get("name", "?") for c in ET.parse(report).getroot().iter("testcase")}


def _operations(document: dict[str, object]) -> set[str]:
    paths = document["paths"]
    assert isinstance(paths, dict)
    methods = {"get", "put", "post", "delete", "patch"}
    return {f"{m.upper()} {p}" for p, item in paths.items() for m in item if m in methods}


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_no_generated_request_gets_a_server_error_on_any_operation(
    gateway_url: str, tmp_path: Path
) -> None:
    async with httpx.AsyncClient(base_url=gateway_url, timeout=30) as client:
        token = await admin_token(client)
        auth = {"Authorization": f"Bearer {token}"}
        # A loan on the platform, so that lists and reads have something to answer with.
        seeded = await client.post("/api/v1/loans", json=make_registration(), headers=auth)
        assert seeded.status_code == 201, seeded.text
        document = (await client.get(OPENAPI_PATH, headers=auth)).json()
    assert "x-postloan-unavailable-upstreams" not in document
    report = tmp_path / "schemathesis.xml"
    process = await asyncio.create_subprocess_exec(
        *_command(gateway_url, token, report),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=tmp_path,
    )
    output, _ = await process.communicate()
    log = output.decode(errors="replace")
    assert report.exists(), log[-3000:]
    failures = _failures(report)
    assert not failures, "\n\n".join(f"{op}:\n{text}" for op, text in sorted(failures.items()))
    assert process.returncode == 0, log[-3000:]
    untested = _operations(document) - _tested(report)
    assert not untested, f"operations schemathesis did not test: {sorted(untested)}"


#: Issue 20's four reproductions (500 before), and what each must name instead.
REPRODUCTIONS = [
    ("GET", "/api/v1/portfolio/roll-rates?from=0000-01&to=0000-01", None, {"from", "to"}),
    ("GET", "/api/v1/portfolio/cure-rates?from=0000-01&to=0000-01", None, {"from", "to"}),
    ("GET", "/api/v1/rules/delinquency_elsewhere/versions/387967952190", None, {"version"}),
    (
        "POST",
        "/api/v1/rules/first_payment_default/versions/"
        "481396563311946283387542043698921472/backtest",
        {"from": "2027-02-07", "to": "2027-05-07"},
        {"version"},
    ),
]
#: More inputs that reached the database before they were bounded (NUL, overflow, bad cursor).
MORE_BAD_INPUTS = [
    ("GET", "/api/v1/loans/%00", None, {"loan_id"}),
    ("GET", "/api/v1/cases?assignee=%00", None, {"assignee"}),
    ("GET", "/api/v1/suppressions?address=a%00b", None, {"address"}),
    ("GET", "/api/v1/strategies/a%00", None, {"strategy_id"}),
    ("GET", "/api/v1/scoring/models/%00", None, {"version"}),
    ("GET", "/api/v1/eod/a%00b", None, {"run_id"}),
    ("GET", "/api/v1/templates/t/versions/2911604197075", None, {"version"}),
    ("POST", "/api/v1/templates/t/preview", {"version": 3088640689}, {"version"}),
    ("GET", "/api/v1/loans?cursor=AA", None, {"cursor"}),
    ("GET", "/api/v1/alerts?cursor=" + "A" * 513, None, {"cursor"}),
    ("GET", "/api/v1/portfolio/summary?as_of=9999-12-31", None, {"as_of"}),
]


async def test_inputs_that_once_reached_a_server_error_are_422_problems_naming_the_field(
    edge: Edge,
) -> None:
    for method, url, body, fields in REPRODUCTIONS + MORE_BAD_INPUTS:
        response = await edge.client.request(method, url, json=body, headers=edge.auth)
        assert response.status_code == 422, (url, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert {e["field"] for e in response.json()["errors"]} == fields, (url, response.text)


async def test_a_user_patched_with_nothing_is_answered_as_it_is(edge: Edge) -> None:
    response = await edge.client.patch("/api/v1/users/admin", json={}, headers=edge.auth)
    assert response.status_code == 200, response.text
    assert response.json()["username"] == "admin"
    missing = await edge.client.patch("/api/v1/users/nobody", json={}, headers=edge.auth)
    assert missing.status_code == 404


def _unbounded(schema: dict[str, object], document: dict[str, object]) -> str | None:
    """Why a parameter's schema lets through what no column or date can hold, or None."""
    if "anyOf" in schema:
        branches = [b for b in schema["anyOf"] if b != {"type": "null"}]  # type: ignore[attr-defined]
        return next((r for b in branches if (r := _unbounded(b, document))), None)
    ref = schema.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        return _unbounded(document["components"]["schemas"][name], document)  # type: ignore[index]
    if "enum" in schema or "const" in schema or schema.get("type") == "boolean":
        return None
    if schema.get("type") == "integer":
        has_both = "minimum" in schema and "maximum" in schema
        return None if has_both else "an integer without minimum and maximum"
    if schema.get("type") == "array":
        if "maxItems" not in schema:
            return "an array without maxItems"
        return _unbounded(schema.get("items", {}), document)  # type: ignore[arg-type]
    if schema.get("type") != "string":
        return f"a {schema.get('type')} parameter"
    if schema.get("format") == "uuid":
        return None
    if schema.get("format") in {"date", "date-time"}:
        has_both = "formatMinimum" in schema and "formatMaximum" in schema
        return None if has_both else "a date without bounds (use shared.params.CalendarDate)"
    pattern = schema.get("pattern")
    if not isinstance(pattern, str):
        return "a string without a pattern (control characters reach the database)"
    if "maxLength" not in schema and ("*" in pattern or "+" in pattern):
        return "a string of unbounded length"
    return None


async def test_every_path_and_query_parameter_of_the_whole_api_is_bounded(edge: Edge) -> None:
    document = (await edge.client.get(OPENAPI_PATH, headers=edge.auth)).json()
    assert "x-postloan-unavailable-upstreams" not in document
    loose = [
        f"{method.upper()} {path} {param['in']} {param['name']}: {why}"
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in {"get", "put", "post", "delete", "patch"}
        for param in operation.get("parameters", [])
        if param["in"] in {"path", "query"}
        and (why := _unbounded(param.get("schema", {}), document))
    ]
    assert not loose, "\n".join(loose)
