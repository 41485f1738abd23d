"""The routing table: one owner per path, a scope on every row, nothing else forwarded."""

from __future__ import annotations

import pytest

from gateway.domain.routing import (
    ROUTES,
    Matched,
    MethodNotAllowed,
    NoRoute,
    UnsafePath,
    Upstream,
    resolve,
    safe_segments,
)
from gateway.domain.scopes import ROLE_SCOPES, Role, Scope


@pytest.mark.parametrize(
    ("method", "path", "upstream", "scope"),
    [
        ("GET", "/api/v1/loans", Upstream.MONITORING, Scope.LOANS_READ),
        ("GET", "/api/v1/loans/L-1", Upstream.MONITORING, Scope.LOANS_READ),
        ("POST", "/api/v1/loans", Upstream.MONITORING, Scope.LOANS_WRITE),
        ("POST", "/api/v1/payments", Upstream.MONITORING, Scope.PAYMENTS_WRITE),
        ("POST", "/api/v1/eod", Upstream.MONITORING, Scope.EOD_RUN),
        ("GET", "/api/v1/eod/run-1", Upstream.MONITORING, Scope.EOD_RUN),
        ("GET", "/api/v1/portfolio/roll-rates", Upstream.MONITORING, Scope.PORTFOLIO_READ),
        ("POST", "/api/v1/bureau-reports", Upstream.MONITORING, Scope.BUREAU_WRITE),
        ("GET", "/api/v1/scores/L-1", Upstream.SCORING, Scope.SCORES_READ),
        ("POST", "/api/v1/scoring/models/m1/promote", Upstream.SCORING, Scope.MODELS_WRITE),
        ("GET", "/api/v1/cases/C-1", Upstream.COLLECTIONS, Scope.CASES_READ),
        ("GET", "/api/v1/collections/loans/L-1", Upstream.COLLECTIONS, Scope.CASES_READ),
        ("GET", "/api/v1/messages", Upstream.NOTIFY, Scope.MESSAGES_READ),
        ("PUT", "/api/v1/notify/templates/t1", Upstream.NOTIFY, Scope.MESSAGES_WRITE),
    ],
)
def test_a_call_is_routed_to_its_owner_with_the_scope_it_needs(
    method: str, path: str, upstream: Upstream, scope: Scope
) -> None:
    found = resolve(method, path)

    assert isinstance(found, Matched)
    assert (found.route.upstream, found.route.scope) == (upstream, scope)


@pytest.mark.parametrize(
    "path",
    ["/api/v1/users/x", "/api/v1/loansX", "/api/v1/scoring", "/api/v1/notify", "/api/v2/loans"],
)
def test_a_path_no_row_covers_has_no_route(path: str) -> None:
    assert resolve("GET", path) == NoRoute()


def test_a_method_no_row_lists_is_not_allowed_and_the_allowed_ones_are_named() -> None:
    assert resolve("POST", "/api/v1/portfolio/summary") == MethodNotAllowed(
        frozenset({"GET", "HEAD"})
    )


@pytest.mark.parametrize(
    "path", ["/api/v1/loans/../users", "/api/v1/loans/./x", "/api/v1//loans", "/api/v1/a\\b", "x"]
)
def test_paths_an_upstream_could_read_differently_are_unsafe(path: str) -> None:
    with pytest.raises(UnsafePath):
        safe_segments(path)


def test_a_trailing_slash_routes_like_the_path_without_it() -> None:
    assert resolve("GET", "/api/v1/loans/") == resolve("GET", "/api/v1/loans")


def test_only_the_end_of_day_run_is_reserved_to_administrators_in_the_table() -> None:
    granted = set().union(*(s for r, s in ROLE_SCOPES.items() if r is not Role.ADMIN))

    assert {route.scope for route in ROUTES} - granted == {Scope.EOD_RUN}


def test_every_method_and_pattern_pair_is_owned_by_one_row() -> None:
    pairs = [(m, r.pattern) for r in ROUTES for m in r.methods]

    assert len(pairs) == len(set(pairs))
