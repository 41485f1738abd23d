"""The principal the gateway forwards: signed for the one call, with the user's attributes and a
supervisor's team, and set by the gateway alone."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from gateway.domain.scopes import Role
from principals import PRINCIPAL_SECRET
from shared.principal import InvalidPrincipal, Principal, verify

Bearer = Callable[..., dict[str, str]]
PASSWORD = "correct horse battery staple"


def forwarded_principal(answer: dict[str, Any], method: str = "GET") -> Principal:
    """The principal the echo upstream received, checked as a service checks it."""
    return verify(
        answer["headers"]["x-postloan-principal"],
        secret=PRINCIPAL_SECRET,
        method=method,
        path=answer["path"],
        now=time.time(),
    )


async def test_the_upstream_gets_a_principal_signed_for_that_call_only(
    api: httpx.AsyncClient, bearer: Bearer
) -> None:
    forged = {"X-PostLoan-Principal": "v1.forged.signature"}

    answer = (
        await api.get("/api/v1/loans/L-1", headers=bearer(Role.AUDITOR, subject="aud-1") | forged)
    ).json()

    principal = forwarded_principal(answer)
    assert (principal.subject, principal.kind) == ("aud-1", "user")
    assert principal.roles == frozenset({"auditor"})
    assert "loans:read" in principal.scopes
    with pytest.raises(InvalidPrincipal):  # bound to the method and the path
        verify(answer["headers"]["x-postloan-principal"], secret=PRINCIPAL_SECRET,
               method="GET", path="/api/v1/loans/L-2", now=time.time())  # fmt: skip
    with pytest.raises(InvalidPrincipal, match="expired"):  # and good for seconds
        verify(answer["headers"]["x-postloan-principal"], secret=PRINCIPAL_SECRET,
               method="GET", path=answer["path"], now=time.time() + 31)  # fmt: skip


async def test_a_percent_encoded_path_is_signed_as_the_upstream_decodes_it(
    api: httpx.AsyncClient, bearer: Bearer
) -> None:
    answer = (await api.get("/api/v1/cases/a%20b", headers=bearer(Role.AUDITOR))).json()

    assert forwarded_principal(answer).subject == "alice"


async def make_user(
    api: httpx.AsyncClient, bearer: Bearer, name: str, roles: list[str], **attributes: Any
) -> httpx.Response:
    user = {"username": name, "password": PASSWORD, "roles": roles, **attributes}
    return await api.post("/api/v1/users", json=user, headers=bearer(Role.ADMIN))


async def token_of(api: httpx.AsyncClient, name: str) -> dict[str, str]:
    form = {"username": name, "password": PASSWORD, "grant_type": "password"}
    token = (await api.post("/api/v1/auth/token", data=form)).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


async def test_users_attributes_and_a_supervisors_team_travel_in_the_principal(
    api: httpx.AsyncClient, bearer: Bearer
) -> None:
    tag = uuid.uuid4().hex[:6]
    lead, ana, ben = f"lead-{tag}", f"ana-{tag}", f"ben-{tag}"
    assert (await make_user(api, bearer, lead, ["supervisor"])).status_code == 201
    created = await make_user(
        api, bearer, ana, ["collector"], supervisor=lead, skills=["early"],
        languages=["zh-CN", "en"], capacity=40,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    assert (await make_user(api, bearer, ben, ["collector"], supervisor=lead)).status_code == 201
    auditor = await make_user(api, bearer, f"aud-{tag}", ["auditor"], supervisor=lead)
    assert auditor.status_code == 201  # names a supervisor, yet is no collector of the team

    as_ana = (await api.get("/api/v1/cases", headers=await token_of(api, ana))).json()
    as_lead = (await api.get("/api/v1/cases", headers=await token_of(api, lead))).json()

    collector = forwarded_principal(as_ana)
    assert collector.attributes.supervisor == lead
    assert (collector.attributes.skills, collector.attributes.languages) == (
        ("early",),
        ("zh-CN", "en"),
    )
    assert (collector.attributes.capacity, collector.attributes.away) == (40, False)
    assert forwarded_principal(as_lead).team == {ana, ben}


async def test_an_admin_changes_a_users_attributes_and_the_team_follows(
    api: httpx.AsyncClient, bearer: Bearer
) -> None:
    tag = uuid.uuid4().hex[:6]
    lead, ana = f"lead-{tag}", f"ana-{tag}"
    await make_user(api, bearer, lead, ["supervisor"])
    await make_user(api, bearer, ana, ["collector"])
    admin = bearer(Role.ADMIN)

    changed = await api.patch(
        f"/api/v1/users/{ana}", json={"supervisor": lead, "away": True}, headers=admin
    )
    shown = await api.get(f"/api/v1/users/{lead}", headers=admin)
    as_lead = (await api.get("/api/v1/cases", headers=await token_of(api, lead))).json()

    assert changed.status_code == 200, changed.text
    assert (changed.json()["supervisor"], changed.json()["away"]) == (lead, True)
    assert shown.json()["team"] == [ana]
    assert forwarded_principal(as_lead).team == {ana}


async def test_a_supervisor_must_be_a_supervisor_and_nothing_changes_otherwise(
    api: httpx.AsyncClient, bearer: Bearer
) -> None:
    tag = uuid.uuid4().hex[:6]
    ana, ben = f"ana-{tag}", f"ben-{tag}"
    await make_user(api, bearer, ana, ["collector"])
    admin = bearer(Role.ADMIN)

    not_a_lead = await make_user(api, bearer, ben, ["collector"], supervisor=ana)
    emptied = await api.patch(f"/api/v1/users/{ana}", json={"skills": None}, headers=admin)
    unknown = await api.patch(f"/api/v1/users/nobody-{tag}", json={"away": True}, headers=admin)
    by_collector = await api.get(f"/api/v1/users/{ana}", headers=bearer(Role.SUPERVISOR))

    assert not_a_lead.status_code == 422
    assert not_a_lead.json()["errors"][0]["field"] == "supervisor"
    assert (await api.get(f"/api/v1/users/{ben}", headers=admin)).status_code == 404
    assert emptied.status_code == 422
    assert emptied.json()["errors"][0]["field"] == "skills"
    assert unknown.status_code == 404
    assert by_collector.status_code == 403


async def test_users_are_listed_a_page_at_a_time(api: httpx.AsyncClient, bearer: Bearer) -> None:
    admin = bearer(Role.ADMIN)

    first = (await api.get("/api/v1/users", params={"limit": 1}, headers=admin)).json()
    second = await api.get(
        "/api/v1/users", params={"limit": 1, "cursor": first["next_cursor"]}, headers=admin
    )

    assert len(first["items"]) == 1
    assert second.json()["items"][0]["username"] > first["items"][0]["username"]
