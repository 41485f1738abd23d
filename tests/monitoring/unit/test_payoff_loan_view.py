"""The loan view's balances on the business date (``schemas.loan_public``), without I/O."""

from datetime import date
from decimal import Decimal
from typing import Any

from monitoring.entrypoints.api.schemas import loan_public
from monitoring.service_layer.loans import LoanRecord, dues_from

D = Decimal


def instalment(seq: int, due_on: date, **paid: str) -> dict[str, Any]:
    row: dict[str, Any] = {
        "seq": seq,
        "due_on": due_on,
        "principal": D("1000.00"),
        "interest": D("100.00"),
        "fees": D("10.00"),
        "penalty": D("0.00"),
    }
    for part in ("principal", "interest", "fees", "penalty"):
        row[f"paid_{part}"] = D(paid.get(part, "0.00"))
    return row


def loan(schedule: list[dict[str, Any]], status: str = "active") -> LoanRecord:
    return LoanRecord(
        loan_id="L-1",
        borrower_id="B-1",
        product="default",
        status=status,
        principal=D("3000.00"),
        currency="CNY",
        annual_rate=D("0.12"),
        term_months=3,
        repayment_method="equal_principal",
        disbursed_on=date(2026, 1, 15),
        first_due_on=date(2026, 2, 15),
        dpd=0,
        bucket="C",
        schedule=tuple(dues_from(schedule, disbursed_on=date(2026, 1, 15))),
    )


def schedule() -> list[dict[str, Any]]:
    late = instalment(1, date(2026, 2, 15), fees="10.00", interest="40.00")
    late["penalty"] = D("6.00")
    partly = instalment(2, date(2026, 3, 15), penalty="0.00", fees="10.00", interest="20.00")
    return [late, partly, instalment(3, date(2026, 4, 15))]


def test_the_view_owes_interest_and_fees_only_of_instalments_due_by_the_business_date() -> None:
    view = loan_public(loan(schedule()), business_date=date(2026, 3, 1))
    balance = {k: str(v) for k, v in view.outstanding.model_dump().items()}
    assert balance == {
        "principal": "3000.00",
        "interest": "60.00",  # instalment 1 only: 100.00 − 40.00
        "penalty": "6.00",
        "fees": "0.00",
        "total": "3066.00",
    }
    assert [i.status for i in view.schedule] == ["overdue", "partial", "due"]


def test_an_instalment_is_paid_only_with_its_penalty_and_paid_includes_the_penalty() -> None:
    rows = schedule()
    rows[0] |= {
        "paid_principal": D("1000.00"),
        "paid_interest": D("100.00"),
        "paid_fees": D("10.00"),
    }
    assert loan_public(loan(rows), business_date=date(2026, 3, 1)).schedule[0].status == "overdue"
    rows[0]["paid_penalty"] = D("6.00")
    view = loan_public(loan(rows), business_date=date(2026, 3, 1))
    assert (view.schedule[0].status, view.schedule[0].paid) == ("paid", D("1116.00"))


def test_a_due_date_equal_to_the_business_date_is_due_not_overdue() -> None:
    view = loan_public(loan(schedule()), business_date=date(2026, 2, 15))
    assert view.schedule[0].status == "partial"
    assert view.outstanding.interest == D("60.00")


def test_a_settled_loan_owes_nothing_and_its_unpaid_instalments_are_waived() -> None:
    view = loan_public(loan(schedule(), status="settled"), business_date=date(2026, 5, 1))
    assert view.outstanding.total == D("0.00")
    assert [i.status for i in view.schedule] == ["waived", "waived", "waived"]
