"""Rules as versioned data through the API: seeded defaults, new versions, one enabled."""

from __future__ import annotations

from typing import Any

import httpx
import pytest


async def rule(client: httpx.AsyncClient, name: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/rules/{name}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_every_rule_starts_with_an_enabled_version_1_of_its_defaults(
    monitoring: httpx.AsyncClient,
) -> None:
    listed = (await monitoring.get("/api/v1/rules")).json()
    assert listed["next_cursor"] is None
    assert {r["rule"] for r in listed["items"]} == {
        "shrinking_repayments",
        "partial_payment_at_due",
        "first_payment_default",
        "bureau_score_drop",
        "multi_lending",
        "delinquency_elsewhere",
        "contact_lost",
        "broken_promise",
    }
    assert all(r["enabled_version"] == 1 for r in listed["items"])
    shrinking = await rule(monitoring, "shrinking_repayments")
    assert shrinking["trigger"] == "payment"
    assert shrinking["backtestable"] is True
    assert shrinking["versions"][0]["params"] == {"payments": 3, "below_due_pct": 50}
    assert [p["name"] for p in shrinking["parameters"]] == ["payments", "below_due_pct"]


async def test_a_new_version_starts_from_the_latest_and_is_off_until_enabled(
    monitoring: httpx.AsyncClient,
) -> None:
    created = await monitoring.post(
        "/api/v1/rules/shrinking_repayments/versions", json={"params": {"payments": 4}}
    )
    assert created.status_code == 201, created.text
    v2 = created.json()
    assert (v2["version"], v2["enabled"], v2["severity"]) == (2, False, "medium")
    assert v2["params"] == {"payments": 4, "below_due_pct": 50}
    assert (await rule(monitoring, "shrinking_repayments"))["enabled_version"] == 1

    v3 = (
        await monitoring.post(
            "/api/v1/rules",
            json={"rule": "shrinking_repayments", "params": {"below_due_pct": 30}},
        )
    ).json()
    assert v3["params"] == {"payments": 4, "below_due_pct": 30}

    enabled = await monitoring.post("/api/v1/rules/shrinking_repayments/versions/2/enable")
    assert enabled.status_code == 200
    assert enabled.json()["enabled"] is True
    versions = (await rule(monitoring, "shrinking_repayments"))["versions"]
    assert [v["enabled"] for v in versions] == [False, True, False]
    one = await monitoring.get("/api/v1/rules/shrinking_repayments/versions/3")
    assert one.json() == v3


async def test_a_version_created_enabled_switches_the_others_off(
    monitoring: httpx.AsyncClient,
) -> None:
    created = await monitoring.post(
        "/api/v1/rules/bureau_score_drop/versions",
        json={"params": {"min_drop_points": 80}, "severity": "high", "enabled": True},
    )
    assert created.status_code == 201
    current = await rule(monitoring, "bureau_score_drop")
    assert current["enabled_version"] == 2
    assert [v["enabled"] for v in current["versions"]] == [False, True]
    disabled = await monitoring.post("/api/v1/rules/bureau_score_drop/versions/2/disable")
    assert disabled.json()["enabled"] is False
    assert (await rule(monitoring, "bureau_score_drop"))["enabled_version"] is None


@pytest.mark.parametrize(
    ("path", "body", "status", "field"),
    [
        ("shrinking_repayments/versions", {"params": {"payments": 1}}, 422, "params.payments"),
        ("shrinking_repayments/versions", {"params": {"payments": "3"}}, 422, "params.payments"),
        ("shrinking_repayments/versions", {"params": {"payments": 2.5}}, 422, "params.payments"),
        ("shrinking_repayments/versions", {"params": {"speed": 3}}, 422, "params.speed"),
        ("shrinking_repayments/versions", {"severity": "urgent"}, 422, "severity"),
        ("shrinking_repayments/versions", {"enabled": True, "x": 1}, 422, "x"),
        ("shrinking_repayments/versions", [], 422, "body"),
        ("no_such_rule/versions", {}, 404, None),
    ],
)
async def test_a_bad_new_version_is_a_4xx_problem_and_stores_nothing(
    monitoring: httpx.AsyncClient,
    path: str,
    body: object,
    status: int,
    field: str | None,
) -> None:
    response = await monitoring.post(f"/api/v1/rules/{path}", json=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    if field is not None:
        assert field in [e["field"] for e in response.json()["errors"]]
    listed = (await monitoring.get("/api/v1/rules")).json()["items"]
    assert all(len(r["versions"]) == 1 and r["enabled_version"] == 1 for r in listed)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/rules/no_such_rule", 404),
        ("GET", "/api/v1/rules/contact_lost/versions/2", 404),
        ("GET", "/api/v1/rules/contact_lost/versions/0", 422),
        ("POST", "/api/v1/rules/contact_lost/versions/9/enable", 404),
        ("POST", "/api/v1/rules/no_such_rule/versions/1/disable", 404),
        ("POST", "/api/v1/rules/contact_lost/versions/x/enable", 422),
    ],
)
async def test_unknown_rules_and_versions_are_4xx_problems_that_change_nothing(
    monitoring: httpx.AsyncClient, method: str, path: str, status: int
) -> None:
    response = await monitoring.request(method, path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert (await rule(monitoring, "contact_lost"))["enabled_version"] == 1


async def test_a_new_rule_posted_with_an_unknown_name_is_a_404_problem(
    monitoring: httpx.AsyncClient,
) -> None:
    response = await monitoring.post("/api/v1/rules", json={"rule": "vibes", "params": {}})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
