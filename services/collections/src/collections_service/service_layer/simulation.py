"""Simulate a strategy version over the stored history: what it would have requested, day by
day, and what the guard would have decided of each contact — with the pack in force now, a
ledger of the simulated contacts alone, the disputes open each day and today's stop requests,
each contact asked at 10:00 in the borrower's zone (changes nothing)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters import history_sql
from collections_service.adapters.history_sql import StoredCase
from collections_service.domain.simulation import SimulatedStep, simulate
from collections_service.domain.strategy import MESSAGES, TASKS
from collections_service.service_layer.contacts import active_pack
from collections_service.service_layer.documents import strategy_version
from collections_service.service_layer.treatment import load_strategy
from shared.compliance.guard import decide
from shared.compliance.history import Attempt, ContactHistory, ContactRequest
from shared.compliance.pack import Pack
from shared.compliance.vocabulary import AttemptStatus, Channel
from shared.problems import Problem

MAX_DAYS = 92
ASKED_AT = time(10)


@dataclass
class Day:
    on: date
    steps: Counter[str] = field(default_factory=Counter)  # by action
    outcomes: Counter[str] = field(default_factory=Counter)  # allowed / deferred / refused
    rules: Counter[str] = field(default_factory=Counter)  # of the deferred and refused


async def run(
    session: AsyncSession, strategy_id: str, version: int, start: date, end: date
) -> list[Day]:
    if not 0 <= (end - start).days < MAX_DAYS:
        raise Problem(
            422,
            "Invalid request",
            f"from .. to must span 1 to {MAX_DAYS} days",
            errors=[{"field": "to", "message": f"from .. to must span 1 to {MAX_DAYS} days"}],
        )
    await strategy_version(session, strategy_id, version)  # 404 when unknown
    strategy = await load_strategy(session, strategy_id, version)
    assert strategy is not None  # it exists (checked above) and stored versions are valid
    cases = await history_sql.cases_in(session, strategy.products, start, end)
    planned = sorted(
        ((s, c) for c in cases for s in simulate(strategy, c.history, strategy_id=strategy_id,
                                                  version=version, start=start, end=end)),
        key=lambda pair: (pair[0].on, pair[0].case_id),
    )  # fmt: skip
    disputes = await history_sql.disputes_between(session, start, end)
    packs = {p: (await active_pack(session, p))[0] for p in {c.pack for c in cases}}
    days = {
        start + timedelta(days=i): Day(start + timedelta(days=i))
        for i in range((end - start).days + 1)
    }
    ledger: dict[str, list[Attempt]] = defaultdict(list)
    for step, case in planned:
        _decide(days[step.on], step, case, packs[case.pack], ledger, disputes)
    return list(days.values())


def _decide(
    day: Day,
    step: SimulatedStep,
    case: StoredCase,
    pack: Pack,
    ledger: dict[str, list[Attempt]],
    disputes: list[tuple[str, date, date | None]],
) -> None:
    action = step.step.action
    day.steps[action.value] += 1
    if action not in MESSAGES and action not in TASKS:
        return  # legal review, offers: not a contact
    now = datetime.combine(step.on, ASKED_AT, ZoneInfo(case.time_zone))
    disputed = frozenset(
        loan for loan, o, r in disputes if o <= step.on and (r is None or r > step.on)
    )
    history = ContactHistory(
        attempts=tuple(ledger[case.borrower_id]),
        stopped_channels=frozenset(Channel(c) for c in case.stopped_channels),
        open_disputes=disputed,
    )
    request = ContactRequest(
        channel=Channel(action.value),
        loan_id=step.loan_id,
        borrower_id=case.borrower_id,
        time_zone=case.time_zone,
        case_id=step.case_id,
        business_on=step.on,
    )
    decision = decide(request, pack, history, now)
    day.outcomes[decision.outcome.value] += 1
    if decision.rule is not None:
        day.rules[decision.rule.value] += 1
    if decision.allowed:
        ledger[case.borrower_id].append(
            Attempt(now, Channel(action.value), step.loan_id, AttemptStatus.DELIVERED)
        )
