from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitoring.domain.payoff import Due, Parts, accrued_interest, outstanding, payoff

D = Decimal


def due(
    seq: int,
    starts_on: date,
    due_on: date,
    *,
    principal: str = "1000.00",
    interest: str = "120.00",
    fees: str = "0.00",
    penalty: str = "0.00",
    paid: Parts | None = None,
) -> Due:
    owed = Parts(D(penalty), D(fees), D(interest), D(principal))
    return Due(seq, starts_on, due_on, owed, paid or Parts())


FIRST = due(1, date(2026, 1, 15), date(2026, 2, 15))  # a 31-day period
SECOND = due(2, date(2026, 2, 15), date(2026, 3, 15), interest="110.00", fees="5.00")


@pytest.mark.parametrize(
    ("as_of", "accrued"),
    [
        (date(2026, 1, 10), "0.00"),  # before the period
        (date(2026, 1, 15), "0.00"),  # the disbursement day itself
        (date(2026, 1, 16), "3.87"),  # 120 × 1 / 31 = 3.870…
        (date(2026, 1, 30), "58.06"),  # 120 × 15 / 31 = 58.064…
        (date(2026, 2, 14), "116.13"),  # 120 × 30 / 31 = 116.129…
        (date(2026, 2, 15), "120.00"),  # due: in full
        (date(2026, 6, 1), "120.00"),  # long overdue: still in full, never more
    ],
)
def test_interest_accrues_pro_rata_by_actual_days_of_the_period(as_of: date, accrued: str) -> None:
    assert accrued_interest(FIRST, as_of) == D(accrued)


def test_the_payoff_is_all_principal_interest_to_date_penalty_and_fees_due() -> None:
    overdue = due(1, date(2026, 1, 15), date(2026, 2, 15), penalty="7.50", fees="3.00")
    quote = payoff([overdue, SECOND], date(2026, 2, 22))
    # 110 × 7 / 28 = 27.50 of the current period; its fees are not due yet.
    assert quote == Parts(
        penalty=D("7.50"), fees=D("3.00"), interest=D("147.50"), principal=D("2000.00")
    )
    assert quote.total == D("2158.00")


def test_interest_paid_ahead_of_its_accrual_is_not_owed_again_and_not_refunded() -> None:
    paid_early = due(
        1,
        date(2026, 1, 15),
        date(2026, 2, 15),
        paid=Parts(interest=D("120.00"), principal=D("1000.00")),
    )
    quote = payoff([paid_early, SECOND], date(2026, 2, 1))
    assert quote == Parts(principal=D("1000.00"))


def test_the_outstanding_counts_interest_and_fees_only_of_instalments_due() -> None:
    late = due(1, date(2026, 1, 15), date(2026, 2, 15), penalty="2.00", fees="1.00")
    balance = outstanding([late, SECOND], date(2026, 2, 20))
    assert balance == Parts(
        penalty=D("2.00"), fees=D("1.00"), interest=D("120.00"), principal=D("2000.00")
    )
    assert outstanding([late, SECOND], date(2026, 2, 1)).total == D("2002.00")


def test_a_settled_loan_owes_nothing() -> None:
    assert outstanding([FIRST, SECOND], date(2026, 4, 1), settled=True) == Parts()


amounts = st.decimals(min_value=D("0.00"), max_value=D("50000.00"), places=2)
parts = st.builds(Parts, amounts, amounts, amounts, amounts)


@st.composite
def schedules(draw: st.DrawFn) -> list[Due]:
    """Instalments a month or so apart, each paid anything from nothing to more than owed."""
    dues, starts_on = [], date(2026, 1, 1)
    for seq in range(1, draw(st.integers(0, 8)) + 1):
        due_on = starts_on + timedelta(days=draw(st.integers(1, 45)))
        dues.append(Due(seq, starts_on, due_on, draw(parts), draw(parts)))
        starts_on = due_on
    return dues


@given(schedules(), st.integers(-10, 400), st.data())
def test_the_outstanding_is_the_payoff_less_what_is_not_yet_billed(
    dues: list[Due], day: int, data: st.DataObject
) -> None:
    # any day, or (the edge) an instalment's own due date
    days = [date(2026, 1, 1) + timedelta(days=day), *(d.due_on for d in dues)]
    as_of = data.draw(st.sampled_from(days))
    owed, settles = outstanding(dues, as_of), payoff(dues, as_of)

    # principal and penalty are owed whatever the date: the same in both
    assert (owed.principal, owed.penalty) == (settles.principal, settles.penalty)
    # interest and fees only of instalments fallen due; the payoff adds the current period's
    billed = [d for d in dues if d.due_on <= as_of]
    assert owed.fees == settles.fees == sum((d.remaining.fees for d in billed), D("0.00"))
    assert owed.interest == sum((d.remaining.interest for d in billed), D("0.00"))
    assert owed.interest <= settles.interest
    assert outstanding(dues, as_of, settled=True) == Parts()
