"""Each early-warning rule fires on a constructed history and stays quiet on a control one."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from monitoring.domain import rules
from monitoring.domain.bureau import BureauFacts
from monitoring.domain.rules import (
    RULES,
    BrokenPromise,
    ContactState,
    FiredAlert,
    InstalmentFacts,
    InvalidParams,
    PaymentWindow,
    first_per_loan,
    parse_params,
)

D = Decimal
JAN = datetime(2026, 1, 10, 12, tzinfo=UTC)
FEB = datetime(2026, 2, 10, 12, tzinfo=UTC)


def defaults(rule: str) -> dict[str, int]:
    return RULES[rule].defaults


def window(*amounts: str, due: str = "1066.19") -> PaymentWindow:
    return PaymentWindow(
        loan_id="L-1",
        booked_on=date(2026, 5, 15),
        payment_ids=tuple(f"P-{n}" for n in range(len(amounts))),
        amounts=tuple(D(a) for a in amounts),
        amount_due=D(due),
    )


def instalment(*, paid: str, due: str = "1066.19", seq: int = 1) -> InstalmentFacts:
    return InstalmentFacts(
        loan_id="L-1",
        seq=seq,
        due_on=date(2026, 2, 15),
        amount_due=D(due),
        paid=D(paid),
        evaluated_on=date(2026, 2, 22),
        dpd=7,
    )


def report(
    *, at: datetime = FEB, score: int = 700, inquiries: int = 1, loans: int = 2, delinquent: int = 0
) -> BureauFacts:
    return BureauFacts(at, score, inquiries, loans, D("20000.00"), delinquent)


# --- shrinking repayments ------------------------------------------------------------------


def test_shrinking_repayments_fires_when_each_payment_is_smaller_and_the_last_below_x_pct() -> None:
    evidence = rules.shrinking_repayments(
        window("1066.19", "800.00", "500.00"), defaults("shrinking_repayments")
    )
    assert evidence == {
        "payment_ids": ["P-0", "P-1", "P-2"],
        "amounts": ["1066.19", "800.00", "500.00"],
        "amount_due": "1066.19",
        "last_pct_of_due": "46.90",
        "below_due_pct": 50,
    }


@pytest.mark.parametrize(
    "amounts",
    [
        ("1066.19", "800.00", "800.00"),  # not strictly smaller
        ("500.00", "800.00", "400.00"),  # grew once
        ("1066.19", "800.00", "600.00"),  # the last one is 56% of due
        ("800.00", "400.00"),  # too few payments
    ],
)
def test_shrinking_repayments_stays_quiet_otherwise(amounts: tuple[str, ...]) -> None:
    assert rules.shrinking_repayments(window(*amounts), defaults("shrinking_repayments")) is None


def test_shrinking_repayments_looks_only_at_the_last_n_payments() -> None:
    history = window("100.00", "1066.19", "900.00", "300.00")
    assert rules.shrinking_repayments(history, defaults("shrinking_repayments")) is not None
    assert rules.shrinking_repayments(history, {"payments": 4, "below_due_pct": 50}) is None


# --- instalment rules ----------------------------------------------------------------------


def test_partial_payment_at_due_fires_on_a_part_paid_instalment() -> None:
    evidence = rules.partial_payment_at_due(instalment(paid="600.00"), {"grace_days": 0})
    assert evidence == {
        "seq": 1,
        "due_on": "2026-02-15",
        "amount_due": "1066.19",
        "paid": "600.00",
        "shortfall": "466.19",
        "grace_days": 0,
    }


@pytest.mark.parametrize("paid", ["0.00", "1066.19", "1100.00"])
def test_partial_payment_at_due_stays_quiet_when_unpaid_or_paid_in_full(paid: str) -> None:
    assert rules.partial_payment_at_due(instalment(paid=paid), {"grace_days": 0}) is None


@pytest.mark.parametrize("paid", ["0.00", "1000.00"])
def test_first_payment_default_fires_while_the_first_instalment_is_not_fully_paid(
    paid: str,
) -> None:
    evidence = rules.first_payment_default(instalment(paid=paid), {"days_after_due": 7})
    assert evidence is not None
    assert (evidence["paid"], evidence["dpd"], evidence["days_after_due"]) == (paid, 7, 7)


def test_first_payment_default_stays_quiet_when_the_first_instalment_is_paid() -> None:
    assert rules.first_payment_default(instalment(paid="1066.19"), {"days_after_due": 7}) is None


# --- bureau rules --------------------------------------------------------------------------


def test_bureau_score_drop_fires_on_a_drop_of_at_least_k_points() -> None:
    evidence = rules.bureau_score_drop(
        report(score=650), report(at=JAN, score=700), {"min_drop_points": 50}
    )
    assert evidence == {
        "reported_at": FEB.isoformat(),
        "score": 650,
        "previous_reported_at": JAN.isoformat(),
        "previous_score": 700,
        "drop": 50,
    }


@pytest.mark.parametrize(("previous", "current"), [(700, 651), (700, 760), (None, 300)])
def test_bureau_score_drop_stays_quiet_on_a_small_drop_a_rise_or_a_first_report(
    previous: int | None, current: int
) -> None:
    before = None if previous is None else report(at=JAN, score=previous)
    assert rules.bureau_score_drop(report(score=current), before, {"min_drop_points": 50}) is None


def test_multi_lending_fires_on_many_inquiries_or_new_loans_elsewhere() -> None:
    params = defaults("multi_lending")
    inquiries = rules.multi_lending(report(inquiries=6), report(at=JAN), params)
    new_loans = rules.multi_lending(report(loans=4), report(at=JAN, loans=2), params)
    assert inquiries is not None
    assert inquiries["reasons"] == ["inquiries_30d"]
    assert new_loans is not None
    assert (new_loans["reasons"], new_loans["new_open_loans"]) == (["new_open_loans"], 2)


def test_multi_lending_stays_quiet_on_few_inquiries_and_few_new_loans() -> None:
    params = defaults("multi_lending")
    assert rules.multi_lending(report(inquiries=5, loans=3), report(at=JAN), params) is None
    assert rules.multi_lending(report(inquiries=5, loans=9), None, params) is None


def test_delinquency_elsewhere_fires_on_delinquent_accounts_only() -> None:
    params = defaults("delinquency_elsewhere")
    evidence = rules.delinquency_elsewhere(report(delinquent=2), params)
    assert evidence is not None
    assert evidence["delinquent_accounts"] == 2
    assert rules.delinquency_elsewhere(report(delinquent=0), params) is None


# --- contact and promises ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phone_valid", "email_valid", "has_email", "fires"),
    [
        (False, False, True, True),
        (False, True, False, True),  # no e-mail on file: no channel left
        (False, True, True, False),
        (True, False, True, False),
    ],
)
def test_contact_lost_fires_only_when_no_channel_is_left(
    phone_valid: bool, email_valid: bool, has_email: bool, fires: bool
) -> None:
    state = ContactState(phone_valid, email_valid, has_email, FEB)
    assert (rules.contact_lost(state) is not None) is fires


def test_broken_promise_carries_the_promise() -> None:
    evidence = rules.broken_promise(BrokenPromise("p-1", D("500.00"), date(2026, 3, 1)))
    assert evidence == {
        "promise_id": "p-1",
        "promised_amount": "500.00",
        "promised_on": "2026-03-01",
    }


# --- parameters and the one-open-alert rule ------------------------------------------------


def test_parameters_start_from_the_base_and_are_checked() -> None:
    rule = RULES["shrinking_repayments"]
    assert parse_params(rule, {"payments": 4}, {"payments": 3, "below_due_pct": 40}) == {
        "payments": 4,
        "below_due_pct": 40,
    }
    with pytest.raises(InvalidParams) as raised:
        parse_params(rule, {"payments": 1, "below_due_pct": True, "other": 3}, {})
    assert sorted(f for f, _ in raised.value.errors) == [
        "params.below_due_pct",
        "params.other",
        "params.payments",
    ]


def test_every_rule_has_defaults_inside_its_bounds() -> None:
    for rule in RULES.values():
        assert parse_params(rule, {}, {}) == rule.defaults


def test_only_the_first_hit_per_loan_would_be_raised() -> None:
    hits = [
        FiredAlert("L-2", date(2026, 3, 2), {}),
        FiredAlert("L-1", date(2026, 3, 1), {"n": 1}),
        FiredAlert("L-1", date(2026, 3, 3), {"n": 2}),
    ]
    assert first_per_loan(hits) == [hits[1], hits[0]]
