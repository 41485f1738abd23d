"""The quadrant on each open case, recomputed when what it reads changes: a bureau report, the
tier, the case opening. Thresholds are data (``domain.quadrant.QuadrantThresholds``); the case
keeps the signals that decided it, so it can show why."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters import cases_sql, signals_sql
from collections_service.domain.quadrant import Ability, QuadrantThresholds, Willingness, quadrant
from shared.events import BureauRecorded


@dataclass(frozen=True, slots=True)
class Found:
    quadrant: str
    inputs: dict[str, object]


async def compute(
    session: AsyncSession,
    borrower_id: str,
    principal: Decimal,
    tier: str | None,
    thresholds: QuadrantThresholds,
) -> Found:
    """The borrower's quadrant now, with the signals that decided it."""
    able, willing = await signals_sql.signals(session, borrower_id, principal, tier)
    return _found(able, willing, thresholds)


@dataclass(frozen=True, slots=True)
class Whose:
    """A borrower whose quadrant is asked, with the loan's principal and tier it reads."""

    borrower_id: str
    principal: Decimal
    tier: str | None


async def compute_many(
    session: AsyncSession, asked: Sequence[Whose], thresholds: QuadrantThresholds
) -> list[Found]:
    """The quadrants of many borrowers now, in the order asked: one query for all."""
    signals = await signals_sql.signals_of(session, list({w.borrower_id for w in asked}))
    return [_found(*signals[w.borrower_id].sides(w.principal, w.tier), thresholds) for w in asked]


def _found(able: Ability, willing: Willingness, thresholds: QuadrantThresholds) -> Found:
    found = quadrant(able, willing, thresholds)
    return Found(found.quadrant, {"signals": found.signals, "ability": _json(asdict(able))})


async def refresh(
    session: AsyncSession, case_id: uuid.UUID, thresholds: QuadrantThresholds
) -> None:
    case = await cases_sql.get_case(session, case_id)
    ref = await cases_sql.loan_ref(session, case.loan_id) if case else None
    if case is None or ref is None:
        return
    found = await compute(session, case.borrower_id, ref["principal"], case.tier, thresholds)
    await cases_sql.update_case(
        session, case_id, quadrant=found.quadrant, quadrant_signals=found.inputs
    )


async def apply_bureau(
    session: AsyncSession, report: BureauRecorded, thresholds: QuadrantThresholds
) -> None:
    newer = await signals_sql.save_report(
        session,
        report.borrower_id,
        score=report.score,
        total_debt=report.total_debt,
        delinquent=report.delinquent_accounts,
        reported_at=report.reported_at,
    )
    if newer:
        for case_id in await cases_sql.open_case_ids_of(session, report.borrower_id):
            await refresh(session, case_id, thresholds)


def _json(values: dict[str, object]) -> dict[str, object]:
    return {
        k: (str(v) if v is not None and not isinstance(v, int | str) else v)
        for k, v in values.items()
    }
