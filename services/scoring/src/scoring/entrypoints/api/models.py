"""Routes of the model registry: register, list, promote, roll back, retire, compare, drift
and back-test. Every change is audited with the caller the gateway authenticated."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from scoring.domain.artifacts import load_model
from scoring.domain.json_object import JsonObject
from scoring.domain.labels import TargetDefinition
from scoring.domain.model import InvalidModel
from scoring.service_layer import drift, evaluation, registry
from scoring.service_layer.batch import rescore_portfolio
from scoring.service_layer.facts import business_date
from scoring.settings import ScoringSettings
from shared.app import SessionDep
from shared.params import CalendarDate, PageLimit
from shared.principal import PrincipalDep
from shared.problems import Conflict, NotFound, Problem
from shared.types import ExternalId

router = APIRouter(prefix="/api/v1/scoring", tags=["models"])

ModelStatus = Literal["challenger", "champion", "retired"]


class ModelUpload(BaseModel):
    """What ``postloan-scoring train`` writes: the served document, its training report and
    the development sample's bin counts (the reference of drift checks)."""

    document: JsonObject
    report: JsonObject = Field(default_factory=dict)
    reference: JsonObject


class ModelSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: str
    kind: str
    status: ModelStatus
    fingerprint: str
    features: list[str]
    registered_at: datetime


class ModelDetail(ModelSummary):
    document: JsonObject
    report: JsonObject


class ModelList(BaseModel):
    items: list[ModelSummary]
    next_cursor: str | None = None


class Decision(BaseModel):
    reason: str | None = Field(default=None, max_length=500)


