from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitoring.domain.schedule import Instalment, add_months, build_schedule
from shared.types import RepaymentMethod

TWELVE_K = Decimal("12000.00")
TWELVE_PCT = Decimal("0.12")


def schedule(
    method: RepaymentMethod, principal: Decimal = TWELVE_K, term: int = 12
) -> list[Instalment]:
    return build_schedule(
        principal=principal,
        annual_rate=TWELVE_PCT,
        term_months=term,
        method=method,
        first_due_on=date(2026, 2, 15),
    )


def test_an_annuity_of_12000_at_12_percent_over_12_months_pays_1066_19_a_month() -> None:
    lines = schedule(RepaymentMethod.ANNUITY)
    assert {line.amount for line in lines[:-1]} == {Decimal("1066.19")}
    assert (lines[0].interest, lines[0].principal) == (Decimal("120.00"), Decimal("946.19"))
    # Hand-computed month by month: 1055.58 is left before the last instalment, interest 10.56.
    assert (lines[-1].principal, lines[-1].interest) == (Decimal("1055.58"), Decimal("10.56"))
    assert sum(line.principal for line in lines) == TWELVE_K


def test_equal_principal_repays_1000_a_month_with_falling_interest() -> None:
    lines = schedule(RepaymentMethod.EQUAL_PRINCIPAL)
    assert {line.principal for line in lines} == {Decimal("1000.00")}
    assert [line.interest for line in lines[:3]] == [
        Decimal("120.00"),
        Decimal("110.00"),
        Decimal("100.00"),
    ]
    assert lines[-1].interest == Decimal("10.00")


def test_interest_only_repays_the_principal_with_the_last_instalment() -> None:
    lines = schedule(RepaymentMethod.INTEREST_ONLY)
    assert {line.interest for line in lines} == {Decimal("120.00")}
    assert [line.principal for line in lines[:-1]] == [Decimal("0.00")] * 11
    assert lines[-1].amount == Decimal("12120.00")


def test_due_dates_keep_the_day_of_month_or_fall_on_the_months_last_day() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 1, 31), 2) == date(2026, 3, 31)
    lines = build_schedule(
        principal=TWELVE_K,
        annual_rate=TWELVE_PCT,
        term_months=3,
        method=RepaymentMethod.ANNUITY,
        first_due_on=date(2026, 1, 31),
    )
    assert [line.due_on for line in lines] == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
    ]


@pytest.mark.parametrize("method", list(RepaymentMethod))
def test_a_zero_rate_loan_has_no_interest(method: RepaymentMethod) -> None:
    lines = build_schedule(
        principal=Decimal("1000.00"),
        annual_rate=Decimal("0"),
        term_months=3,
        method=method,
        first_due_on=date(2026, 2, 1),
    )
    assert sum(line.interest for line in lines) == 0
    assert sum(line.principal for line in lines) == Decimal("1000.00")


@given(
    principal=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("10000000"), places=2),
    rate=st.decimals(min_value=Decimal("0"), max_value=Decimal("0.36"), places=4),
    term=st.integers(min_value=1, max_value=360),
    method=st.sampled_from(list(RepaymentMethod)),
)
def test_any_valid_loan_has_instalments_summing_to_the_principal_in_whole_cents(
    principal: Decimal, rate: Decimal, term: int, method: RepaymentMethod
) -> None:
    lines = build_schedule(
        principal=principal,
        annual_rate=rate,
        term_months=term,
        method=method,
        first_due_on=date(2026, 2, 28),
    )
    assert sum(line.principal for line in lines) == principal
    assert all(line.principal >= 0 and line.interest >= 0 for line in lines)
    for line in lines:
        for amount in (line.principal, line.interest, line.amount):
            assert amount == amount.quantize(Decimal("0.01"))
