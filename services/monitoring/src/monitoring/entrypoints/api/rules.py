"""Routes of early-warning rules: versions with parameters, enabling, back-testing."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, FastAPI, status
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from monitoring.domain.json_object import JsonObject
from monitoring.domain.rules import (
    RULES,
    FiredAlert,
    RuleDefinition,
    Severity,
    StoredRuleVersion,
    Trigger,
)
from monitoring.service_layer import rules
from monitoring.service_layer.backtest import backtest
from shared.app import Runtime, SessionDep
from shared.params import CalendarDate, Version
from shared.problems import NotFound
from shared.types import ExternalId

router = APIRouter(prefix="/api/v1/rules", tags=["rules"])

RuleName = ExternalId


class ParamPublic(BaseModel):
    name: str
    default: int
    minimum: int
    maximum: int
    description: str


class RuleVersionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    rule: str
    version: int
    params: dict[str, int]
    severity: Severity
    enabled: bool
    created_at: datetime


class RulePublic(BaseModel):
    rule: str
    description: str
    trigger: Trigger
    backtestable: bool
    default_severity: Severity
    parameters: list[ParamPublic]
    enabled_version: int | None
    versions: list[RuleVersionPublic]


class RulePage(BaseModel):
    items: list[RulePublic]
    next_cursor: str | None = None


class RuleVersionCreate(BaseModel):
    """A new version: ``params`` replace those of the latest version; others are kept."""

    model_config = ConfigDict(extra="forbid")

    params: dict[str, StrictInt] = Field(default_factory=dict)
    severity: Severity | None = None
    enabled: bool = False


class RuleCreate(RuleVersionCreate):
    rule: str = Field(max_length=64)


class BacktestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: CalendarDate = Field(alias="from")
    to: CalendarDate


class BacktestAlert(BaseModel):
    loan_id: str
    raised_on: date
    evidence: JsonObject


class BacktestPublic(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    rule: str
    version: int
    severity: Severity
    from_: date = Field(alias="from")
    to: date
    total: int
    items: list[BacktestAlert]


@router.get("", response_model=RulePage)
async def list_rules(session: SessionDep) -> RulePage:
    """Every rule with its parameters and versions."""
    stored = await rules.rule_versions(session)
    return RulePage(items=[_rule(d, stored) for d in RULES.values()])


@router.post(
    "",
    response_model=RuleVersionPublic,
    status_code=status.HTTP_201_CREATED,
    responses={404: {"description": "No rule of that name"}},
)
async def create_rule_version(body: RuleCreate, session: SessionDep) -> RuleVersionPublic:
    """Store the next version of the rule named in the body."""
    if body.rule not in RULES:
        raise NotFound("rule", body.rule)
    return await _create(session, body.rule, body)


@router.get("/{rule}", response_model=RulePublic)
async def get_rule(rule: RuleName, session: SessionDep) -> RulePublic:
    """One rule with its parameters and versions."""
    stored = await rules.rule_versions(session, rule)
    return _rule(RULES[rule], stored)


@router.post(
    "/{rule}/versions", response_model=RuleVersionPublic, status_code=status.HTTP_201_CREATED
)
async def create_version(
    rule: RuleName, body: RuleVersionCreate, session: SessionDep
) -> RuleVersionPublic:
    """Store the next version of a rule (disabled unless ``enabled`` is true)."""
    return await _create(session, rule, body)


@router.get("/{rule}/versions/{version}", response_model=RuleVersionPublic)
async def get_version(rule: RuleName, version: Version, session: SessionDep) -> RuleVersionPublic:
    """One version of a rule."""
    return RuleVersionPublic.model_validate(await rules.stored_rule_version(session, rule, version))


@router.post("/{rule}/versions/{version}/enable", response_model=RuleVersionPublic)
async def enable_version(
    rule: RuleName, version: Version, session: SessionDep
) -> RuleVersionPublic:
    """Switch a version on; the rule's other versions are switched off."""
    stored = await rules.set_rule_version_enabled(session, rule, version, enabled=True)
    return RuleVersionPublic.model_validate(stored)


@router.post("/{rule}/versions/{version}/disable", response_model=RuleVersionPublic)
async def disable_version(
    rule: RuleName, version: Version, session: SessionDep
) -> RuleVersionPublic:
    """Switch a version off (the rule stays silent until a version is enabled)."""
    stored = await rules.set_rule_version_enabled(session, rule, version, enabled=False)
    return RuleVersionPublic.model_validate(stored)


@router.post("/{rule}/versions/{version}/backtest", response_model=BacktestPublic)
async def backtest_version(
    rule: RuleName, version: Version, body: BacktestRequest, session: SessionDep
) -> BacktestPublic:
    """The alerts a version would have raised over a range of business dates (none raised)."""
    result = await backtest(session, rule, version, first=body.from_, last=body.to)
    return BacktestPublic(
        rule=rule,
        version=version,
        severity=result.version.severity,
        from_=result.first,
        to=result.last,
        total=len(result.alerts),
        items=[_backtest_alert(a) for a in result.alerts],
    )


async def seed_rules(app: FastAPI) -> None:
    """Start-up: store version 1 of every rule that has none yet."""
    rt: Runtime = app.state.runtime
    async with rt.db.unit_of_work() as session:
        await rules.seed_rules(session)


async def _create(session: SessionDep, rule: str, body: RuleVersionCreate) -> RuleVersionPublic:
    stored = await rules.create_rule_version(
        session, rule, params=dict(body.params), severity=body.severity, enabled=body.enabled
    )
    return RuleVersionPublic.model_validate(stored)


def _rule(definition: RuleDefinition, stored: list[StoredRuleVersion]) -> RulePublic:
    versions = [RuleVersionPublic.model_validate(v) for v in stored if v.rule == definition.name]
    return RulePublic(
        rule=definition.name,
        description=definition.description,
        trigger=definition.trigger,
        backtestable=definition.backtestable,
        default_severity=definition.severity,
        parameters=[ParamPublic.model_validate(p, from_attributes=True) for p in definition.params],
        enabled_version=next((v.version for v in versions if v.enabled), None),
        versions=versions,
    )


def _backtest_alert(alert: FiredAlert) -> BacktestAlert:
    return BacktestAlert(loan_id=alert.loan_id, raised_on=alert.raised_on, evidence=alert.evidence)
