"""Object-level access: a collector sees and acts only on their cases, a supervisor on their
team's, portfolio roles on all; everything else answers as if it did
not exist, and no route answers without the gateway's signed principal.

The portfolio: case A is alice's, B is bob's, C has no assignee but a task of alice's, D is
nobody's yet. ``lead`` supervises alice; ``other-lead`` supervises bob.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest
from pydantic import SecretStr

from collections_service.main import create_app
from collections_service.settings import CollectionsSettings
from factories import make_registration
from gateway.domain.scopes import Role
from postloan_testing.plugin import eventually
from principals import ADMIN, PRINCIPAL_SECRET, Signed, collector, make_principal, signed
from principals import supervisor as lead_of
from scoring_events import Monitoring
from shared.db import asyncpg_dsn
from shared.events import DelinquencyChanged, LoanAccepted
from shared.principal import PRINCIPAL_HEADER

from .test_cases import with_strategy

ALICE, BOB, CAROL = collector("alice"), collector("bob"), collector("carol")
LEAD = lead_of("lead", ["alice"])
OTHER_LEAD = lead_of("other-lead", ["bob"])
AUDITOR = make_principal("audrey", Role.AUDITOR)
LOANS = {"A": "alice", "B": "bob", "C": None, "D": None}


@dataclass(frozen=True)
class World:
    cases: dict[str, str]  # letter -> case_id
    task_of_c: str


def accepted(letter: str) -> LoanAccepted:
    body = make_registration(loan_id=f"L-{letter}", borrower_id=f"B-{letter}")
    return LoanAccepted.model_validate({**body, "first_due_on": "2026-02-15", "jurisdiction": "cn"})


def delinquent(letter: str) -> DelinquencyChanged:
    return DelinquencyChanged(
        loan_id=f"L-{letter}", borrower_id=f"B-{letter}", business_date=date(2026, 2, 16),
        dpd_before=0, dpd=1, bucket_before="C", bucket="M1", overdue_amount=Decimal("1066.19"),
    )  # fmt: skip


async def insert_task(database_url: str, case_id: str, assignees: list[str]) -> str:
    """A task of the case (as the strategy engine writes them), held by ``assignees``."""
    task_id = uuid.uuid4()
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await conn.execute(
            "INSERT INTO task (task_id, case_id, kind, queue, due_on, assignees, status,"
            " created_at) VALUES ($1, $2, 'agent_call', 'early', $3, $4, 'open', $5)",
            task_id, uuid.UUID(case_id), date(2026, 2, 16), assignees,
            datetime(2026, 2, 16, tzinfo=UTC),
        )  # fmt: skip
    finally:
        await conn.close()
    return str(task_id)


async def all_cases(client: httpx.AsyncClient, who: Signed, **params: str) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/cases", params=params, auth=who)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


@pytest.fixture
async def world(collections: httpx.AsyncClient, monitoring: Monitoring, database_url: str) -> World:
    await with_strategy(collections)
    await monitoring.publish(*(accepted(letter) for letter in LOANS))

    async def known() -> bool:
        found = [await collections.get(f"/api/v1/collections/loans/L-{x}") for x in LOANS]
        return all(r.status_code == 200 for r in found)

    await eventually(known)
    await monitoring.publish(*(delinquent(letter) for letter in LOANS))

    async def opened() -> bool:
        return len(await all_cases(collections, signed())) == len(LOANS)

    await eventually(opened)
    ids = {c["loan_id"][-1]: c["case_id"] for c in await all_cases(collections, signed())}
    for letter, holder in LOANS.items():
        if holder is not None:
            assigned = await collections.post(
                f"/api/v1/cases/{ids[letter]}/assign", json={"assignee": holder}
            )
            assert assigned.status_code == 200, assigned.text
    return World(ids, await insert_task(database_url, ids["C"], ["alice"]))


def letters(items: list[dict[str, Any]]) -> set[str]:
    return {item["loan_id"][-1] for item in items}


async def test_each_caller_lists_only_the_cases_they_may_see(
    collections: httpx.AsyncClient, world: World
) -> None:
    assert letters(await all_cases(collections, signed(ALICE))) == {"A", "C"}
    assert letters(await all_cases(collections, signed(BOB))) == {"B"}
    assert letters(await all_cases(collections, signed(CAROL))) == set()
    assert letters(await all_cases(collections, signed(LEAD))) == {"A", "C"}
    assert letters(await all_cases(collections, signed(OTHER_LEAD))) == {"B"}
    assert letters(await all_cases(collections, signed(AUDITOR))) == set(LOANS)


async def test_filters_never_reach_past_what_the_caller_sees(
    collections: httpx.AsyncClient, world: World
) -> None:
    assert await all_cases(collections, signed(BOB), loan_id="L-A") == []
    assert await all_cases(collections, signed(BOB), borrower_id="B-A") == []
    assert await all_cases(collections, signed(BOB), assignee="alice") == []
    page = await collections.get("/api/v1/cases", params={"limit": 1}, auth=signed(BOB))
    assert page.json()["next_cursor"] is None  # no hint that more cases exist


async def test_the_decisions_log_shows_only_the_callers_cases(
    collections: httpx.AsyncClient, world: World
) -> None:
    async def decided(who: Signed, **params: str) -> set[str]:
        found = await collections.get("/api/v1/contact-decisions", params=params, auth=who)
        assert found.status_code == 200, found.text
        return {d["loan_id"][-1] for d in found.json()["items"]}

    async def each_case_decided() -> bool:  # each case's day-0 SMS
        return await decided(signed()) == set(LOANS)

    await eventually(each_case_decided)
    assert await decided(signed(BOB)) == {"B"}
    assert await decided(signed(BOB), loan_id="L-A") == set()
    assert await decided(signed(LEAD)) == {"A", "C"}


def case_calls(world: World, letter: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    """Every call on one case (and its loan, borrower and task), with a valid body."""
    case = world.cases[letter]
    outcome = {"channel": "agent_call", "outcome": "no_answer",
               "contacted_at": "2026-02-16T02:00:00+00:00"}  # fmt: skip
    return [
        ("GET", f"/api/v1/cases/{case}", None),
        ("POST", f"/api/v1/cases/{case}/contact-attempts", {"channel": "agent_call"}),
        ("POST", f"/api/v1/cases/{case}/outcomes", outcome),
        ("POST", f"/api/v1/cases/{case}/promises", {"amount": "100.00", "due_on": "2026-03-01"}),
        ("GET", f"/api/v1/collections/loans/L-{letter}", None),
        ("POST", f"/api/v1/loans/L-{letter}/disputes", {"reason": "not mine"}),
        ("PUT", f"/api/v1/borrowers/B-{letter}/contact-preferences", {"stopped_channels": []}),
    ]


@pytest.mark.parametrize("index", range(7))
async def test_another_collectors_case_answers_as_if_it_did_not_exist(
    collections: httpx.AsyncClient, world: World, index: int
) -> None:
    method, path, body = case_calls(world, "A")[index]
    theirs = await collections.request(method, path, json=body, auth=signed(BOB))
    unknown_path = path.replace(world.cases["A"], str(uuid.uuid4())).replace("-A", "-Z")
    unknown = await collections.request(method, unknown_path, json=body, auth=signed())
    garbage = await collections.request(method, path, json={"nonsense": 1}, auth=signed(BOB))

    assert theirs.status_code == 404, theirs.text
    assert theirs.json()["title"] == unknown.json()["title"]
    assert garbage.status_code == 404  # not a 422 that would say the object is there
    mine = await collections.request(method, path, json=body, auth=signed(ALICE))
    assert mine.status_code in (200, 201), mine.text


async def test_a_refused_call_changes_nothing(collections: httpx.AsyncClient, world: World) -> None:
    path = f"/api/v1/cases/{world.cases['A']}"
    before = (await collections.get(path)).json()
    for method, call_path, body in case_calls(world, "A")[1:]:
        await collections.request(method, call_path, json=body, auth=signed(BOB))

    after = (await collections.get(path)).json()
    assert after["timeline"] == before["timeline"]
    assert after["promises"] == before["promises"] == []
    decided = await collections.get("/api/v1/contact-decisions", params={"loan_id": "L-A"})
    assert {d["channel"] for d in decided.json()["items"]} == {"sms"}  # no call was decided


async def test_a_task_of_theirs_makes_the_case_the_collectors(
    collections: httpx.AsyncClient, world: World
) -> None:
    case = world.cases["C"]
    assert (await collections.get(f"/api/v1/cases/{case}", auth=signed(ALICE))).status_code == 200
    assert (await collections.get(f"/api/v1/cases/{case}", auth=signed(BOB))).status_code == 404
    queue = await collections.get("/api/v1/work-queue", auth=signed(ALICE))
    assert [t["task_id"] for t in queue.json()["items"]] == [world.task_of_c]


async def test_a_dispute_is_resolved_only_by_who_sees_its_case(
    collections: httpx.AsyncClient, world: World
) -> None:
    opened = await collections.post("/api/v1/loans/L-A/disputes", json={"reason": "paid"})
    dispute = opened.json()["dispute_id"]
    resolve = f"/api/v1/disputes/{dispute}/resolve"

    refused = await collections.post(resolve, json={"resolution": "rejected"}, auth=signed(BOB))
    resolved = await collections.post(resolve, json={"resolution": "rejected"}, auth=signed(ALICE))

    assert refused.status_code == 404
    assert resolved.status_code == 200, resolved.text


async def test_a_supervisor_assigns_within_their_team(
    collections: httpx.AsyncClient, world: World
) -> None:
    def assign(letter: str, to: str, who: Signed) -> Any:
        path = f"/api/v1/cases/{world.cases[letter]}/assign"
        return collections.post(path, json={"assignee": to}, auth=who)

    assert (await assign("D", "alice", signed(LEAD))).status_code == 404  # nobody's: not theirs
    assert (await assign("D", "alice", signed())).status_code == 200
    assert letters(await all_cases(collections, signed(LEAD))) == {"A", "C", "D"}
    assert (await assign("D", "lead", signed(LEAD))).status_code == 200
    outside = await assign("A", "bob", signed(LEAD))
    assert outside.status_code == 422
    assert outside.json()["errors"][0]["field"] == "assignee"
    assert (await assign("A", "bob", signed(OTHER_LEAD))).status_code == 404
    assert (await assign("B", "alice", signed(ALICE))).status_code == 404
    assert (await assign("A", "alice", signed(ALICE))).status_code == 403  # no cases:assign
    task = f"/api/v1/tasks/{world.task_of_c}/assign"
    other = await collections.post(task, json={"assignees": ["bob"]}, auth=signed(OTHER_LEAD))
    assert other.status_code == 404
    mine = await collections.post(task, json={"assignees": ["lead"]}, auth=signed(LEAD))
    assert mine.status_code == 200, mine.text


async def test_work_queues_are_ones_own_or_ones_teams(
    collections: httpx.AsyncClient, world: World
) -> None:
    def queue(who: Signed, **params: str) -> Any:
        return collections.get("/api/v1/work-queue", params=params, auth=who)

    assert (await queue(signed(BOB), assignee="alice")).status_code == 403
    assert (await queue(signed(LEAD), assignee="alice")).status_code == 200
    assert (await queue(signed(LEAD), assignee="bob")).status_code == 403
    assert (await queue(signed(AUDITOR), assignee="bob")).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/api/v1/strategies/standard/versions/1/preview"),
     ("POST", "/api/v1/strategies/standard/versions/1/simulate"),
     ("GET", "/api/v1/strategies/standard/results")],
)  # fmt: skip
async def test_portfolio_wide_reads_need_a_portfolio_role(
    collections: httpx.AsyncClient, world: World, method: str, path: str
) -> None:
    body = {"from": "2026-02-16", "to": "2026-02-17"} if path.endswith("simulate") else None

    refused = await collections.request(method, path, json=body, auth=signed(LEAD))
    allowed = await collections.request(method, path, json=body, auth=signed(AUDITOR))

    assert refused.status_code == 403
    assert allowed.status_code == 200, allowed.text


def api_routes() -> list[tuple[str, str]]:
    """Every operation of the service's OpenAPI document, with its path filled in."""
    app = create_app(CollectionsSettings(principal_secret=SecretStr(PRINCIPAL_SECRET)))
    found = []
    for template, operations in app.openapi()["paths"].items():
        path = template
        for name in (
            "case_id",
            "task_id",
            "dispute_id",
            "offer_id",
            "placement_id",
            "legal_file_id",
        ):
            path = path.replace("{" + name + "}", str(uuid.uuid4()))
        for name in ("loan_id", "borrower_id", "strategy_id", "pack", "version", "agency_id"):
            path = path.replace("{" + name + "}", "1")
        assert "{" not in path, template
        found += [(method.upper(), path) for method in operations]
    return found


