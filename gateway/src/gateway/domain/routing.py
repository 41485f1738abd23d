"""The routing table: which upstream owns a path, and which scope a call needs.

This is the one place that decides what the gateway forwards. A request that matches no row
is never proxied; a row always names the scope required, so nothing is forwarded unchecked.
Patterns are matched by path segments: ``*`` matches any one segment, and a pattern matches
every path that starts with its segments (``/api/v1/loans`` covers ``/api/v1/loans/L-1``).
The most specific row that lists the method wins: the one with most segments, and between
rows of as many segments, the one whose first difference is a name rather than ``*``.
A row marked ``personal`` answers with personal data, which the gateway masks for callers
without ``pii:read``. A row marked ``signed`` (providers' delivery receipts, BRIEF decision 10)
takes no bearer token: it needs the ``X-PostLoan-Signature`` header, which the gateway forwards
with the raw body unchanged, and the owning service checks it — the signature is that route's
credential; its ``scope`` is never granted to such a caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

from gateway.domain.scopes import Scope


class Upstream(StrEnum):
    MONITORING = "monitoring"
    SCORING = "scoring"
    COLLECTIONS = "collections"
    NOTIFY = "notify"


READ = frozenset({"GET", "HEAD"})
WRITE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
POST = frozenset({"POST"})
POST_PUT = frozenset({"POST", "PUT"})


@dataclass(frozen=True)
class Route:
    """One row: calls with one of ``methods`` on paths under ``pattern`` go to ``upstream``."""

    methods: frozenset[str]
    pattern: str
    upstream: Upstream
    scope: Scope
    personal: bool = False
    signed: bool = False

    @cached_property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.pattern.strip("/").split("/"))

    @property
    def specificity(self) -> tuple[int, tuple[bool, ...]]:
        """Sorts rows from most to least specific (descending)."""
        return len(self.segments), tuple(s != "*" for s in self.segments)

    def covers(self, path_segments: tuple[str, ...]) -> bool:
        mine = self.segments
        if len(path_segments) < len(mine):
            return False
        return all(p in ("*", s) for p, s in zip(mine, path_segments, strict=False))


M, S, C, N = Upstream.MONITORING, Upstream.SCORING, Upstream.COLLECTIONS, Upstream.NOTIFY

# Grouped by resource; within a resource the order does not matter (most segments win).
ROUTES: tuple[Route, ...] = (
    Route(READ, "/api/v1/loans", M, Scope.LOANS_READ),  # also .../payments and .../payoff
    Route(POST, "/api/v1/loans", M, Scope.LOANS_WRITE),
    Route(POST, "/api/v1/loans/*/write-off", M, Scope.LOANS_WRITE_OFF),
    Route(POST, "/api/v1/imports", M, Scope.LOANS_WRITE),
    Route(READ, "/api/v1/products", M, Scope.LOANS_READ),
    Route(POST_PUT, "/api/v1/products", M, Scope.PRODUCTS_WRITE),
    Route(READ, "/api/v1/payments", M, Scope.LOANS_READ),
    Route(POST, "/api/v1/payments", M, Scope.PAYMENTS_WRITE),  # also .../{id}/reversal
    # Every role holding portfolio:read also holds loans:read, so loans:read alone suffices.
    Route(READ, "/api/v1/business-date", M, Scope.LOANS_READ),
    Route(POST, "/api/v1/eod", M, Scope.EOD_RUN),
    Route(READ, "/api/v1/eod/*", M, Scope.PORTFOLIO_READ),
    Route(READ, "/api/v1/portfolio", M, Scope.PORTFOLIO_READ),
    Route(READ, "/api/v1/alerts", M, Scope.ALERTS_READ),
    Route(POST, "/api/v1/alerts/*/acknowledge", M, Scope.ALERTS_WRITE),
    Route(POST, "/api/v1/alerts/*/resolve", M, Scope.ALERTS_WRITE),
    Route(READ, "/api/v1/rules", M, Scope.ALERTS_READ),
    Route(POST, "/api/v1/rules", M, Scope.RULES_WRITE),
    Route(POST, "/api/v1/rules/*/versions/*/backtest", M, Scope.ALERTS_READ),  # changes nothing
    Route(POST, "/api/v1/bureau-reports", M, Scope.BUREAU_WRITE),
    Route(POST, "/api/v1/bureau-refresh", M, Scope.BUREAU_WRITE),
    # GET /api/v1/borrowers/{id} is the gateway's own 360° view, not a row of this table.
    Route(READ, "/api/v1/borrowers/*/bureau-reports", M, Scope.BORROWERS_READ),
    Route(READ, "/api/v1/scores", S, Scope.SCORES_READ),
    Route(READ, "/api/v1/scoring/*", S, Scope.SCORES_READ),
    Route(WRITE, "/api/v1/scoring/*", S, Scope.MODELS_WRITE),
    Route(READ, "/api/v1/cases", C, Scope.CASES_READ),
    Route(WRITE, "/api/v1/cases", C, Scope.CASES_WRITE),
    Route(POST, "/api/v1/cases/*/assign", C, Scope.CASES_ASSIGN),
    # POST /api/v1/cases/{id}/offers is a case write (the row above); offers have their own rows.
    Route(READ, "/api/v1/offers", C, Scope.CASES_READ),
    Route(POST, "/api/v1/offers/*/approve", C, Scope.OFFERS_APPROVE),
    Route(POST, "/api/v1/offers/*/accept", C, Scope.CASES_WRITE),
    Route(POST, "/api/v1/offers/*/refuse", C, Scope.CASES_WRITE),
    Route(READ, "/api/v1/borrowers/*/points", C, Scope.CASES_READ),
    Route(READ, "/api/v1/work-queue", C, Scope.CASES_READ),
    Route(POST, "/api/v1/tasks/*/assign", C, Scope.CASES_ASSIGN),
    Route(READ, "/api/v1/strategies", C, Scope.CASES_READ),
    Route(POST_PUT, "/api/v1/strategies", C, Scope.STRATEGIES_WRITE),  # also .../activate
    Route(POST, "/api/v1/strategies/*/versions/*/preview", C, Scope.CASES_READ),  # changes nothing
    Route(READ, "/api/v1/compliance-packs", C, Scope.CASES_READ),
    Route(POST_PUT, "/api/v1/compliance-packs", C, Scope.PACKS_WRITE),  # also .../activate
    Route(READ, "/api/v1/contact-decisions", C, Scope.CASES_READ),
    Route(frozenset({"PUT"}), "/api/v1/borrowers/*/contact-preferences", C, Scope.CASES_WRITE),
    Route(POST, "/api/v1/loans/*/disputes", C, Scope.CASES_WRITE),
    Route(POST, "/api/v1/disputes", C, Scope.CASES_WRITE),  # .../{id}/resolve
    # the dispute's file (evidence, outcome, replies); .../evidence, .../resolution, .../replies
    Route(READ, "/api/v1/disputes", C, Scope.CASES_READ, personal=True),
    Route(READ, "/api/v1/agencies", C, Scope.CASES_READ),
    Route(frozenset({"PUT"}), "/api/v1/agencies", C, Scope.AGENCIES_WRITE),
    # /api/v1/cases/{id}/placements and .../legal-notice fall under the cases rows
    Route(POST, "/api/v1/placements", C, Scope.CASES_WRITE),  # .../place, .../actions, .../recall
    Route(POST, "/api/v1/cases/*/legal-escalation", C, Scope.LEGAL_WRITE),
    Route(READ, "/api/v1/legal-files", C, Scope.CASES_READ),
    Route(WRITE, "/api/v1/legal-files", C, Scope.LEGAL_WRITE),  # PATCH, documents, judgment
    Route(READ, "/api/v1/collections/*", C, Scope.CASES_READ),
    Route(READ, "/api/v1/collections/loans", C, Scope.CASES_READ, personal=True),
    Route(WRITE, "/api/v1/collections/*", C, Scope.CASES_WRITE),
    Route(READ, "/api/v1/messages", N, Scope.MESSAGES_READ),  # also .../{id} with its history
    Route(POST, "/api/v1/messages", N, Scope.MESSAGES_WRITE),
    # A letter's PDF is the whole letter with the borrower's name: pii:read itself.
    Route(READ, "/api/v1/messages/*/document", N, Scope.PII_READ, personal=True),
    # Suppressions list addresses (personal data): reading them needs pii:read itself.
    Route(READ, "/api/v1/suppressions", N, Scope.PII_READ, personal=True),
    Route(frozenset({"POST", "DELETE"}), "/api/v1/suppressions", N, Scope.MESSAGES_WRITE),
    Route(READ, "/api/v1/templates", N, Scope.MESSAGES_READ),
    Route(frozenset({"PUT"}), "/api/v1/templates", N, Scope.MESSAGES_WRITE),
    Route(POST, "/api/v1/templates/*/preview", N, Scope.MESSAGES_READ),  # changes nothing
    Route(READ, "/api/v1/notify/*", N, Scope.MESSAGES_READ),
    # The local sink shows whole messages with their addresses: pii:read itself.
    Route(READ, "/api/v1/notify/sink", N, Scope.PII_READ, personal=True),
    Route(READ, "/api/v1/notify/recipients", N, Scope.MESSAGES_READ, personal=True),
    Route(READ, "/api/v1/notify/loans/*/recipient", N, Scope.MESSAGES_READ, personal=True),
    Route(WRITE, "/api/v1/notify/*", N, Scope.MESSAGES_WRITE),
    Route(POST, "/api/v1/providers/*/receipts", N, Scope.MESSAGES_WRITE, signed=True),
)


@dataclass(frozen=True)
class Matched:
    route: Route


@dataclass(frozen=True)
class MethodNotAllowed:
    allowed: frozenset[str]


@dataclass(frozen=True)
class NoRoute:
    pass


Resolution = Matched | MethodNotAllowed | NoRoute


class UnsafePath(ValueError):
    """A path with empty, ``.`` or ``..`` segments: it could mean another route upstream."""


def safe_segments(path: str) -> tuple[str, ...]:
    """The segments of a decoded request path, refusing any that an upstream could re-route."""
    if not path.startswith("/"):
        raise UnsafePath(path)
    segments = tuple(path[1:].removesuffix("/").split("/"))
    if any(s in ("", ".", "..") or "\\" in s for s in segments):
        raise UnsafePath(path)
    return segments


#: Every row starts with ``/api/v1/<resource>``: rows indexed by those three segments.
_INDEX_DEPTH = 3


def _index(routes: tuple[Route, ...]) -> dict[tuple[str, ...], list[Route]]:
    index: dict[tuple[str, ...], list[Route]] = {}
    for route in sorted(routes, key=lambda r: r.specificity, reverse=True):
        key = route.segments[:_INDEX_DEPTH]
        if len(key) < _INDEX_DEPTH or "*" in key:
            raise ValueError(f"route {route.pattern} must name /api/v1/<resource>")
        index.setdefault(key, []).append(route)
    return index


_BY_RESOURCE = _index(ROUTES)


def resolve(method: str, path: str) -> Resolution:
    """Find the row for a call; the caller must still check the row's scope."""
    segments = safe_segments(path)
    rows = _BY_RESOURCE.get(segments[:_INDEX_DEPTH], [])
    covering = [r for r in rows if r.covers(segments)]  # most specific first
    if not covering:
        return NoRoute()
    for route in covering:
        if method in route.methods:
            return Matched(route)
    return MethodNotAllowed(frozenset().union(*(r.methods for r in covering)))


def example_path(route: Route) -> str:
    """A concrete path under a row (``*`` filled in), for tests and documentation."""
    return "/" + "/".join("x" if s == "*" else s for s in route.segments)
