"""Roles (BRIEF section 6) and the scopes each one grants.

A token carries scopes, not roles, to the routing check: adding a role is a change here only.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Scope(StrEnum):
    LOANS_READ = "loans:read"
    LOANS_WRITE = "loans:write"
    LOANS_WRITE_OFF = "loans:write_off"
    PRODUCTS_WRITE = "products:write"
    PAYMENTS_WRITE = "payments:write"
    BUREAU_WRITE = "bureau:write"
    EOD_RUN = "eod:run"
    PORTFOLIO_READ = "portfolio:read"
    ALERTS_READ = "alerts:read"
    ALERTS_WRITE = "alerts:write"
    RULES_WRITE = "rules:write"
    SCORES_READ = "scores:read"
    MODELS_WRITE = "models:write"
    CASES_READ = "cases:read"
    CASES_WRITE = "cases:write"
    CASES_ASSIGN = "cases:assign"
    OFFERS_APPROVE = "offers:approve"
    STRATEGIES_WRITE = "strategies:write"
    PACKS_WRITE = "packs:write"
    AGENCIES_WRITE = "agencies:write"
    LEGAL_WRITE = "legal:write"
    MESSAGES_READ = "messages:read"
    MESSAGES_WRITE = "messages:write"
    BORROWERS_READ = "borrowers:read"
    PII_READ = "pii:read"
    AUDIT_READ = "audit:read"
    USERS_ADMIN = "users:admin"
    METRICS_READ = "metrics:read"


SCOPE_DESCRIPTIONS: dict[Scope, str] = {
    Scope.LOANS_READ: "read loans, schedules, payments and the business date",
    Scope.LOANS_WRITE: "register and import loans",
    Scope.LOANS_WRITE_OFF: "write loans off",
    Scope.PRODUCTS_WRITE: "define and change loan products",
    Scope.PAYMENTS_WRITE: "post and reverse payments",
    Scope.BUREAU_WRITE: "post credit bureau reports and refresh them from the bureau",
    Scope.EOD_RUN: "run the end-of-day batch",
    Scope.PORTFOLIO_READ: "read portfolio analytics and end-of-day runs",
    Scope.ALERTS_READ: "read early-warning alerts and rules, back-test rules",
    Scope.ALERTS_WRITE: "acknowledge and resolve alerts",
    Scope.RULES_WRITE: "author, enable and disable early-warning rules",
    Scope.SCORES_READ: "read scores, models and drift reports",
    Scope.MODELS_WRITE: "register and promote scoring models",
    Scope.CASES_READ: "read collection cases and strategies",
    Scope.CASES_WRITE: "work collection cases: outcomes, contact attempts, disputes, preferences",
    Scope.CASES_ASSIGN: "assign collection cases to collectors",
    Scope.OFFERS_APPROVE: "approve incentive and settlement offers within one's limit",
    Scope.STRATEGIES_WRITE: "upload and activate collection strategies",
    Scope.PACKS_WRITE: "upload and activate compliance packs",
    Scope.AGENCIES_WRITE: "manage the whitelist of outside collection agencies",
    Scope.LEGAL_WRITE: "transfer cases to legal and keep their legal files and judgments",
    Scope.MESSAGES_READ: "read messages and deliveries",
    Scope.MESSAGES_WRITE: "manage templates and suppressions",
    Scope.BORROWERS_READ: "read borrower views and bureau data",
    Scope.PII_READ: "see personal data unmasked",
    Scope.AUDIT_READ: "read the audit log",
    Scope.USERS_ADMIN: "create users and API keys",
    Scope.METRICS_READ: "scrape the gateway's Prometheus metrics",
}


class Role(StrEnum):
    ADMIN = "admin"
    RISK_ANALYST = "risk_analyst"
    COLLECTOR = "collector"
    SUPERVISOR = "supervisor"  # a collections team lead: assigns cases, approves offers
    COMPLIANCE = "compliance"
    AUDITOR = "auditor"
    INGEST = "ingest"


_READ_ALL = frozenset(
    {
        Scope.LOANS_READ,
        Scope.PORTFOLIO_READ,
        Scope.ALERTS_READ,
        Scope.SCORES_READ,
        Scope.CASES_READ,
        Scope.MESSAGES_READ,
        Scope.BORROWERS_READ,
    }
)

_COLLECTOR = frozenset(
    {
        Scope.LOANS_READ,
        Scope.ALERTS_READ,
        Scope.ALERTS_WRITE,
        Scope.SCORES_READ,
        Scope.CASES_READ,
        Scope.CASES_WRITE,
        Scope.MESSAGES_READ,
        Scope.BORROWERS_READ,
        Scope.PII_READ,
    }
)

ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.ADMIN: frozenset(Scope),
    Role.RISK_ANALYST: _READ_ALL
    | {
        Scope.ALERTS_WRITE,
        Scope.RULES_WRITE,
        Scope.MODELS_WRITE,
        Scope.PRODUCTS_WRITE,
        Scope.LOANS_WRITE_OFF,
        Scope.STRATEGIES_WRITE,
    },
    Role.COLLECTOR: _COLLECTOR,
    Role.SUPERVISOR: _COLLECTOR | {Scope.CASES_ASSIGN, Scope.OFFERS_APPROVE, Scope.LEGAL_WRITE},
    Role.COMPLIANCE: _READ_ALL
    | {Scope.MESSAGES_WRITE, Scope.PII_READ, Scope.AUDIT_READ, Scope.PACKS_WRITE},
    Role.AUDITOR: _READ_ALL | {Scope.AUDIT_READ},
    Role.INGEST: frozenset({Scope.LOANS_WRITE, Scope.PAYMENTS_WRITE, Scope.BUREAU_WRITE}),
}


def scopes_for(roles: Iterable[Role]) -> frozenset[Scope]:
    """The union of the scopes granted by ``roles``."""
    granted: set[Scope] = set()
    for role in roles:
        granted |= ROLE_SCOPES[role]
    return frozenset(granted)
