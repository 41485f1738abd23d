"""The simulator's plan: deterministic for a seed, with the mix of behaviours of a portfolio."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from monitoring.domain.schedule import build_schedule
from shared.events import BureauReported, LoanRegistered, PaymentReceived
from shared.types import RepaymentMethod
from simulator import demo_start, make_plan
from simulator.contract import schedule
from simulator.plan import Outcome

START = date(2026, 1, 1)


def test_the_same_seed_makes_the_same_plan_and_another_seed_another() -> None:
    first = make_plan(loans=200, months=6, seed=42, start=START)
    again = make_plan(loans=200, months=6, seed=42, start=START)
    other = make_plan(loans=200, months=6, seed=7, start=START)
    assert first == again
    assert [list(d.payments) for d in first.days()] == [list(d.payments) for d in again.days()]
    assert first.loans != other.loans


def test_a_portfolio_has_every_kind_of_repayment_behaviour() -> None:
    plan = make_plan(loans=500, months=6, seed=42, start=START)
    outcomes = Counter(o for loan in plan.loans for o in loan.outcomes)
    assert set(outcomes) == set(Outcome)
    assert outcomes[Outcome.ON_TIME] > sum(outcomes.values()) / 2  # most borrowers pay
    risky = [loan for loan in plan.loans if loan.risk > 0.4]
    safe = [loan for loan in plan.loans if loan.risk < 0.1]

    def missed(loans: list) -> float:  # type: ignore[type-arg]
        return sum(o is Outcome.MISSED for x in loans for o in x.outcomes) / max(len(loans), 1)

    assert missed(risky) > missed(safe)


def test_every_event_is_a_valid_api_body_dated_within_the_plan() -> None:
    plan = make_plan(loans=100, months=4, seed=3, start=START)
    days = list(plan.days())
    assert next(d.day for d in days) == START
    assert len(days) == plan.day_count
    assert days[0].registrations, "the first day registers a loan (it starts the business date)"
    disbursed = {}
    for day in days:
        for body in day.registrations:
            loan = LoanRegistered.model_validate(body)
            assert loan.disbursed_on == day.day
            disbursed[loan.loan_id] = day.day
        for p in day.payments:
            payment = PaymentReceived.model_validate(p.body())
            assert p.day >= disbursed[payment.loan_id]
            assert payment.paid_at.date() == day.day
        for r in day.reports:
            BureauReported.model_validate(r.body())


@settings(max_examples=100, deadline=None)
@given(
    principal=st.integers(10, 4999).map(lambda n: Decimal(n * 100)),
    rate=st.sampled_from(["0.0720", "0.0999", "0.12", "0.24", "0"]),
    term=st.integers(1, 36),
    method=st.sampled_from(list(RepaymentMethod)),
    first_due_on=st.dates(date(2025, 1, 1), date(2027, 12, 31)),
)
def test_the_simulator_computes_the_instalments_the_platform_computes(
    principal: Decimal, rate: str, term: int, method: RepaymentMethod, first_due_on: date
) -> None:
    ours = schedule(principal, Decimal(rate), term, method.value, first_due_on)
    theirs = build_schedule(
        principal=principal,
        annual_rate=Decimal(rate),
        term_months=term,
        method=method,
        first_due_on=first_due_on,
    )
    assert [(i.due_on, i.amount) for i in ours] == [(i.due_on, i.amount) for i in theirs]


def test_the_demo_starts_months_ago_on_the_first() -> None:
    assert demo_start(6, date(2026, 7, 20)) == date(2026, 1, 1)
