"""Routes of strategies: versioned documents, activation per product, and the preview."""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from collections_service.domain.results import Rate
from collections_service.service_layer import access, documents, preview, results, simulation
from shared.app import SessionDep
from shared.params import CalendarDate, Version
from shared.principal import PrincipalDep
from shared.problems import NotFound
from shared.types import ExternalId

router = APIRouter(prefix="/api/v1/strategies", tags=["strategies"])

EXAMPLE = {
    "name": "Consumer standard",
    "products": ["consumer-12m"],
    "segments": [
        {
            "segment": "early",
            "when": {"buckets": ["M1"]},
            "path": [{"day": 0, "action": "sms", "template_id": "reminder-soft"}],
        }
    ],
    "escalation": [{"bucket": "M3", "action": "legal_review"}],
}


def _answer(v: documents.Version) -> dict[str, Any]:
    return {
        **v.document,
        "strategy_id": v.key,
        "version": v.version,
        "active": v.active,
        "created_at": v.created_at.isoformat(),
    }


@router.put("/{strategy_id}", status_code=201)
async def put_strategy(
    strategy_id: ExternalId,
    session: SessionDep,
    document: Annotated[dict[str, Any], Body(examples=[EXAMPLE])],
) -> JSONResponse:
    """Store a new, inactive version (422 lists every mistake by path; nothing is stored)."""
    stored = await documents.upload_strategy(session, strategy_id, document)
    return JSONResponse(_answer(stored), status_code=201)


@router.get("")
async def list_strategies(session: SessionDep) -> dict[str, list[dict[str, Any]]]:
    """Every strategy's latest version, and which versions are active."""
    latest: dict[str, documents.Version] = {}
    active: dict[str, list[int]] = {}
    for v in await documents.strategies(session):
        latest[v.key] = v
        if v.active:
            active.setdefault(v.key, []).append(v.version)
    return {
        "items": [{**_answer(v), "active_versions": active.get(k, [])} for k, v in latest.items()]
    }


@router.get("/{strategy_id}")
async def get_strategy(strategy_id: ExternalId, session: SessionDep) -> dict[str, Any]:
    """The latest version, with the list of all versions."""
    versions = await documents.strategies(session, strategy_id)
    if not versions:
        raise NotFound("strategy", strategy_id)
    return {
        **_answer(versions[-1]),
        "versions": [
            {"version": v.version, "active": v.active, "created_at": v.created_at} for v in versions
        ],
    }


@router.get("/{strategy_id}/versions/{version}")
async def get_strategy_version(
    strategy_id: ExternalId, version: Version, session: SessionDep
) -> dict[str, Any]:
    return _answer(await documents.strategy_version(session, strategy_id, version))


@router.post("/{strategy_id}/versions/{version}/activate")
async def activate_strategy(
    strategy_id: ExternalId, version: Version, session: SessionDep
) -> dict[str, Any]:
    """New cases of this version's products follow it; open cases keep theirs."""
    return _answer(await documents.activate_strategy(session, strategy_id, version))


class PreviewRequest(BaseModel):
    as_of: CalendarDate | None = None  # the preview reads the cases as they stand now; echoed back


@router.post("/{strategy_id}/versions/{version}/preview")
async def preview_strategy(
    strategy_id: ExternalId,
    version: Version,
    session: SessionDep,
    principal: PrincipalDep,
    request: Annotated[PreviewRequest | None, Body()] = None,
    sample: Annotated[int, Query(ge=0, le=1000)] = 20,
) -> dict[str, Any]:
    """Which open cases this version would put in which segment and variant, counts per
    segment and a sample of loan ids in each (changes nothing; portfolio roles)."""
    access.portfolio_wide(principal)
    rows = await preview.preview(session, strategy_id, version, sample)
    as_of = request.as_of.isoformat() if request and request.as_of else None
    return {
        "strategy_id": strategy_id,
        "version": version,
        "as_of": as_of,
        "total": sum(r.count for r in rows),
        "segments": [
            {"segment": r.segment, "variant": r.variant, "count": r.count, "loans": r.loans}
            for r in rows
        ],
    }


class SimulationRequest(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")
    start: CalendarDate = Field(alias="from")
    end: CalendarDate = Field(alias="to")


@router.post("/{strategy_id}/versions/{version}/simulate")
async def simulate_strategy(
    strategy_id: ExternalId,
    version: Version,
    body: SimulationRequest,
    session: SessionDep,
    principal: PrincipalDep,
) -> dict[str, Any]:
    """What this version would have requested over the stored history, day by day, and what
    the guard would have decided of each contact (changes nothing; at most 92 days; portfolio
    roles)."""
    access.portfolio_wide(principal)
    days = await simulation.run(session, strategy_id, version, body.start, body.end)
    totals: dict[str, Counter[str]] = {
        "steps": Counter(),
        "outcomes": Counter(),
        "rules": Counter(),
    }
    for day in days:
        totals["steps"] += day.steps
        totals["outcomes"] += day.outcomes
        totals["rules"] += day.rules
    return {
        "strategy_id": strategy_id, "version": version,
        "from": body.start.isoformat(), "to": body.end.isoformat(),
        "totals": {k: dict(v) for k, v in totals.items()},
        "days": [{"date": d.on.isoformat(), "steps": dict(d.steps), "outcomes": dict(d.outcomes),
                  "rules": dict(d.rules)} for d in days],
    }  # fmt: skip


def _rate(rate: Rate) -> dict[str, Any]:
    return {"successes": rate.successes, "cases": rate.cases, "rate": rate.rate,
            "ci95": [rate.low, rate.high] if rate.rate is not None else None}  # fmt: skip


@router.get("/{strategy_id}/results")
async def strategy_results(
    strategy_id: ExternalId, session: SessionDep, principal: PrincipalDep
) -> dict[str, Any]:
    """Per version and variant: cure and roll-forward rates with 95% Wilson intervals, contacts
    per case, and each challenger's uplift in cure rate over the champion (difference, 95%
    interval, p-value; ``enough: false`` when the sample is too small to tell; portfolio
    roles)."""
    access.portfolio_wide(principal)
    arms = await results.results(session, strategy_id)
    return {"strategy_id": strategy_id, "arms": [
        {"version": a.counts.version, "variant": a.counts.variant, "cases": a.counts.cases,
         "closed": a.counts.closed, "cure_rate": _rate(a.cure),
         "roll_forward_rate": _rate(a.roll_forward),
         "contacts_per_case": a.contacts_per_case,
         "cure_uplift": None if a.cure_uplift is None else {
             "difference": a.cure_uplift.difference,
             "ci95": [a.cure_uplift.low, a.cure_uplift.high], "p_value": a.cure_uplift.p_value,
             "enough": a.cure_uplift.enough,
             "warning": None if a.cure_uplift.enough else "too small a sample to tell"}}
        for a in arms
    ]}  # fmt: skip
