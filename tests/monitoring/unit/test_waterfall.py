from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest

from monitoring.domain.payoff import Due, Part, Parts
from monitoring.domain.schedule import build_schedule
from monitoring.domain.waterfall import Allocation, Ledger, Payment, replay
from shared.types import RepaymentMethod

D = Decimal
DISBURSED = date(2026, 1, 15)


def dues(*, penalty: dict[int, str] | None = None, fees: dict[int, str] | None = None) -> list[Due]:
    """12,000.00 at 12% over 12 months, annuity (instalment 1,066.19), first due 2026-02-15."""
    lines = build_schedule(
        principal=D("12000.00"),
        annual_rate=D("0.12"),
        term_months=12,
        method=RepaymentMethod.ANNUITY,
        first_due_on=date(2026, 2, 15),
    )
    result, starts_on = [], DISBURSED
    for line in lines:
        owed = Parts(
            penalty=D((penalty or {}).get(line.seq, "0.00")),
            fees=D((fees or {}).get(line.seq, "0.00")),
            interest=line.interest,
            principal=line.principal,
        )
        result.append(Due(line.seq, starts_on, line.due_on, owed))
        starts_on = line.due_on
    return result


def pay(amount: str, on: date, payment_id: str = "P-1") -> Payment:
    return Payment(payment_id, D(amount), datetime.combine(on, time(10), UTC), on)


def lines(allocation: Allocation) -> dict[int, tuple[str, ...]]:
    """seq → (penalty, fees, interest, principal) as strings, for readable assertions."""
    return {line.seq: tuple(str(line.paid[p]) for p in Part) for line in allocation.lines}


def test_an_instalment_paid_the_day_before_it_falls_due_pays_its_interest_then_principal() -> None:
    [allocation] = replay(dues(), [pay("1066.19", date(2026, 2, 14))])
    assert lines(allocation) == {1: ("0.00", "0.00", "120.00", "946.19")}
    assert allocation.unapplied == D("0.00")
    assert not allocation.settles


def test_penalty_is_paid_first_then_fees_then_interest_then_principal() -> None:
    overdue = dues(penalty={1: "12.34"}, fees={1: "5.00"})
    [allocation] = replay(overdue, [pay("1083.53", date(2026, 2, 20))])
    assert lines(allocation) == {1: ("12.34", "5.00", "120.00", "946.19")}


def test_a_partial_payment_stops_inside_the_waterfall() -> None:
    overdue = dues(penalty={1: "12.34"}, fees={1: "5.00"})
    [allocation] = replay(overdue, [pay("100.00", date(2026, 2, 20))])
    assert lines(allocation) == {1: ("12.34", "5.00", "82.66", "0.00")}


def test_a_product_can_order_the_parts_its_own_way() -> None:
    overdue = dues(penalty={1: "12.34"}, fees={1: "5.00"})
    order = (Part.PRINCIPAL, Part.INTEREST, Part.FEES, Part.PENALTY)
    [allocation] = replay(overdue, [pay("1000.00", date(2026, 2, 20))], order=order)
    assert lines(allocation) == {1: ("0.00", "0.00", "53.81", "946.19")}


def test_the_oldest_instalment_is_paid_in_full_before_the_next() -> None:
    overdue = dues(penalty={1: "20.00", 2: "3.00"})
    [allocation] = replay(overdue, [pay("1200.00", date(2026, 3, 20))])
    assert lines(allocation) == {
        1: ("20.00", "0.00", "120.00", "946.19"),
        2: ("3.00", "0.00", "110.54", "0.27"),
    }


def test_an_overpayment_reduces_the_principal_of_the_latest_instalments_first() -> None:
    [allocation] = replay(dues(), [pay("3066.19", date(2026, 2, 14))])
    schedule = dues()
    assert lines(allocation) == {
        1: ("0.00", "0.00", "120.00", "946.19"),
        11: ("0.00", "0.00", "0.00", "944.42"),  # 2,000.00 − 1,055.58 of the last instalment
        12: ("0.00", "0.00", "0.00", str(schedule[11].owed.principal)),
    }
    assert allocation.unapplied == D("0.00")
    assert not allocation.settles


def test_an_overpayment_keeps_the_contractual_interest_of_the_instalments_it_reduces() -> None:
    ledger = Ledger(dues())
    ledger.apply(pay("3066.19", date(2026, 2, 14)))
    last = ledger.dues[-1]
    assert last.remaining == Parts(interest=D("10.56"))


def test_a_payment_covering_the_payoff_settles_with_interest_pro_rata_and_the_rest_unapplied() -> (
    None
):
    # 2026-02-14 is day 30 of the 31-day first period: 120.00 × 30 / 31 = 116.13.
    [allocation] = replay(dues(), [pay("12200.00", date(2026, 2, 14))])
    assert allocation.settles
    assert allocation.applied == Parts(interest=D("116.13"), principal=D("12000.00"))
    assert allocation.unapplied == D("83.87")
    assert lines(allocation)[1] == ("0.00", "0.00", "116.13", "946.19")
    assert lines(allocation)[12] == ("0.00", "0.00", "0.00", "1055.58")


def test_a_payment_of_exactly_the_payoff_settles_with_nothing_unapplied() -> None:
    [allocation] = replay(dues(), [pay("12116.13", date(2026, 2, 14))])
    assert (allocation.settles, allocation.unapplied) == (True, D("0.00"))


def test_one_cent_short_of_the_payoff_does_not_settle() -> None:
    [allocation] = replay(dues(), [pay("12116.12", date(2026, 2, 14))])
    assert not allocation.settles
    assert allocation.applied.total == D("12116.12")


def test_a_payment_after_the_settlement_is_unapplied_in_full() -> None:
    settle, late = pay("12116.13", date(2026, 2, 14), "P-1"), pay("50.00", date(2026, 2, 16), "P-2")
    first, second = replay(dues(), [settle, late])
    assert first.settles
    assert (second.lines, second.unapplied) == ((), D("50.00"))


def test_payments_apply_in_the_order_they_were_paid_not_the_order_given() -> None:
    early, later = pay("500.00", date(2026, 2, 1), "P-B"), pay("566.19", date(2026, 2, 10), "P-A")
    allocations = replay(dues(), [later, early])
    assert [a.payment_id for a in allocations] == ["P-B", "P-A"]
    assert lines(allocations[0]) == {1: ("0.00", "0.00", "120.00", "380.00")}


def test_a_waterfall_that_omits_a_part_is_refused() -> None:
    with pytest.raises(ValueError, match="waterfall"):
        Ledger(dues(), order=(Part.PENALTY, Part.FEES, Part.INTEREST))


def test_a_payment_on_a_late_instalment_pays_the_penalty_even_when_paid_before_its_due_date() -> (
    None
):
    # Booked late: end of day accrued penalty on instalment 2 before a payment dated earlier came.
    late = dues(penalty={1: "30.00", 2: "4.00"})
    [allocation] = replay(late, [pay("2300.00", date(2026, 2, 10))])
    assert lines(allocation)[2][0] == "4.00"
