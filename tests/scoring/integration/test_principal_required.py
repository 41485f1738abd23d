"""Scoring answers only the gateway's signed principal (issue 16): 401 without it, or with a
forged, expired or replayed one; health, readiness, metrics and the documents stay open; the
registry's audit names the signed caller, never the unsigned X-PostLoan-Subject."""

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
from scoring_events import Trained

MODELS = "/api/v1/scoring/models"


async def test_a_call_without_a_valid_principal_is_a_401_problem(
    scoring: httpx.AsyncClient, trained: Trained
) -> None:
    assert_all_401_problems(await refused_calls(scoring, "GET", MODELS))
    upload = await scoring.post(MODELS, json=trained.upload(trained.champion), auth=UNSIGNED)
    assert upload.status_code == 401
    assert (await scoring.get(MODELS)).json()["items"] == []  # nothing was registered


async def test_a_signed_call_passes_and_the_open_routes_need_none(
    scoring: httpx.AsyncClient,
) -> None:
    assert (await scoring.get(MODELS)).status_code == 200
    for path in OPEN_PATHS:
        assert (await scoring.get(path, auth=UNSIGNED)).status_code == 200, path


async def test_the_audit_names_the_signed_caller_not_the_subject_header(
    scoring: httpx.AsyncClient, trained: Trained
) -> None:
    registered = await scoring.post(
        MODELS,
        json=trained.upload(trained.champion),
        headers={"x-postloan-subject": "mallory"},
        auth=signed(make_principal("analyst-7")),
    )
    assert registered.status_code == 201, registered.text
    [entry] = (await scoring.get(f"{MODELS}/audit")).json()["items"]
    assert (entry["action"], entry["actor"]) == ("registered", "analyst-7")
