"""Loading loan histories in bulk: five set-based queries for any number of loans."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from scoring.domain.history import AlertPoint, Allocation, BureauPoint, Instalment, LoanHistory

_TERMS = sa.text(
    "SELECT loan_id, borrower_id, principal, disbursed_on FROM loan_terms "
    "WHERE loan_id = ANY(:ids) ORDER BY loan_id"
)
_INSTALMENTS = sa.text(
    "SELECT loan_id, seq, due_on, principal, due FROM scheduled_instalment "
    "WHERE loan_id = ANY(:ids) ORDER BY loan_id, seq"
)
_ALLOCATIONS = sa.text(
    "SELECT loan_id, payment_id, seq, booked_on, principal, total FROM allocation "
    "WHERE loan_id = ANY(:ids) ORDER BY loan_id, booked_on, payment_id, reversal, seq"
)
_BUREAU = sa.text(
    "SELECT borrower_id, reported_on, score, inquiries_30d, open_loans, delinquent_accounts "
    "FROM bureau_point WHERE borrower_id = ANY(:ids) ORDER BY borrower_id, reported_at"
)
_ALERTS = sa.text(
    "SELECT loan_id, raised_on, rule FROM alert_point "
    "WHERE loan_id = ANY(:ids) ORDER BY loan_id, raised_on, alert_id"
)


async def load_histories(session: AsyncSession, loan_ids: Sequence[str]) -> list[LoanHistory]:
    """The histories of the loans among ``loan_ids`` that scoring knows, ordered by loan id."""
    ids = list(loan_ids)
    terms = (await session.execute(_TERMS, {"ids": ids})).all()
    borrowers = list({t.borrower_id for t in terms})
    instalments = await _grouped(session, _INSTALMENTS, ids, _instalment)
    allocations = await _grouped(session, _ALLOCATIONS, ids, _allocation)
    bureau = await _grouped(session, _BUREAU, borrowers, _bureau)
    alerts = await _grouped(session, _ALERTS, ids, _alert)
    return [
        LoanHistory(
            loan_id=t.loan_id,
            principal=t.principal,
            disbursed_on=t.disbursed_on,
            instalments=tuple(instalments.get(t.loan_id, ())),
            allocations=tuple(allocations.get(t.loan_id, ())),
            bureau=tuple(bureau.get(t.borrower_id, ())),
            alerts=tuple(alerts.get(t.loan_id, ())),
        )
        for t in terms
    ]


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
    session: AsyncSession, query: sa.TextClause, ids: list[str], make: Any
) -> dict[str, list[Any]]:
    groups: dict[str, list[Any]] = defaultdict(list)
    if ids:
        for row in await session.execute(query, {"ids": ids}):
            groups[row[0]].append(make(row))
    return groups


def _instalment(row: Any) -> Instalment:
    return Instalment(seq=row.seq, due_on=row.due_on, principal=row.principal, due=row.due)


def _allocation(row: Any) -> Allocation:
    return Allocation(
        payment_id=row.payment_id,
        seq=row.seq,
        booked_on=row.booked_on,
        principal=row.principal,
        total=row.total,
    )


def _bureau(row: Any) -> BureauPoint:
    return BureauPoint(
        reported_on=row.reported_on,
        score=row.score,
        inquiries_30d=row.inquiries_30d,
        open_loans=row.open_loans,
        delinquent_accounts=row.delinquent_accounts,
    )


def _alert(row: Any) -> AlertPoint:
    raised_on: date = row.raised_on
    return AlertPoint(raised_on=raised_on, rule=row.rule)
