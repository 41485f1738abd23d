"""The champion trained on the simulator's portfolio, judged on constructed histories: worse
repayment gets a strictly higher PD, and the reasons name what went wrong."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from scoring.domain.features import features_as_of
from scoring.domain.history import Allocation, BureauPoint, Instalment, LoanHistory
from scoring.domain.model import Scored
from scoring_events import Trained, trained_on_simulator

START = date(2025, 1, 1)
AS_OF = date(2025, 7, 20)  # six instalments have fallen due
PRINCIPAL = Decimal("12000.00")
SCHEDULE = tuple(
    Instalment(
        seq=n,
        due_on=date(2025, 1 + n, 1) if n < 12 else date(2026, 1, 1),
        principal=Decimal("1000.00"),
        due=Decimal("1100.00"),
    )
    for n in range(1, 13)
)
GOOD_BUREAU = (BureauPoint(START, 720, 1, 1, 0), BureauPoint(date(2025, 6, 1), 722, 1, 1, 0))


def paying(
    *,
    late_days: int = 0,
    share: Decimal = Decimal(1),
    stop_after: int = 12,
    bureau: tuple[BureauPoint, ...] = GOOD_BUREAU,
) -> LoanHistory:
    """A loan paid ``late_days`` after each due date, ``share`` of each instalment, until
    instalment ``stop_after``."""
    allocations = tuple(
        Allocation(
            payment_id=f"P{i.seq}",
            seq=i.seq,
            booked_on=i.due_on + timedelta(days=late_days),
            principal=(i.principal * share).quantize(Decimal("0.01")),
            total=(i.due * share).quantize(Decimal("0.01")),
        )
        for i in SCHEDULE
        if i.seq <= stop_after and i.due_on + timedelta(days=late_days) <= AS_OF
    )
    return LoanHistory("L", PRINCIPAL, START, SCHEDULE, allocations, bureau, ())


@pytest.fixture(scope="module")
def trained() -> Trained:
    return trained_on_simulator()


def score(trained: Trained, history: LoanHistory) -> Scored:
    return trained.champion.score(features_as_of(history, AS_OF))


def test_worse_repayment_behaviour_gets_a_strictly_higher_pd(trained: Trained) -> None:
    on_time = score(trained, paying())
    late = score(trained, paying(late_days=20))
    partial = score(trained, paying(share=Decimal("0.5")))
    stopped = score(trained, paying(stop_after=2))
    very_late = score(trained, paying(late_days=75))
    assert on_time.pd < late.pd < very_late.pd
    assert on_time.pd < partial.pd < stopped.pd
    assert late.pd < stopped.pd
    assert on_time.score > late.score > very_late.score


def test_a_bureau_score_drop_as_the_only_blemish_is_the_first_reason(trained: Trained) -> None:
    dropped = (BureauPoint(START, 720, 1, 1, 0), BureauPoint(date(2025, 6, 1), 560, 1, 1, 0))
    clean = score(trained, paying())
    blemished = score(trained, paying(bureau=dropped))
    assert blemished.pd > clean.pd
    assert blemished.reasons[0].code in {"BUREAU_SCORE", "BUREAU_SCORE_CHANGE"}
    assert {r.code for r in blemished.reasons[:2]} & {"BUREAU_SCORE", "BUREAU_SCORE_CHANGE"}


def test_a_loan_that_stopped_paying_is_told_so_first(trained: Trained) -> None:
    stopped = score(trained, paying(stop_after=2))
    repayment = {
        "DPD_NOW", "MAX_DPD_3M", "MAX_DPD_6M", "MAX_DPD_12M", "MISSED_INSTALMENTS",
        "PAID_TO_DUE_3", "PAID_TO_DUE_6", "OUTSTANDING_RATIO",
    }  # fmt: skip
    assert stopped.reasons[0].code in repayment
    assert [r.points_lost for r in stopped.reasons] == sorted(
        (r.points_lost for r in stopped.reasons), reverse=True
    )
    assert score(trained, paying(stop_after=2)) == stopped  # the same loan, the same reasons
