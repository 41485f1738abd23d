"""Behavioural features: exact DPD on worked examples, the direction of every feature for
better and worse payers, point-in-time honesty and missing values."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.domain.features import (
    BEHAVIOUR_FEATURES,
    add_months,
    features_as_of,
    max_dpd_between,
)
from scoring.domain.history import AlertPoint, Allocation, BureauPoint, Instalment, LoanHistory

DISBURSED = date(2025, 1, 10)
PRINCIPAL, INTEREST = Decimal("1000.00"), Decimal("100.00")


def make_schedule(*, count: int = 6, first_due: date | None = None) -> tuple[Instalment, ...]:
    """``count`` monthly instalments of 1000 principal + 100 interest."""
    first = first_due or add_months(DISBURSED, 1)
    return tuple(
        Instalment(s, add_months(first, s - 1), PRINCIPAL, PRINCIPAL + INTEREST)
        for s in range(1, count + 1)
    )


def pay(seq: int, on: date, share: str = "1", *, payment_id: str | None = None) -> Allocation:
    """A payment of ``share`` of one instalment: interest first, then principal."""
    total = ((PRINCIPAL + INTEREST) * Decimal(share)).quantize(Decimal("0.01"))
    return Allocation(
        payment_id or f"P{seq}-{on}", seq, on, max(total - INTEREST, Decimal(0)), total
    )


def reverse(allocation: Allocation, on: date) -> Allocation:
    return Allocation(
        allocation.payment_id, allocation.seq, on, -allocation.principal, -allocation.total
    )


def make_history(
    *,
    instalments: tuple[Instalment, ...] | None = None,
    allocations: tuple[Allocation, ...] = (),
    bureau: tuple[BureauPoint, ...] = (),
    alerts: tuple[AlertPoint, ...] = (),
    disbursed_on: date = DISBURSED,
) -> LoanHistory:
    lines = make_schedule() if instalments is None else instalments
    principal = sum((i.principal for i in lines), Decimal(0))
    return LoanHistory("L1", principal, disbursed_on, lines, allocations, bureau, alerts)


def one_instalment(*allocations: Allocation, due_on: date = date(2025, 3, 10)) -> LoanHistory:
    return make_history(
        instalments=make_schedule(count=1, first_due=due_on), allocations=allocations
    )


def bureau_point(on: date, score: int, *, inquiries: int = 0, delinquent: int = 0) -> BureauPoint:
    return BureauPoint(on, score, inquiries, 1, delinquent)


def known(values: dict[str, float | None], name: str) -> float:
    value = values[name]
    assert value is not None, name
    return value


# --- days past due on worked examples ----------------------------------------------------------


def test_an_instalment_paid_late_is_past_due_every_day_until_the_day_it_is_paid() -> None:
    history = one_instalment(pay(1, date(2025, 3, 25)))
    assert features_as_of(history, date(2025, 3, 10))["dpd_now"] == 0  # the due date itself
    assert features_as_of(history, date(2025, 3, 24))["dpd_now"] == 14
    assert features_as_of(history, date(2025, 3, 25))["dpd_now"] == 0
    assert max_dpd_between(history, date(2025, 3, 1), date(2025, 3, 31)) == 14


def test_a_payment_booked_after_the_day_is_not_known_on_it() -> None:
    history = one_instalment(pay(1, date(2025, 3, 25)))
    values = features_as_of(history, date(2025, 3, 20))
    assert values["dpd_now"] == 10
    assert values["outstanding_ratio"] == 1.0
    assert values["paid_to_due_3"] == 0.0


def test_a_reversal_reopens_the_instalment_from_the_day_it_is_booked() -> None:
    paid = pay(1, date(2025, 3, 10))
    history = one_instalment(paid, reverse(paid, date(2025, 4, 1)), pay(1, date(2025, 4, 20)))
    assert features_as_of(history, date(2025, 3, 31))["dpd_now"] == 0
    assert features_as_of(history, date(2025, 4, 1))["dpd_now"] == 22
    assert features_as_of(history, date(2025, 4, 19))["dpd_now"] == 40
    assert features_as_of(history, date(2025, 4, 20))["dpd_now"] == 0
    assert max_dpd_between(history, date(2025, 3, 1), date(2025, 4, 30)) == 40
    assert max_dpd_between(history, date(2025, 3, 1), date(2025, 3, 31)) == 0


def test_a_reversed_payment_did_not_pay_the_instalment_on_time_once_the_reversal_is_known() -> None:
    paid = pay(1, date(2025, 3, 10))
    history = one_instalment(paid, reverse(paid, date(2025, 4, 1)), pay(1, date(2025, 4, 20)))
    assert features_as_of(history, date(2025, 3, 31))["missed_instalments"] == 0
    assert features_as_of(history, date(2025, 4, 25))["missed_instalments"] == 1


def test_dpd_counts_from_the_oldest_instalment_still_open() -> None:
    history = make_history(allocations=(pay(1, date(2025, 3, 20)),))
    assert features_as_of(history, date(2025, 3, 19))["dpd_now"] == 37  # since 10 February
    assert features_as_of(history, date(2025, 3, 20))["dpd_now"] == 10  # since 10 March


def test_an_instalment_paid_in_two_parts_is_open_until_the_second() -> None:
    first = Allocation("P1", 1, date(2025, 3, 10), Decimal("450.00"), Decimal("550.00"))
    second = Allocation("P2", 1, date(2025, 3, 15), Decimal("550.00"), Decimal("550.00"))
    history = one_instalment(first, second)
    assert max_dpd_between(history, date(2025, 3, 1), date(2025, 3, 31)) == 4


def test_a_day_late_is_a_missed_instalment_but_never_past_due_at_the_close() -> None:
    history = one_instalment(pay(1, date(2025, 3, 11)))
    values = features_as_of(history, date(2025, 3, 31))
    assert values["missed_instalments"] == 1
    assert values["max_dpd_3m"] == 0


def test_a_window_of_months_holds_the_days_after_its_start_up_to_the_day() -> None:
    # open from 10 January to 8 February: 29 days past due on 8 February, its worst day
    history = one_instalment(pay(1, date(2025, 2, 9)), due_on=date(2025, 1, 10))
    assert features_as_of(history, date(2025, 5, 7))["max_dpd_3m"] == 29  # (7 Feb, 7 May]
    assert features_as_of(history, date(2025, 5, 8))["max_dpd_3m"] == 0  # (8 Feb, 8 May]
    assert features_as_of(history, date(2025, 5, 8))["max_dpd_6m"] == 29
    assert features_as_of(history, date(2025, 8, 8))["max_dpd_6m"] == 0
    assert features_as_of(history, date(2025, 8, 8))["max_dpd_12m"] == 29


def test_max_dpd_between_includes_both_ends() -> None:
    history = one_instalment(pay(1, date(2025, 2, 9)), due_on=date(2025, 1, 10))
    assert max_dpd_between(history, date(2025, 2, 8), date(2025, 3, 1)) == 29
    assert max_dpd_between(history, date(2025, 2, 9), date(2025, 3, 1)) == 0
    assert max_dpd_between(history, date(2025, 1, 20), date(2025, 1, 25)) == 15


# --- better and worse payers --------------------------------------------------------------------

AS_OF = date(2025, 8, 15)
DUE = [i.due_on for i in make_schedule()]
PAYERS = {
    "on_time": make_history(allocations=tuple(pay(s, d) for s, d in enumerate(DUE, 1))),
    "late": make_history(
        allocations=tuple(pay(s, d + timedelta(days=20)) for s, d in enumerate(DUE, 1))
    ),
    "partial": make_history(allocations=tuple(pay(s, d, "0.5") for s, d in enumerate(DUE, 1))),
    "stopped": make_history(allocations=tuple(pay(s, d) for s, d in enumerate(DUE[:2], 1))),
}
REPAYMENT_FEATURES = (
    "dpd_now",
    "max_dpd_3m",
    "max_dpd_6m",
    "max_dpd_12m",
    "missed_instalments",
    "paid_to_due_3",
    "paid_to_due_6",
    "outstanding_ratio",
)


def test_each_payer_gets_the_hand_worked_values() -> None:
    values = {name: features_as_of(h, AS_OF) for name, h in PAYERS.items()}
    assert [values[n]["dpd_now"] for n in PAYERS] == [0, 0, 186, 127]
    assert [values[n]["max_dpd_6m"] for n in PAYERS] == [0, 19, 186, 127]
    assert [values[n]["missed_instalments"] for n in PAYERS] == [0, 6, 6, 4]
    assert [values[n]["paid_to_due_3"] for n in PAYERS] == [1.0, 1.0, 0.5, 0.0]
    assert values["stopped"]["paid_to_due_6"] == pytest.approx(1 / 3)
    assert values["stopped"]["paid_to_due_trend"] == pytest.approx(0 - 2 / 3)
    assert values["partial"]["outstanding_ratio"] == pytest.approx(0.55)


@pytest.mark.parametrize(
    ("better", "worse"),
    [
        ("on_time", "late"),
        ("on_time", "partial"),
        ("on_time", "stopped"),
        ("late", "partial"),
    ],
)
def test_worse_repayment_never_gives_a_better_value_of_a_repayment_feature(
    better: str, worse: str
) -> None:
    good, bad = features_as_of(PAYERS[better], AS_OF), features_as_of(PAYERS[worse], AS_OF)
    trends = {f.name: f.trend for f in BEHAVIOUR_FEATURES}
    for name in REPAYMENT_FEATURES:
        g, b = known(good, name), known(bad, name)
        assert b >= g if trends[name] == "ascending" else b <= g, name
    assert any(good[n] != bad[n] for n in REPAYMENT_FEATURES)


def test_stopping_is_worse_than_paying_late_on_days_past_due_and_money_paid() -> None:
    late, stopped = features_as_of(PAYERS["late"], AS_OF), features_as_of(PAYERS["stopped"], AS_OF)
    for name in ("dpd_now", "max_dpd_3m", "max_dpd_6m", "outstanding_ratio"):
        assert known(stopped, name) > known(late, name)
    assert known(stopped, "paid_to_due_6") < known(late, "paid_to_due_6")


def test_paying_less_and_less_gives_a_falling_paid_to_due_trend() -> None:
    allocations = tuple(pay(s, d, "1" if s <= 3 else "0.5") for s, d in enumerate(DUE, 1))
    values = features_as_of(make_history(allocations=allocations), AS_OF)
    assert values["paid_to_due_trend"] == -0.5
    assert values["paid_to_due_6"] == 0.75


# --- the other features -------------------------------------------------------------------------


def test_the_values_come_in_the_order_of_the_feature_specs() -> None:
    values = features_as_of(PAYERS["on_time"], AS_OF)
    assert list(values) == [f.name for f in BEHAVIOUR_FEATURES]


def test_months_on_book_counts_whole_months_to_the_month_end() -> None:
    history = make_history(disbursed_on=date(2025, 1, 31))
    assert features_as_of(history, date(2025, 2, 27))["months_on_book"] == 0
    assert features_as_of(history, date(2025, 2, 28))["months_on_book"] == 1
    assert features_as_of(history, date(2026, 1, 31))["months_on_book"] == 12


def test_bureau_features_come_from_the_latest_report_known_and_the_one_before() -> None:
    bureau = (
        bureau_point(date(2025, 3, 1), 640),
        bureau_point(date(2025, 1, 1), 700, inquiries=1),
        bureau_point(date(2025, 2, 1), 680, inquiries=4, delinquent=2),
        bureau_point(date(2025, 4, 1), 500),
    )
    values = features_as_of(make_history(bureau=bureau), date(2025, 3, 15))
    assert values["bureau_score"] == 640
    assert values["bureau_score_change"] == -40
    assert values["inquiries_30d"] == 0
    feb = features_as_of(make_history(bureau=bureau), date(2025, 2, 1))
    assert feb["bureau_score_change"] == -20
    assert (feb["inquiries_30d"], feb["delinquent_accounts_elsewhere"]) == (4, 2)


def test_alerts_count_when_raised_in_the_last_90_days() -> None:
    as_of = date(2025, 6, 30)
    alerts = tuple(AlertPoint(as_of - timedelta(days=d), "dpd_jump") for d in (-1, 0, 89, 90, 200))
    assert features_as_of(make_history(alerts=alerts), as_of)["alerts_90d"] == 2


def test_what_is_not_known_yet_is_missing_rather_than_zero() -> None:
    values = features_as_of(make_history(), date(2025, 2, 1))  # nothing due, no bureau report
    unknown = ("paid_to_due_3", "paid_to_due_6", "paid_to_due_trend", "bureau_score")
    assert all(values[name] is None for name in unknown)
    assert values["bureau_score_change"] is None
    assert values["inquiries_30d"] is None
    assert values["delinquent_accounts_elsewhere"] is None
    assert (values["dpd_now"], values["missed_instalments"], values["alerts_90d"]) == (0, 0, 0)
    assert values["outstanding_ratio"] == 1.0


def test_one_report_gives_a_score_but_no_change_and_five_instalments_no_trend() -> None:
    history = make_history(bureau=(bureau_point(date(2025, 1, 10), 700),))
    values = features_as_of(history, date(2025, 7, 1))  # five instalments have fallen due
    assert values["bureau_score"] == 700
    assert values["bureau_score_change"] is None
    assert values["paid_to_due_6"] == 0.0
    assert values["paid_to_due_trend"] is None


# --- point in time ------------------------------------------------------------------------------

START = date(2025, 1, 1)
offsets = st.integers(min_value=0, max_value=500)


@st.composite
def histories(draw: st.DrawFn) -> LoanHistory:
    """Loans with payments, partial payments, reversals, reports and alerts on random days."""
    lines = make_schedule(count=draw(st.integers(1, 12)), first_due=START + timedelta(days=31))
    allocations: list[Allocation] = []
    for n in range(draw(st.integers(0, 14))):
        seq, share = draw(st.integers(1, len(lines))), draw(st.sampled_from(["0.3", "0.5", "1"]))
        paid = pay(seq, START + timedelta(draw(offsets)), share, payment_id=f"P{n}")
        allocations.append(paid)
        if draw(st.booleans()) and draw(st.booleans()):
            allocations.append(reverse(paid, paid.booked_on + timedelta(draw(offsets))))
    bureau = tuple(
        bureau_point(START + timedelta(draw(offsets)), draw(st.integers(300, 900)))
        for _ in range(draw(st.integers(0, 6)))
    )
    alerts = tuple(
        AlertPoint(START + timedelta(draw(offsets)), "rule") for _ in range(draw(st.integers(0, 3)))
    )
    return make_history(
        instalments=lines, allocations=tuple(allocations), bureau=bureau, alerts=alerts
    )


@settings(max_examples=200, deadline=None)
@given(history=histories(), day=offsets)
def test_the_features_on_a_day_depend_only_on_what_was_known_that_day(
    history: LoanHistory, day: int
) -> None:
    as_of = START + timedelta(days=day)
    assert features_as_of(history, as_of) == features_as_of(history.as_known_on(as_of), as_of)


def dpd_by_brute_force(history: LoanHistory, day: date) -> int:
    """DPD on one day straight from the definition, as known at its close."""
    known = history.as_known_on(day).allocations
    open_dues = [
        i.due_on
        for i in history.instalments
        if i.due_on <= day
        and not (
            sum((a.total for a in known if a.seq == i.seq), Decimal(0)) >= i.due
            and sum((a.principal for a in known if a.seq == i.seq), Decimal(0)) >= i.principal
        )
    ]
    return (day - min(open_dues)).days if open_dues else 0


@settings(max_examples=100, deadline=None)
@given(history=histories(), first=offsets, length=st.integers(0, 120))
def test_max_dpd_between_is_the_worst_of_the_days_counted_one_by_one(
    history: LoanHistory, first: int, length: int
) -> None:
    start = START + timedelta(days=first)
    end = start + timedelta(days=length)
    days = (start + timedelta(days=k) for k in range(length + 1))
    assert max_dpd_between(history, start, end) == max(dpd_by_brute_force(history, d) for d in days)