class AuditEntry(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    action: str
    version: str
    previous_champion: str | None
    actor: str
    reason: str | None
    at: datetime


class AuditList(BaseModel):
    items: list[AuditEntry]
    next_cursor: str | None = None


class MeanPd(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    champion: float
    challenger: float


class TierMigration(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    champion_tier: str
    challenger_tier: str
    count: int


class Comparison(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    champion: str
    challenger: str
    loans: int
    mean_pd: MeanPd
    mean_abs_score_difference: float
    same_tier_share: float
    tier_migration: list[TierMigration]


class PsiBinPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    lower: float | None  # null: open-ended (or the missing values' bin)
    upper: float | None
    missing: bool
    expected_count: int
    actual_count: int
    expected_share: float
    actual_share: float
    contribution: float


class PsiPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    total: float
    status: Literal["stable", "warn", "act"]
    bins: list[PsiBinPublic]


class DriftResult(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    model_version: str
    population: int
    status: Literal["stable", "warn", "act"]
    score_psi: PsiPublic
    characteristics: dict[str, PsiPublic]


class DriftReport(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    model_version: str
    as_of: date
    status: Literal["stable", "warn", "act"]
    result: DriftResult
    computed_at: datetime


class BacktestTarget(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    dpd_threshold: int
    horizon_months: int


class Backtest(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    model_version: str
    observed_on: date
    outcomes_until: date
    target: BacktestTarget
    loans: int
    bads: int
    auc: float | None
    ks: float | None
    note: str | None = None


@router.post("/models", response_model=ModelDetail, status_code=status.HTTP_201_CREATED)
async def register_model(
    body: ModelUpload, session: SessionDep, response: Response, principal: PrincipalDep
) -> ModelDetail:
    """Register a model as a challenger (it starts scoring in shadow at once). The same upload
    again is 200; another document under an existing version is 409; a document that cannot be
    served is 422 with what is wrong."""
    try:
        done = await registry.register(
            session, body.document, body.report, body.reference, actor=principal.subject
        )
    except InvalidModel as exc:
        raise Problem(422, "Invalid model", str(exc)) from None
    if done.created:
        await rescore_portfolio(session, f"registered {done.model.version}", new_champion=False)
    else:
        response.status_code = status.HTTP_200_OK
    return ModelDetail.model_validate(done.model)


@router.get("/models", response_model=ModelList)
async def list_models(session: SessionDep) -> ModelList:
    """Every registered model, newest first."""
    rows = await registry.list_models(session)
    return ModelList(items=[ModelSummary.model_validate(r) for r in rows])


@router.get("/models/audit", response_model=AuditList)
async def audit(session: SessionDep, limit: PageLimit = 100) -> AuditList:
    """The registry's audit trail, newest first."""
    rows = await registry.audit_trail(session, limit)
    return AuditList(items=[AuditEntry.model_validate(r) for r in rows])


@router.post(
    "/models/rollback",
    response_model=ModelDetail,
    responses={409: {"description": "No promotion to roll back"}},
)
async def rollback(
    session: SessionDep, principal: PrincipalDep, body: Decision | None = None
) -> ModelDetail:
    """Bring back the champion that the last promotion replaced (takes effect at once)."""
    model = await registry.rollback(session, actor=principal.subject, reason=_reason(body))
    await rescore_portfolio(session, f"rolled back to {model.version}", new_champion=True)
    return ModelDetail.model_validate(model)


@router.get("/models/{version}", response_model=ModelDetail)
async def get_model(version: ExternalId, session: SessionDep) -> ModelDetail:
    """A model with its document and training report."""
    found = await registry.get_model(session, version)
    if found is None:
        raise NotFound("model", version)
    return ModelDetail.model_validate(found)


@router.post("/models/{version}/promote", response_model=ModelDetail)
async def promote(
    version: ExternalId,
    session: SessionDep,
    principal: PrincipalDep,
    body: Decision | None = None,
) -> ModelDetail:
    """Make a model the champion; the previous champion retires. Takes effect on the next
    event or batch, without a restart."""
    model = await registry.promote(session, version, actor=principal.subject, reason=_reason(body))
    await rescore_portfolio(session, f"promoted {version}", new_champion=True)
    return ModelDetail.model_validate(model)


@router.post("/models/{version}/retire", response_model=ModelDetail)
async def retire(
    version: ExternalId,
    session: SessionDep,
    principal: PrincipalDep,
    body: Decision | None = None,
) -> ModelDetail:
    """Stop a challenger's shadow scoring."""
    model = await registry.retire(session, version, actor=principal.subject, reason=_reason(body))
    return ModelDetail.model_validate(model)


@router.get(
    "/models/{version}/comparison",
    response_model=Comparison,
    responses={409: {"description": "There is no champion to compare with"}},
)
async def comparison(version: ExternalId, session: SessionDep) -> Comparison:
    """This model against the champion on the same open loans."""
    champion = await registry.champion_version(session)
    if champion is None:
        raise Conflict("there is no champion to compare with")
    if await registry.get_model(session, version) is None:
        raise NotFound("model", version)
    return Comparison.model_validate(await evaluation.compare(session, champion, version))


@router.get("/models/{version}/drift", response_model=DriftReport)
async def latest_drift(version: ExternalId, session: SessionDep) -> DriftReport:
    """The latest population-stability report of a model (score PSI and CSI per feature)."""
    found = await drift.latest_report(session, version)
    if found is None:
        raise NotFound("drift report of model", version)
    return DriftReport.model_validate(found)


@router.post(
    "/models/{version}/drift", response_model=DriftReport, status_code=status.HTTP_201_CREATED
)
async def check_drift(version: ExternalId, session: SessionDep, request: Request) -> DriftReport:
    """Check a model's drift now on the loans it scores (also done after each batch)."""
    stored = await registry.get_model(session, version)
    if stored is None:
        raise NotFound("model", version)
    settings = request.app.state.settings
    assert isinstance(settings, ScoringSettings)
    today = await business_date(session)
    if today is None:
        raise Conflict("no business date is known yet")
    report = await drift.check_model(
        session,
        load_model(stored.document),
        today,
        warn=settings.drift_warn,
        act=settings.drift_act,
    )
    if report is None:
        raise Conflict(f"model {version} scores no open loan yet")
    return DriftReport.model_validate(report)


@router.get("/models/{version}/backtest", response_model=Backtest)
async def backtest(
    version: ExternalId,
    session: SessionDep,
    observed_on: CalendarDate,
    dpd_threshold: Annotated[int, Query(ge=1, le=720)] = 60,
    horizon_months: Annotated[int, Query(ge=1, le=36)] = 6,
) -> Backtest:
    """AUC and KS of the scores a model gave on ``observed_on`` against the outcomes since."""
    target = TargetDefinition(dpd_threshold=dpd_threshold, horizon_months=horizon_months)
    return Backtest.model_validate(await evaluation.backtest(session, version, observed_on, target))


def _reason(body: Decision | None) -> str | None:
    return body.reason if body is not None else None
