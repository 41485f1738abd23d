"""Monitoring answers only the gateway's signed principal (issue 16): 401 without it, or with
a forged, expired or replayed one; health, readiness, metrics and the documents stay open."""

from __future__ import annotations

import httpx

from principals import (
    OPEN_PATHS,
    UNSIGNED,
    assert_all_401_problems,
    make_principal,
    refused_calls,
    signed,
)

PATH = "/api/v1/alerts"


async def test_a_call_without_a_valid_principal_is_a_401_problem(
    monitoring: httpx.AsyncClient,
) -> None:
    assert_all_401_problems(await refused_calls(monitoring, "GET", PATH))
    missing = await monitoring.get(PATH, auth=UNSIGNED)
    assert "no trusted principal" in missing.json()["detail"]


async def test_a_signed_call_passes_and_the_open_routes_need_none(
    monitoring: httpx.AsyncClient,
) -> None:
    assert (await monitoring.get(PATH)).status_code == 200
    for path in OPEN_PATHS:
        assert (await monitoring.get(path, auth=UNSIGNED)).status_code == 200, path


async def test_the_unsigned_subject_header_is_not_who_acts(monitoring: httpx.AsyncClient) -> None:
    """A write with a forged X-PostLoan-Subject but no principal is refused outright."""
    forged = {"x-postloan-subject": "mallory"}
    refused = await monitoring.post("/api/v1/alerts/A-1/acknowledge", headers=forged, auth=UNSIGNED)
    assert refused.status_code == 401
    as_amy = await monitoring.post(
        "/api/v1/alerts/A-1/acknowledge", headers=forged, auth=signed(make_principal("amy"))
    )
    assert as_amy.status_code == 404  # checked, then looked for: no such alert
