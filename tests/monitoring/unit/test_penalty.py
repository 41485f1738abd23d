from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from monitoring.domain.penalty import accrues_on, daily_penalty, penalty_rate

DEFAULT = {"multiplier": Decimal("1.5"), "cost_cap_apr": Decimal("0.24")}


def test_the_penalty_rate_is_the_multiple_when_the_cap_leaves_room() -> None:
    assert penalty_rate(annual_rate=Decimal("0.06"), **DEFAULT) == Decimal("0.090")


def test_the_cap_binds_when_contract_plus_penalty_would_pass_it() -> None:
    assert penalty_rate(annual_rate=Decimal("0.12"), **DEFAULT) == Decimal("0.12")


def test_a_contract_rate_above_the_cap_bears_no_penalty_never_a_negative_one() -> None:
    assert penalty_rate(annual_rate=Decimal("0.30"), **DEFAULT) == 0
    assert daily_penalty(
        overdue_principal=Decimal("1000.00"), annual_rate=Decimal("0.30"), **DEFAULT
    ) == Decimal("0.00")


def test_one_day_on_946_19_at_a_capped_12_percent_is_31_cents() -> None:
    # 946.19 × 0.12 / 365 = 0.31107…
    assert daily_penalty(
        overdue_principal=Decimal("946.19"), annual_rate=Decimal("0.12"), **DEFAULT
    ) == Decimal("0.31")


def test_one_day_rounds_half_up_to_the_cent() -> None:
    # 365.00 × 0.125 / 365 = 0.125 exactly: half-up gives 0.13 (half-even would give 0.12)
    assert daily_penalty(
        overdue_principal=Decimal("365.00"),
        annual_rate=Decimal("0.125"),
        multiplier=Decimal("1"),
        cost_cap_apr=Decimal("0.50"),
    ) == Decimal("0.13")


def test_nothing_accrues_on_nothing_overdue() -> None:
    assert daily_penalty(
        overdue_principal=Decimal("0.00"), annual_rate=Decimal("0.12"), **DEFAULT
    ) == Decimal("0.00")


def test_penalty_starts_the_day_after_the_due_date_plus_the_grace_days() -> None:
    due = date(2026, 2, 15)
    assert not accrues_on(due_on=due, grace_days=0, business_date=date(2026, 2, 15))
    assert accrues_on(due_on=due, grace_days=0, business_date=date(2026, 2, 16))
    assert not accrues_on(due_on=due, grace_days=3, business_date=date(2026, 2, 18))
    assert accrues_on(due_on=due, grace_days=3, business_date=date(2026, 2, 19))


rates = st.decimals(min_value=0, max_value=1, places=6)
amounts = st.decimals(min_value=0, max_value=10_000_000, places=2)


@given(amounts, rates, st.decimals(min_value=0, max_value=5, places=4), rates)
def test_contract_plus_penalty_rate_never_passes_the_cap_and_a_day_is_whole_cents(
    principal: Decimal, rate: Decimal, multiplier: Decimal, cap: Decimal
) -> None:
    annual = penalty_rate(annual_rate=rate, multiplier=multiplier, cost_cap_apr=cap)
    assert annual >= 0
    assert annual == 0 or rate + annual <= cap
    day = daily_penalty(
        overdue_principal=principal, annual_rate=rate, multiplier=multiplier, cost_cap_apr=cap
    )
    assert day >= 0
    assert day == day.quantize(Decimal("0.01"))
    assert abs(day - principal * annual / 365) <= Decimal("0.005")
