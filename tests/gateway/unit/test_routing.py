"""The routing table: one owner per path, a scope on every row, nothing else forwarded."""

from __future__ import annotations

import pytest

from gateway.domain.routing import (
    ROUTES,
    Matched,
    MethodNotAllowed,
    NoRoute,
    Route,
    UnsafePath,
    Upstream,
    example_path,
    resolve,
    safe_segments,
)
from gateway.domain.scopes import ROLE_SCOPES, Role, Scope

M, S, C, N = Upstream.MONITORING, Upstream.SCORING, Upstream.COLLECTIONS, Upstream.NOTIFY


@pytest.mark.parametrize(
    ("method", "path", "upstream", "scope"),
    [
        ("GET", "/api/v1/loans", M, Scope.LOANS_READ),
        ("GET", "/api/v1/loans/L-1", M, Scope.LOANS_READ),
        ("GET", "/api/v1/loans/L-1/payments", M, Scope.LOANS_READ),
        ("GET", "/api/v1/loans/L-1/payoff", M, Scope.LOANS_READ),
        ("POST", "/api/v1/loans", M, Scope.LOANS_WRITE),
        ("POST", "/api/v1/loans/L-1/write-off", M, Scope.LOANS_WRITE_OFF),
        ("POST", "/api/v1/imports", M, Scope.LOANS_WRITE),
        ("GET", "/api/v1/products", M, Scope.LOANS_READ),
        ("GET", "/api/v1/products/consumer-12m", M, Scope.LOANS_READ),
        ("POST", "/api/v1/products", M, Scope.PRODUCTS_WRITE),
        ("PUT", "/api/v1/products/consumer-12m", M, Scope.PRODUCTS_WRITE),
        ("GET", "/api/v1/payments/P-1", M, Scope.LOANS_READ),
        ("POST", "/api/v1/payments", M, Scope.PAYMENTS_WRITE),
        ("POST", "/api/v1/payments/P-1/reversal", M, Scope.PAYMENTS_WRITE),
        ("GET", "/api/v1/business-date", M, Scope.LOANS_READ),
        ("POST", "/api/v1/eod", M, Scope.EOD_RUN),
        ("GET", "/api/v1/eod/run-1", M, Scope.PORTFOLIO_READ),
        ("GET", "/api/v1/portfolio/summary", M, Scope.PORTFOLIO_READ),
        ("GET", "/api/v1/portfolio/roll-rates", M, Scope.PORTFOLIO_READ),
        ("GET", "/api/v1/portfolio/vintages", M, Scope.PORTFOLIO_READ),
        ("GET", "/api/v1/portfolio/cure-rates", M, Scope.PORTFOLIO_READ),
        ("GET", "/api/v1/alerts", M, Scope.ALERTS_READ),
        ("GET", "/api/v1/alerts/A-1", M, Scope.ALERTS_READ),
        ("POST", "/api/v1/alerts/A-1/acknowledge", M, Scope.ALERTS_WRITE),
        ("POST", "/api/v1/alerts/A-1/resolve", M, Scope.ALERTS_WRITE),
        ("GET", "/api/v1/rules", M, Scope.ALERTS_READ),
        ("GET", "/api/v1/rules/r1/versions/2", M, Scope.ALERTS_READ),
        ("POST", "/api/v1/rules", M, Scope.RULES_WRITE),
        ("POST", "/api/v1/rules/r1/versions/2/enable", M, Scope.RULES_WRITE),
        ("POST", "/api/v1/rules/r1/versions/2/backtest", M, Scope.ALERTS_READ),
        ("POST", "/api/v1/bureau-reports", M, Scope.BUREAU_WRITE),
        ("POST", "/api/v1/bureau-refresh", M, Scope.BUREAU_WRITE),
        ("GET", "/api/v1/borrowers/B-1/bureau-reports", M, Scope.BORROWERS_READ),
        ("GET", "/api/v1/scores/L-1", S, Scope.SCORES_READ),
        ("POST", "/api/v1/scoring/models/m1/promote", S, Scope.MODELS_WRITE),
        ("POST", "/api/v1/scoring/models", S, Scope.MODELS_WRITE),
        ("POST", "/api/v1/scoring/models/rollback", S, Scope.MODELS_WRITE),
        ("GET", "/api/v1/scoring/models/m1/drift", S, Scope.SCORES_READ),
        ("GET", "/api/v1/scoring/tiers", S, Scope.SCORES_READ),
        ("GET", "/api/v1/scores/L-1/history", S, Scope.SCORES_READ),
        ("GET", "/api/v1/scores/L-1/features", S, Scope.SCORES_READ),
        ("GET", "/api/v1/cases/C-1", C, Scope.CASES_READ),
        ("GET", "/api/v1/collections/loans/L-1", C, Scope.CASES_READ),
        ("PUT", "/api/v1/strategies/standard", C, Scope.STRATEGIES_WRITE),
        ("POST", "/api/v1/strategies/standard/versions/2/activate", C, Scope.STRATEGIES_WRITE),
        ("POST", "/api/v1/strategies/standard/versions/2/preview", C, Scope.CASES_READ),
        ("GET", "/api/v1/strategies/standard", C, Scope.CASES_READ),
        ("GET", "/api/v1/compliance-packs/cn", C, Scope.CASES_READ),
        ("PUT", "/api/v1/compliance-packs/cn", C, Scope.PACKS_WRITE),
        ("POST", "/api/v1/compliance-packs/cn/versions/2/activate", C, Scope.PACKS_WRITE),
        ("GET", "/api/v1/contact-decisions", C, Scope.CASES_READ),
        ("PUT", "/api/v1/borrowers/B-1/contact-preferences", C, Scope.CASES_WRITE),
        ("POST", "/api/v1/loans/L-1/disputes", C, Scope.CASES_WRITE),
        ("POST", "/api/v1/disputes/d1/resolve", C, Scope.CASES_WRITE),
        ("GET", "/api/v1/disputes/d1", C, Scope.CASES_READ),
        ("POST", "/api/v1/disputes/d1/evidence", C, Scope.CASES_WRITE),
        ("POST", "/api/v1/disputes/d1/resolution", C, Scope.CASES_WRITE),
        ("POST", "/api/v1/disputes/d1/replies", C, Scope.CASES_WRITE),
        ("GET", "/api/v1/agencies", C, Scope.CASES_READ),
        ("PUT", "/api/v1/agencies/a1", C, Scope.AGENCIES_WRITE),
        ("POST", "/api/v1/cases/C-1/placements", C, Scope.CASES_WRITE),
        ("GET", "/api/v1/cases/C-1/placements", C, Scope.CASES_READ),
        ("POST", "/api/v1/placements/p1/place", C, Scope.CASES_WRITE),
        ("POST", "/api/v1/placements/p1/recall", C, Scope.CASES_WRITE),
        ("POST", "/api/v1/cases/C-1/legal-notice", C, Scope.CASES_WRITE),
        ("POST", "/api/v1/cases/C-1/legal-escalation", C, Scope.LEGAL_WRITE),
        ("GET", "/api/v1/cases/C-1/legal-file", C, Scope.CASES_READ),
        ("PATCH", "/api/v1/legal-files/f1", C, Scope.LEGAL_WRITE),
        ("POST", "/api/v1/legal-files/f1/judgment", C, Scope.LEGAL_WRITE),
        ("GET", "/api/v1/strategies/s1/results/report", C, Scope.CASES_READ),
        ("POST", "/api/v1/cases/C-1/contact-attempts", C, Scope.CASES_WRITE),
        ("POST", "/api/v1/cases/C-1/outcomes", C, Scope.CASES_WRITE),
        ("POST", "/api/v1/cases/C-1/promises", C, Scope.CASES_WRITE),
        ("POST", "/api/v1/cases/C-1/assign", C, Scope.CASES_ASSIGN),
        ("GET", "/api/v1/work-queue", C, Scope.CASES_READ),
        ("POST", "/api/v1/cases/C-1/offers", C, Scope.CASES_WRITE),
        ("GET", "/api/v1/cases/C-1/offers", C, Scope.CASES_READ),
        ("GET", "/api/v1/offers/o1", C, Scope.CASES_READ),
        ("POST", "/api/v1/offers/o1/approve", C, Scope.OFFERS_APPROVE),
        ("POST", "/api/v1/offers/o1/accept", C, Scope.CASES_WRITE),
        ("POST", "/api/v1/offers/o1/refuse", C, Scope.CASES_WRITE),
        ("GET", "/api/v1/borrowers/B-1/points", C, Scope.CASES_READ),
        ("POST", "/api/v1/tasks/t1/assign", C, Scope.CASES_ASSIGN),
        ("GET", "/api/v1/messages", N, Scope.MESSAGES_READ),
        ("GET", "/api/v1/messages/m-1", N, Scope.MESSAGES_READ),
        ("POST", "/api/v1/messages", N, Scope.MESSAGES_WRITE),
        ("GET", "/api/v1/suppressions", N, Scope.PII_READ),
        ("POST", "/api/v1/suppressions", N, Scope.MESSAGES_WRITE),
        ("DELETE", "/api/v1/suppressions/s-1", N, Scope.MESSAGES_WRITE),
        ("GET", "/api/v1/notify/sink", N, Scope.PII_READ),
        ("GET", "/api/v1/notify/recipients/B-1", N, Scope.MESSAGES_READ),
        ("PUT", "/api/v1/notify/templates/t1", N, Scope.MESSAGES_WRITE),
        ("GET", "/api/v1/templates/reminder-soft", N, Scope.MESSAGES_READ),
        ("PUT", "/api/v1/templates/reminder-soft", N, Scope.MESSAGES_WRITE),
        ("POST", "/api/v1/templates/reminder-soft/preview", N, Scope.MESSAGES_READ),
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
    [
        "/api/v1/users/x",
        "/api/v1/loansX",
        "/api/v1/scoring",
        "/api/v1/notify",
        "/api/v2/loans",
        "/api/v1/borrowers/B-1",  # the gateway's own 360° view
        "/api/v1/borrowers/B-1/bureau",
    ],
)
def test_a_path_no_row_covers_has_no_route(path: str) -> None:
    assert resolve("GET", path) == NoRoute()


def test_a_method_no_row_lists_is_not_allowed_and_the_allowed_ones_are_named() -> None:
    assert resolve("DELETE", "/api/v1/messages/m-1") == MethodNotAllowed(
        frozenset({"GET", "HEAD", "POST"})
    )
    assert resolve("POST", "/api/v1/portfolio/summary") == MethodNotAllowed(
        frozenset({"GET", "HEAD"})
    )
    assert resolve("DELETE", "/api/v1/alerts/A-1") == MethodNotAllowed(frozenset({"GET", "HEAD"}))
    assert resolve("GET", "/api/v1/eod") == MethodNotAllowed(frozenset({"POST"}))


@pytest.mark.parametrize(
    ("path", "personal"),
    [
        ("/api/v1/collections/loans/L-1", True),
        ("/api/v1/notify/recipients/B-1", True),
        ("/api/v1/notify/loans/L-1/recipient", True),
        ("/api/v1/notify/sink", True),
        ("/api/v1/suppressions", True),
        ("/api/v1/messages/m-1", False),
        ("/api/v1/collections/cases/C-1", False),
        ("/api/v1/notify/templates/t1", False),
        ("/api/v1/loans/L-1", False),
    ],
)
def test_only_rows_answering_with_personal_data_are_marked_personal(
    path: str, personal: bool
) -> None:
    found = resolve("GET", path)

    assert isinstance(found, Matched)
    assert found.route.personal is personal


def test_a_named_segment_is_more_specific_than_a_wildcard_in_the_same_place() -> None:
    narrow = resolve("GET", "/api/v1/notify/recipients/B-1")
    wide = resolve("GET", "/api/v1/notify/templates/t1")

    assert isinstance(narrow, Matched)
    assert isinstance(wide, Matched)
    assert (narrow.route.pattern, wide.route.pattern) == (
        "/api/v1/notify/recipients",
        "/api/v1/notify/*",
    )


@pytest.mark.parametrize(
    ("method", "route"),
    [(m, r) for r in ROUTES for m in sorted(r.methods)],
    ids=lambda v: v if isinstance(v, str) else v.pattern,
)
def test_every_row_is_reached_by_its_own_example_path(method: str, route: Route) -> None:
    assert resolve(method, example_path(route)) == Matched(route)


@pytest.mark.parametrize(
    "path", ["/api/v1/loans/../users", "/api/v1/loans/./x", "/api/v1//loans", "/api/v1/a\\b", "x"]
)
def test_paths_an_upstream_could_read_differently_are_unsafe(path: str) -> None:
    with pytest.raises(UnsafePath):
        safe_segments(path)


def test_a_trailing_slash_routes_like_the_path_without_it() -> None:
    assert resolve("GET", "/api/v1/loans/") == resolve("GET", "/api/v1/loans")


def test_only_the_end_of_day_run_and_the_agency_whitelist_are_for_administrators_alone() -> None:
    granted = set().union(*(s for r, s in ROLE_SCOPES.items() if r is not Role.ADMIN))

    assert {route.scope for route in ROUTES} - granted == {Scope.EOD_RUN, Scope.AGENCIES_WRITE}


def test_every_method_and_pattern_pair_is_owned_by_one_row() -> None:
    pairs = [(m, r.pattern) for r in ROUTES for m in r.methods]

    assert len(pairs) == len(set(pairs))
