"""Object-level access end to end: through the gateway a collector reaches only their own cases
(and their borrowers), a supervisor their team's; collections itself refuses any call that does
not carry the gateway's signed principal."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from factories import make_registration
from postloan_testing.plugin import eventually
from principals import ADMIN, Signed

from .conftest import Edge, Platform
from .test_collections_chain import STRATEGY
from .test_scoring_chain import close_day

D0, FIRST_DUE = date(2026, 1, 15), date(2026, 2, 15)
PASSWORD = "correct horse battery staple"


async def as_user(edge: Edge, name: str, roles: list[str], **attributes: Any) -> dict[str, str]:
    user = {"username": name, "password": PASSWORD, "roles": roles, **attributes}
    created = await edge.client.post("/api/v1/users", json=user, headers=edge.auth)
    assert created.status_code == 201, created.text
    form = {"username": name, "password": PASSWORD, "grant_type": "password"}
    token = (await edge.client.post("/api/v1/auth/token", data=form)).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


async def two_open_cases(platform: Platform, edge: Edge) -> dict[str, str]:
    """Loans L-ANA and L-BEN, delinquent since the close of their due date: case id by loan."""
    monitoring = platform.clients["monitoring"]
    assert (await edge.client.put("/api/v1/strategies/standard", json=STRATEGY,
                                  headers=edge.auth)).status_code == 201  # fmt: skip
    activate = "/api/v1/strategies/standard/versions/1/activate"
    assert (await edge.client.post(activate, headers=edge.auth)).status_code == 200
    for loan, borrower in (("L-ANA", "B-ANA"), ("L-BEN", "B-BEN")):
        body = make_registration(loan_id=loan, borrower_id=borrower, disbursed_on=D0.isoformat(),
                                 first_due_on=None)  # fmt: skip
        assert (await monitoring.post("/api/v1/loans", json=body)).status_code == 201

    async def known() -> bool:
        return all([await platform.has_loan("collections", x) for x in ("L-ANA", "L-BEN")])

    await eventually(known, timeout=10)
    day = D0
    while day <= FIRST_DUE:
        await close_day(monitoring, day)
        day += timedelta(days=1)

    async def opened() -> dict[str, str]:
        found = await edge.client.get("/api/v1/cases", headers=edge.auth)
        return {c["loan_id"]: c["case_id"] for c in found.json()["items"]}

    async def both() -> bool:
        return len(await opened()) == 2

    await eventually(both, timeout=30)
    return await opened()


async def test_a_collector_token_reaches_only_the_collectors_own_cases(
    platform: Platform, edge: Edge
) -> None:
    lead = await as_user(edge, "lead", ["supervisor"])
    ana = await as_user(edge, "ana", ["collector"], supervisor="lead")
    ben = await as_user(edge, "ben", ["collector"])
    cases = await two_open_cases(platform, edge)
    for loan, who in (("L-ANA", "ana"), ("L-BEN", "ben")):
        assigned = await edge.client.post(f"/api/v1/cases/{cases[loan]}/assign",
                                          json={"assignee": who}, headers=edge.auth)  # fmt: skip
        assert assigned.status_code == 200, assigned.text
    anas_case = f"/api/v1/cases/{cases['L-ANA']}"

    async def listed(token: dict[str, str]) -> set[str]:
        found = await edge.client.get("/api/v1/cases", headers=token)
        return {c["loan_id"] for c in found.json()["items"]}

    assert (await edge.client.get(anas_case, headers=ana)).status_code == 200
    assert (await edge.client.get(anas_case, headers=lead)).status_code == 200
    assert (await edge.client.get(anas_case, headers=ben)).status_code == 404
    promise = {"amount": "100.00", "due_on": "2026-03-01"}
    refused = await edge.client.post(f"{anas_case}/promises", json=promise, headers=ben)
    assert refused.status_code == 404
    assert await listed(ana) == {"L-ANA"}
    assert await listed(ben) == {"L-BEN"}
    assert await listed(lead) == {"L-ANA"}
    assert (await edge.client.get("/api/v1/borrowers/B-ANA", headers=ben)).status_code == 404
    assert (await edge.client.get("/api/v1/borrowers/B-ANA", headers=ana)).status_code == 200


@pytest.mark.parametrize(
    "auth",
    [None, Signed(ADMIN, secret="not-the-platforms-secret-but-long-enough"),
     Signed(ADMIN, age_s=120)],
    ids=["unsigned", "forged", "expired"],
)  # fmt: skip
async def test_collections_refuses_a_call_without_the_gateways_principal(
    platform: Platform, auth: httpx.Auth | None
) -> None:
    collections = platform.clients["collections"]
    plain = {"X-PostLoan-Subject": "admin", "X-PostLoan-Roles": "admin"}  # the old, unsigned way

    refused = await collections.get("/api/v1/cases", headers=plain, auth=auth)

    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
