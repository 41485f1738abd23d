"""Relief of accepted offers: exactly the amount, from the kind's parts, within what is owed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitoring.domain.adjustments import Refusal, Relief, relieve
from monitoring.domain.payoff import Due, Parts, outstanding

D = date.fromisoformat
AS_OF = D("2026-02-20")
ZERO2 = Decimal("0")


def dues(*, penalty: str = "2.50", paid_penalty: str = "0.00") -> list[Due]:
    """Two instalments: the first due and unpaid (with penalty), the second not due yet."""
    first = Due(1, D("2026-01-15"), D("2026-02-15"),
                owed=Parts(Decimal(penalty), Decimal("5.00"), Decimal("120.00"), Decimal("946.19")),
                paid=Parts(penalty=Decimal(paid_penalty)))  # fmt: skip
    later = Parts(Decimal("0"), Decimal("5.00"), Decimal("110.00"), Decimal("956.19"))
    second = Due(2, D("2026-02-15"), D("2026-03-15"), owed=later)
    return [first, second]


def relieved(kind: str, amount: str, **kw: str) -> Relief:
    found = relieve(dues(**kw), kind, Decimal(amount), AS_OF, credited_before=Decimal("0"))
    assert isinstance(found, Relief), found
    return found


def lowered(relief: Relief, **kw: str) -> Decimal:
    """How much the outstanding on AS_OF falls once the relief is booked."""
    before = dues(**kw)
    after = [Due(d.seq, d.starts_on, d.due_on, d.owed - relief.lines.get(d.seq, Parts()), d.paid)
             for d in before]  # fmt: skip
    return outstanding(before, AS_OF).total - outstanding(after, AS_OF).total


def test_a_penalty_waiver_takes_only_penalty_while_penalty_is_owed() -> None:
    relief = relieved("penalty_waiver", "2.00")
    assert relief.lines == {1: Parts(penalty=Decimal("2.00"))}
    assert relief.credit == Decimal("0")


def test_penalty_already_paid_is_credited_off_the_last_principal() -> None:
    relief = relieved("penalty_waiver", "3.00", penalty="3.00", paid_penalty="3.00")
    assert relief.lines == {2: Parts(principal=Decimal("3.00"))}
    assert relief.credit == Decimal("3.00")


def test_an_interest_discount_takes_due_interest_then_credits_principal() -> None:
    relief = relieved("interest_discount", "150.00")
    assert relief.lines == {1: Parts(interest=Decimal("120.00")),
                            2: Parts(principal=Decimal("30.00"))}  # fmt: skip


def test_a_settlement_takes_every_part_of_what_is_owed_in_order() -> None:
    relief = relieved("settlement", "200.00")
    assert relief.lines == {1: Parts(Decimal("2.50"), Decimal("5.00"), Decimal("120.00"), ZERO2),
                            2: Parts(principal=Decimal("72.50"))}  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "amount"),
    [("penalty_waiver", "2.51"), ("interest_discount", "230.01"), ("instalment_plan", "127.51"),
     ("settlement", "3000.00")],
)  # fmt: skip
def test_more_than_the_kind_may_take_is_refused(kind: str, amount: str) -> None:
    found = relieve(dues(), kind, Decimal(amount), AS_OF, credited_before=Decimal("0"))
    assert isinstance(found, Refusal)


def test_a_credit_in_lieu_of_paid_penalty_is_given_once() -> None:
    found = relieve(dues(paid_penalty="2.50"), "penalty_waiver", Decimal("1.00"), AS_OF,
                    credited_before=Decimal("2.50"))  # fmt: skip
    assert isinstance(found, Refusal)


@given(
    kind=st.sampled_from(["penalty_waiver", "interest_discount", "points_redemption",
                          "settlement", "instalment_plan"]),
    cents=st.integers(min_value=0, max_value=300_000),
)  # fmt: skip
def test_what_is_booked_lowers_the_outstanding_by_exactly_the_amount(kind: str, cents: int) -> None:
    amount = Decimal(cents) / 100
    found = relieve(dues(), kind, amount, AS_OF, credited_before=Decimal("0"))
    if isinstance(found, Relief):
        assert found.total == amount
        assert lowered(found) == amount
