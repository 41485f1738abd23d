"""Features and targets on the simulator's portfolio, whose borrowers have a known latent risk."""

from __future__ import annotations

from datetime import date, timedelta
from statistics import mean

import pytest

from scoring.domain.features import features_as_of
from scoring.domain.history import LoanHistory
from scoring.domain.labels import TargetDefinition, build_samples, month_ends
from simulated_histories import histories_from_plan
from simulator import Plan, make_plan


@pytest.fixture(scope="module")
def plan() -> Plan:
    return make_plan(loans=300, months=18, seed=3, start=date(2025, 1, 1))


@pytest.fixture(scope="module")
def histories(plan: Plan) -> dict[str, LoanHistory]:
    return {h.loan_id: h for h in histories_from_plan(plan)}


def test_the_schedule_principal_adds_up_to_the_loan(histories: dict[str, LoanHistory]) -> None:
    for history in histories.values():
        assert sum(i.principal for i in history.instalments) == history.principal


def test_riskier_borrowers_were_further_past_due(
    plan: Plan, histories: dict[str, LoanHistory]
) -> None:
    last_day = plan.end - timedelta(days=1)

    def mean_max_dpd(loan_ids: list[str]) -> float:
        values = [features_as_of(histories[i], last_day)["max_dpd_6m"] for i in loan_ids]
        return mean(v for v in values if v is not None)

    high = [loan.loan_id for loan in plan.loans if loan.risk > 0.4]
    low = [loan.loan_id for loan in plan.loans if loan.risk <= 0.4]
    assert high
    assert mean_max_dpd(high) > mean_max_dpd(low)


def test_month_end_samples_hold_both_goods_and_bads(
    plan: Plan, histories: dict[str, LoanHistory]
) -> None:
    known_until = plan.end - timedelta(days=1)
    dates = month_ends(plan.start, known_until)
    samples = build_samples(histories.values(), dates, TargetDefinition(), known_until=known_until)
    bads = sum(s.bad for s in samples)
    assert 0 < bads < len(samples)
