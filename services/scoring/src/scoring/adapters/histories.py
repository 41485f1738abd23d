"""Loading loan histories in bulk: five set-based queries for any number of loans.

They run on the session's asyncpg connection directly: for thousands of rows SQLAlchemy's row
wrapping cost more than the queries (measured: ~200 µs per loan against ~50 µs raw).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from scoring.domain.history import AlertPoint, Allocation, BureauPoint, Instalment, LoanHistory
from shared.db import driver_connection

_TERMS = (
    "SELECT loan_id, borrower_id, principal, disbursed_on FROM loan_terms "
    "WHERE loan_id = ANY($1::text[]) ORDER BY loan_id"
)
_INSTALMENTS = (
    "SELECT loan_id, seq, due_on, principal, due FROM scheduled_instalment "
    "WHERE loan_id = ANY($1::text[]) ORDER BY loan_id, seq"
)
_ALLOCATIONS = (
    "SELECT loan_id, payment_id, seq, booked_on, principal, total FROM allocation "
    "WHERE loan_id = ANY($1::text[]) ORDER BY loan_id, booked_on, payment_id, reversal, entry, seq"
)
_BUREAU = (
    "SELECT borrower_id, reported_on, score, inquiries_30d, open_loans, delinquent_accounts "
    "FROM bureau_point WHERE borrower_id = ANY($1::text[]) ORDER BY borrower_id, reported_at"
)
_ALERTS = (
    "SELECT loan_id, raised_on, rule FROM alert_point "
    "WHERE loan_id = ANY($1::text[]) ORDER BY loan_id, raised_on, alert_id"
)


async def load_histories(session: AsyncSession, loan_ids: Sequence[str]) -> list[LoanHistory]:
    """The histories of the loans among ``loan_ids`` that scoring knows, ordered by loan id."""
    ids = list(loan_ids)
    raw = await driver_connection(session)
    terms = await raw.fetch(_TERMS, ids)
    borrowers = list({t["borrower_id"] for t in terms})
    instalments = await _grouped(raw, _INSTALMENTS, ids, _instalment)
    allocations = await _grouped(raw, _ALLOCATIONS, ids, _allocation)
    bureau = await _grouped(raw, _BUREAU, borrowers, _bureau)
    alerts = await _grouped(raw, _ALERTS, ids, _alert)
    return [
        LoanHistory(
            loan_id=t["loan_id"],
            principal=t["principal"],
            disbursed_on=t["disbursed_on"],
            instalments=tuple(instalments.get(t["loan_id"], ())),
            allocations=tuple(allocations.get(t["loan_id"], ())),
            bureau=tuple(bureau.get(t["borrower_id"], ())),
            alerts=tuple(alerts.get(t["loan_id"], ())),
        )
        for t in terms
    ]


async def lock_loans(session: AsyncSession, loan_ids: Sequence[str]) -> dict[str, date | None]:
    """Rescore a loan in one transaction at a time: the batch after an end of day and an
    event's rescoring would otherwise each write what they read, the older last. Locks are
    taken in loan id order, so two rescorings never wait on each other in a cycle. Returns
    the day each loan's features were last evaluated."""
    raw = await driver_connection(session)
    rows = await raw.fetch(
        "SELECT loan_id, features_on FROM loan_terms WHERE loan_id = ANY($1::text[]) "
        "ORDER BY loan_id FOR UPDATE",
        list(loan_ids),
    )
    return {r[0]: r[1] for r in rows}


async def open_loan_ids(session: AsyncSession, *, after: str, limit: int) -> list[str]:
    """The next ``limit`` loan ids after ``after`` that still have something to pay."""
    rows = await session.execute(
        sa.text(
            """SELECT t.loan_id FROM loan_terms t
               WHERE t.loan_id > :after AND t.closed_on IS NULL
               ORDER BY t.loan_id LIMIT :limit"""
        ),
        {"after": after, "limit": limit},
    )
    return list(rows.scalars())


async def loans_of_borrower(session: AsyncSession, borrower_id: str) -> list[str]:
    rows = await session.execute(
        sa.text(
            "SELECT loan_id FROM loan_terms WHERE borrower_id = :b AND closed_on IS NULL "
            "ORDER BY loan_id"
        ),
        {"b": borrower_id},
    )
    return list(rows.scalars())


async def _grouped(
    raw: Any, query: str, ids: list[str], make: Callable[[Any], Any]
) -> dict[str, list[Any]]:
    groups: dict[str, list[Any]] = defaultdict(list)
    if ids:
        for row in await raw.fetch(query, ids):
            groups[row[0]].append(make(row))
    return groups


# Positional: each query's columns after the grouping key, in the dataclass's field order.
def _instalment(row: Any) -> Instalment:
    return Instalment(row[1], row[2], row[3], row[4])


def _allocation(row: Any) -> Allocation:
    return Allocation(row[1], row[2], row[3], row[4], row[5])


def _bureau(row: Any) -> BureauPoint:
    return BureauPoint(row[1], row[2], row[3], row[4], row[5])


def _alert(row: Any) -> AlertPoint:
    return AlertPoint(row[1], row[2])