async def test_no_route_answers_without_a_valid_principal(
    collections: httpx.AsyncClient,
) -> None:
    forged = Signed(ADMIN, secret="another-secret-that-is-long-enough-to-sign")
    expired = Signed(ADMIN, age_s=60)
    elsewhere = {PRINCIPAL_HEADER: Signed(ADMIN).header("DELETE", "/api/v1/no-such-route")}
    routes = api_routes()
    answered = []
    for method, path in routes:
        for auth, headers in ((None, {}), (forged, {}), (expired, {}), (None, elsewhere)):
            refused = await collections.request(method, path, auth=auth, headers=headers)
            if refused.status_code != 401 or "problem+json" not in refused.headers["content-type"]:
                answered.append((method, path, refused.status_code))

    assert len(routes) >= 25  # every route of the service, not a few
    assert answered == []


async def test_development_mode_lets_an_unsigned_call_through_but_checks_a_sent_one(
    collections_settings: CollectionsSettings,
) -> None:
    from postloan_testing.servers import running

    settings = collections_settings.model_copy(update={"allow_unsigned_principal": True})
    async with running(create_app(settings)) as client:
        unsigned = await client.get("/api/v1/cases")
        forged = await client.get("/api/v1/cases", headers={PRINCIPAL_HEADER: "v1.x.y"})

    assert unsigned.status_code == 200
    assert forged.status_code == 401


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "offers", None),
        (
            "POST",
            "offers",
            {"kind": "penalty_waiver", "amount": "1.00", "expires_on": "2026-03-01"},
        ),
        ("GET", "placements", None),
        ("POST", "placements", {"agency_id": "acme", "channel": "letter", "template_id": "n"}),
        ("POST", "legal-notice", {"channel": "letter", "template_id": "final-notice"}),
        ("POST", "legal-escalation", None),
        ("GET", "legal-file", None),
    ],
)
async def test_offers_placements_and_legal_files_of_another_collectors_case_are_not_there(
    collections: httpx.AsyncClient, world: World, method: str, suffix: str, body: Any
) -> None:
    path = f"/api/v1/cases/{world.cases['A']}/{suffix}"
    theirs = await collections.request(method, path, json=body, auth=signed(BOB))
    assert theirs.status_code == 404, theirs.text
    assert theirs.json()["detail"] == f"no case with id '{world.cases['A']}'"
    mine = await collections.request(method, path, json=body, auth=signed(ALICE))
    assert mine.status_code != 404 or suffix == "legal-file", mine.text


async def test_an_offer_placement_or_legal_file_nobody_may_see_is_not_found(
    collections: httpx.AsyncClient, world: World
) -> None:
    for path in (f"/api/v1/offers/{uuid.uuid4()}", f"/api/v1/legal-files/{uuid.uuid4()}/judgment"):
        found = await collections.request("GET" if "offers" in path else "POST", path,
                                          json={}, auth=signed(ALICE))  # fmt: skip
        assert found.status_code == 404, found.text
