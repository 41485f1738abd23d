"""The signed principal: good for one method and path, for a few seconds, with its secret."""

from __future__ import annotations

import pytest

from shared.principal import (
    DEVELOPER,
    InvalidPrincipal,
    Principal,
    PrincipalVerifier,
    UserAttributes,
    sign,
    verify,
)
from shared.problems import Problem

SECRET = "unit-test-principal-secret-of-enough-length"
NOW = 1_800_000_000.0
LEAD = Principal(
    subject="lead",
    roles=frozenset({"supervisor"}),
    scopes=frozenset({"cases:read", "cases:assign"}),
    attributes=UserAttributes(skills=("early",), languages=("zh-CN",), capacity=40),
    team=frozenset({"alice", "bob"}),
)


def header(principal: Principal = LEAD, *, method: str = "GET", path: str = "/api/v1/cases",
           now: float = NOW, secret: str = SECRET) -> str:  # fmt: skip
    return sign(principal, secret=secret, method=method, path=path, now=now, ttl_s=30)


def test_a_signed_principal_comes_back_whole() -> None:
    back = verify(header(), secret=SECRET, method="GET", path="/api/v1/cases", now=NOW + 1)

    assert back == LEAD


@pytest.mark.parametrize(
    ("method", "path", "secret"),
    [("POST", "/api/v1/cases", SECRET), ("GET", "/api/v1/cases/x", SECRET),
     ("GET", "/api/v1/cases", SECRET + "-other")],
)  # fmt: skip
def test_it_holds_for_its_method_path_and_secret_only(method: str, path: str, secret: str) -> None:
    with pytest.raises(InvalidPrincipal, match="signature"):
        verify(header(), secret=secret, method=method, path=path, now=NOW)


def test_it_expires() -> None:
    with pytest.raises(InvalidPrincipal, match="expired"):
        verify(header(), secret=SECRET, method="GET", path="/api/v1/cases", now=NOW + 30)


def test_a_changed_payload_breaks_the_signature() -> None:
    version, payload, signature = header().split(".")
    other = header(Principal("root", frozenset({"admin"}), frozenset({"*"}))).split(".")[1]

    with pytest.raises(InvalidPrincipal):
        verify(f"{version}.{other}.{signature}", secret=SECRET, method="GET",
               path="/api/v1/cases", now=NOW)  # fmt: skip
    assert payload != other


@pytest.mark.parametrize("value", ["", "v1", "v1..", "v2.a.b", "v1.!!.??", "x" * 70_000])
def test_garbage_is_refused(value: str) -> None:
    with pytest.raises(InvalidPrincipal):
        verify(value, secret=SECRET, method="GET", path="/", now=NOW)


def test_a_service_refuses_a_missing_header_unless_in_development_mode() -> None:
    strict = PrincipalVerifier(secret=SECRET, clock=lambda: NOW)
    with pytest.raises(Problem) as refused:
        strict.principal(None, "GET", "/api/v1/cases")
    assert refused.value.status == 401

    lenient = PrincipalVerifier(secret=SECRET, allow_unsigned=True, clock=lambda: NOW)
    assert lenient.principal(None, "GET", "/api/v1/cases") is DEVELOPER
    with pytest.raises(Problem):  # a header that is sent is checked all the same
        lenient.principal("v1.forged.header", "GET", "/api/v1/cases")


def test_a_service_without_a_secret_refuses_every_principal() -> None:
    with pytest.raises(Problem, match="POSTLOAN_PRINCIPAL_SECRET"):
        PrincipalVerifier(secret="").principal(header(), "GET", "/api/v1/cases")


def test_only_portfolio_roles_see_every_case() -> None:
    assert not LEAD.sees_every_case
    assert Principal("a", frozenset({"auditor"}), frozenset()).sees_every_case
    assert DEVELOPER.sees_every_case
