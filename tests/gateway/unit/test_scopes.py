"""Roles grant scopes: least privilege for every role but admin."""

from __future__ import annotations

import pytest

from gateway.domain.principal import Principal
from gateway.domain.scopes import ROLE_SCOPES, Role, Scope, scopes_for


def test_the_admin_role_holds_every_scope() -> None:
    assert scopes_for([Role.ADMIN]) == frozenset(Scope)


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.ADMIN])
def test_only_admins_administer_users_and_run_the_end_of_day(role: Role) -> None:
    assert Scope.USERS_ADMIN not in ROLE_SCOPES[role]
    assert Scope.EOD_RUN not in ROLE_SCOPES[role]


def test_auditors_read_but_never_write_nor_see_personal_data() -> None:
    scopes = ROLE_SCOPES[Role.AUDITOR]

    assert all(s.value.endswith(":read") for s in scopes)
    assert Scope.PII_READ not in scopes


def test_ingest_clients_only_post_loans_payments_and_bureau_reports() -> None:
    expected = {Scope.LOANS_WRITE, Scope.PAYMENTS_WRITE, Scope.BUREAU_WRITE}
    assert ROLE_SCOPES[Role.INGEST] == expected


def test_a_principal_holds_the_union_of_its_roles_scopes() -> None:
    principal = Principal.with_roles("u", frozenset({Role.INGEST, Role.AUDITOR}))

    assert principal.allows(Scope.LOANS_WRITE)
    assert principal.allows(Scope.LOANS_READ)
    assert not principal.allows(Scope.CASES_WRITE)


@pytest.mark.parametrize("scope", [Scope.PRODUCTS_WRITE, Scope.LOANS_WRITE_OFF, Scope.RULES_WRITE])
def test_products_write_offs_and_rules_are_for_administrators_and_risk_analysts(
    scope: Scope,
) -> None:
    assert {role for role, scopes in ROLE_SCOPES.items() if scope in scopes} == {
        Role.ADMIN,
        Role.RISK_ANALYST,
    }


def test_collectors_work_alerts_as_well_as_risk_analysts() -> None:
    assert {role for role, scopes in ROLE_SCOPES.items() if Scope.ALERTS_WRITE in scopes} == {
        Role.ADMIN,
        Role.RISK_ANALYST,
        Role.COLLECTOR,
        Role.SUPERVISOR,
    }


@pytest.mark.parametrize(
    ("scope", "roles"),
    [
        (Scope.CASES_ASSIGN, {Role.ADMIN, Role.SUPERVISOR}),
        (Scope.OFFERS_APPROVE, {Role.ADMIN, Role.SUPERVISOR}),
        (Scope.STRATEGIES_WRITE, {Role.ADMIN, Role.RISK_ANALYST}),
        (Scope.PACKS_WRITE, {Role.ADMIN, Role.COMPLIANCE}),
    ],
)
def test_collections_scopes_go_to_the_roles_brief_decision_12_names(
    scope: Scope, roles: set[Role]
) -> None:
    assert {role for role, scopes in ROLE_SCOPES.items() if scope in scopes} == roles


def test_a_supervisor_can_do_what_a_collector_can() -> None:
    assert ROLE_SCOPES[Role.COLLECTOR] < ROLE_SCOPES[Role.SUPERVISOR]


def test_only_administrators_read_the_metrics() -> None:
    assert [role for role, scopes in ROLE_SCOPES.items() if Scope.METRICS_READ in scopes] == [
        Role.ADMIN
    ]
