"""Headers across the gateway: credentials and hop-by-hop headers stay behind."""

from __future__ import annotations

from gateway.domain.forwarding import (
    client_response_headers,
    identity_headers,
    upstream_request_headers,
)
from gateway.domain.principal import Principal, PrincipalKind
from gateway.domain.scopes import Role

ALICE = Principal.with_roles("alice", frozenset({Role.AUDITOR}), PrincipalKind.USER)


def forwarded(incoming: list[tuple[str, str]]) -> dict[str, str]:
    identity = identity_headers(ALICE, "v1.payload.signature")
    headers = upstream_request_headers(
        incoming, identity, request_id="r-1", client_ip="10.0.0.7", scheme="https"
    )
    return dict(headers)


def test_the_clients_credentials_and_cookies_are_not_forwarded() -> None:
    headers = forwarded([("Authorization", "Bearer t"), ("X-API-Key", "k"), ("Cookie", "s=1")])

    assert not {"Authorization", "X-API-Key", "Cookie"} & headers.keys()


def test_identity_headers_come_from_the_principal_never_from_the_client() -> None:
    headers = forwarded(
        [("X-PostLoan-Subject", "root"), ("x-postloan-roles", "admin"),
         ("X-PostLoan-Principal", "v1.forged.signature")]
    )  # fmt: skip

    assert headers["x-postloan-principal"] == "v1.payload.signature"
    assert "X-PostLoan-Principal" not in headers
    assert headers["x-postloan-subject"] == "alice"
    assert headers["x-postloan-roles"] == "auditor"
    assert "X-PostLoan-Subject" not in headers
    assert list(headers).count("x-postloan-roles") == 1


def test_a_providers_signature_crosses_unchanged_it_is_no_identity() -> None:
    headers = forwarded([("X-PostLoan-Signature", "sha256=ab12"), ("X-PostLoan-Scopes", "x")])

    assert headers["X-PostLoan-Signature"] == "sha256=ab12"
    assert headers["x-postloan-scopes"] == " ".join(sorted(ALICE.scopes))


def test_hop_by_hop_headers_and_those_named_in_connection_are_dropped() -> None:
    incoming = [
        ("Connection", "close, X-Secret"),
        ("X-Secret", "1"),
        ("Transfer-Encoding", "chunked"),
        ("Host", "gateway"),
        ("Accept", "application/json"),
    ]

    assert forwarded(incoming).keys() >= {"Accept"}
    assert not {"Connection", "X-Secret", "Transfer-Encoding", "Host"} & forwarded(incoming).keys()


def test_the_request_id_and_the_client_address_are_added() -> None:
    headers = forwarded([("X-Forwarded-For", "1.2.3.4"), ("x-request-id", "client-chosen")])

    assert headers["x-request-id"] == "r-1"
    assert headers["x-forwarded-for"] == "1.2.3.4, 10.0.0.7"
    assert headers["x-forwarded-proto"] == "https"


def test_response_headers_lose_hop_by_hop_ones_and_those_the_gateway_sets_itself() -> None:
    upstream = [
        ("Content-Type", "application/json"),
        ("Content-Length", "12"),
        ("Connection", "keep-alive"),
        ("Server", "uvicorn"),
        ("X-Request-Id", "r-1"),
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
    ]

    assert client_response_headers(upstream) == [
        ("content-type", "application/json"),
        ("set-cookie", "a=1"),
        ("set-cookie", "b=2"),
    ]
