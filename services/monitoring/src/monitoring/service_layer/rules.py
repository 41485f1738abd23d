"""Use cases of early-warning rules (预警规则): their stored versions, parameters and switches.

A rule is defined in ``domain/rules.py``; what it fires is an alert (``rule_evaluation.py``
raises them, ``alerts.py`` is their workflow). Versions are never edited: a change of
parameters or severity is the next version, and at most one version of a rule is enabled.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from monitoring.adapters import rules_sql
from monitoring.domain import rules
from monitoring.domain.rules import RULES, RuleVersion, StoredRuleVersion, Trigger
from shared.problems import NotFound, Problem


def rules_for(trigger: Trigger) -> list[str]:
    return [name for name, definition in RULES.items() if definition.trigger is trigger]


async def seed_rules(session: AsyncSession) -> None:
    """Store version 1 of every rule (defaults, enabled) where it is missing."""
    await rules_sql.seed_rules(session, RULES.values())


def definition_of(rule: str) -> rules.RuleDefinition:
    definition = RULES.get(rule)
    if definition is None:
        raise NotFound("rule", rule)
    return definition


async def rule_versions(session: AsyncSession, rule: str | None = None) -> list[StoredRuleVersion]:
    """Stored versions of one rule (404 for an unknown rule) or of all of them."""
    if rule is not None:
        definition_of(rule)
    return await rules_sql.versions(session, rule)


async def create_rule_version(
    session: AsyncSession,
    rule: str,
    *,
    params: Mapping[str, object],
    severity: rules.Severity | None,
    enabled: bool,
) -> StoredRuleVersion:
    """Store the next version of a rule: ``params`` over the latest version's parameters."""
    definition = definition_of(rule)
    existing = await rules_sql.lock_versions(session, rule)
    latest = existing[-1] if existing else None
    try:
        merged = rules.parse_params(definition, params, latest.params if latest else {})
    except rules.InvalidParams as exc:
        raise Problem(
            422,
            "Invalid rule parameters",
            str(exc),
            errors=[{"field": f, "message": m} for f, m in exc.errors],
        ) from None
    version = RuleVersion(
        rule=rule,
        version=latest.version + 1 if latest else 1,
        params=merged,
        severity=severity or (latest.severity if latest else definition.severity),
        enabled=False,
    )
    await rules_sql.insert_version(session, version)
    if enabled:
        await rules_sql.enable_only(session, rule, version.version)
    return await _stored(session, rule, version.version)


async def set_rule_version_enabled(
    session: AsyncSession, rule: str, version: int, *, enabled: bool
) -> StoredRuleVersion:
    """Enable a version (every other version of the rule is disabled), or disable it."""
    definition_of(rule)
    existing = await rules_sql.lock_versions(session, rule)
    target = next((v for v in existing if v.version == version), None)
    if target is None:
        raise NotFound("rule version", f"{rule}/{version}")
    if enabled:
        await rules_sql.enable_only(session, rule, version)
    elif target.enabled:
        await rules_sql.enable_only(session, rule, None)
    return await _stored(session, rule, version)


async def get_rule_version(session: AsyncSession, rule: str, version: int) -> RuleVersion:
    definition_of(rule)
    found = await rules_sql.get_version(session, rule, version)
    if found is None:
        raise NotFound("rule version", f"{rule}/{version}")
    return found


async def stored_rule_version(session: AsyncSession, rule: str, version: int) -> StoredRuleVersion:
    """One stored version with its creation time (404 when the rule or version is unknown)."""
    await get_rule_version(session, rule, version)
    return await _stored(session, rule, version)


async def _stored(session: AsyncSession, rule: str, version: int) -> StoredRuleVersion:
    return next(v for v in await rules_sql.versions(session, rule) if v.version == version)
