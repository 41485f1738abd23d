"""An IdP's claims read as PostLoan reads them: roles through the mapping, subject, lifetime."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.domain.external_claims import (
    ClaimError,
    RoleMapping,
    check_lifetime,
    roles_of,
    subject_of,
)
from gateway.domain.scopes import Role

KEYCLOAK = RoleMapping.parse(
    "realm_access.roles", {"pl-collector": Role.COLLECTOR, "pl-supervisor": Role.SUPERVISOR}
)
NOW = 1_800_000_000.0


def test_roles_are_read_from_a_nested_claim_through_the_mapping() -> None:
    claims = {"realm_access": {"roles": ["pl-collector", "pl-supervisor", "offline_access"]}}

    assert roles_of(claims, KEYCLOAK) == frozenset({Role.COLLECTOR, Role.SUPERVISOR})


def test_role_names_outside_the_mapping_grant_nothing_even_when_they_name_a_postloan_role() -> None:
    claims = {"realm_access": {"roles": ["admin", "uma_authorization"]}}

    assert roles_of(claims, KEYCLOAK) == frozenset()


@pytest.mark.parametrize(
    "claims",
    [{}, {"realm_access": None}, {"realm_access": "x"}, {"realm_access": {}}],
    ids=["no claim", "null", "path ends early", "no roles key"],
)
def test_a_token_without_the_role_claim_grants_no_role(claims: dict[str, Any]) -> None:
    assert roles_of(claims, KEYCLOAK) == frozenset()


def test_a_space_separated_role_claim_is_read_like_scope() -> None:
    mapping = RoleMapping.parse("roles", {"pl-collector": Role.COLLECTOR})

    assert roles_of({"roles": "pl-collector other"}, mapping) == frozenset({Role.COLLECTOR})


@pytest.mark.parametrize(
    "roles", [{"pl-collector": True}, ["pl-collector", 7], 42], ids=["object", "number", "int"]
)
def test_a_role_claim_of_another_shape_refuses_the_token(roles: object) -> None:
    with pytest.raises(ClaimError, match=r"realm_access\.roles"):
        roles_of({"realm_access": {"roles": roles}}, KEYCLOAK)


def test_the_subject_is_the_configured_claim() -> None:
    claims = {"sub": "5f0c-uuid", "preferred_username": "alice"}

    assert subject_of(claims, "preferred_username") == "alice"
    assert subject_of(claims, "sub") == "5f0c-uuid"


def test_a_subject_may_be_written_in_any_script() -> None:
    assert subject_of({"sub": "张三"}, "sub") == "张三"


@pytest.mark.parametrize(
    "value",
    [None, "", "  ", 12, "alice\r\nX-PostLoan-Roles: admin", "\x00", "a" * 256],
    ids=["missing", "empty", "blank", "int", "header injection", "nul", "too long"],
)
def test_a_missing_or_malformed_subject_refuses_the_token(value: object) -> None:
    with pytest.raises(ClaimError, match="preferred_username"):
        subject_of({"preferred_username": value}, "preferred_username")


def test_a_token_within_its_lifetime_passes() -> None:
    check_lifetime({"exp": NOW + 60, "nbf": NOW - 1, "iat": NOW - 1}, now=NOW, leeway_s=0)


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({}, "exp is required"),
        ({"exp": NOW}, "expired"),
        ({"exp": NOW - 31}, "expired"),
        ({"exp": NOW + 60, "nbf": NOW + 31}, "not yet valid"),
        ({"exp": NOW + 60, "iat": NOW + 31}, "not yet valid"),
        ({"exp": True}, "number"),
        ({"exp": "1800000060"}, "number"),
        ({"exp": NOW + 60, "nbf": "soon"}, "number"),
    ],
    ids=[
        "no expiry",
        "expires now",
        "expired beyond the leeway",
        "not before is ahead",
        "issued in the future",
        "boolean expiry",
        "string expiry",
        "string not-before",
    ],
)
def test_a_token_outside_its_lifetime_is_refused(claims: dict[str, Any], message: str) -> None:
    leeway = 30 if claims.get("exp") != NOW else 0
    with pytest.raises(ClaimError, match=message):
        check_lifetime(claims, now=NOW, leeway_s=leeway)


def test_the_leeway_forgives_clock_skew_on_both_ends() -> None:
    check_lifetime({"exp": NOW - 29, "nbf": NOW + 29}, now=NOW, leeway_s=30)
