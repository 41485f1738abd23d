"""The plan of a simulated portfolio: what happens on each day, with no I/O.

Each borrower has a latent risk (0 good … 1 bad) drawn once; it sets the loan's behaviour and
each instalment's outcome: paid on time (or a few days early), late, partially, missed, or
cured (the arrears paid with a later instalment); borrowers who stop paying may cure later.
Bureau reports come at disbursement and monthly, their score falling with risk and with the
instalments missed so far. Everything is drawn from generators seeded by ``(seed, loan)``, so a
plan is the same for the same seed whatever else changes.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from simulator.contract import CENT, Instalment, add_months, schedule

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ("伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛")
TERMS = (3, 6, 6, 12, 12, 12, 24)
RATES = ("0.0720", "0.0999", "0.1200", "0.1500", "0.1800", "0.2400")
METHODS = ("annuity", "annuity", "annuity", "equal_principal", "interest_only")


class Outcome(StrEnum):
    ON_TIME = "on_time"
    LATE = "late"
    PARTIAL = "partial"
    MISSED = "missed"
    CURED = "cured"


@dataclass(frozen=True)
class Payment:
    day: date
    payment_id: str
    loan_id: str
    amount: Decimal
    outcome: Outcome

    def body(self) -> dict[str, Any]:
        return {
            "payment_id": self.payment_id,
            "loan_id": self.loan_id,
            "amount": str(self.amount),
            "currency": "CNY",
            "paid_at": f"{self.day.isoformat()}T10:00:00+08:00",
            "channel": "app",
        }


@dataclass(frozen=True)
class BureauReport:
    day: date
    borrower_id: str
    score: int
    inquiries_30d: int
    open_loans: int
    total_debt: Decimal
    delinquent_accounts: int

    def body(self) -> dict[str, Any]:
        return {
            "borrower_id": self.borrower_id,
            "reported_at": f"{self.day.isoformat()}T08:00:00+08:00",
            "score": self.score,
            "inquiries_30d": self.inquiries_30d,
            "open_loans": self.open_loans,
            "total_debt": str(self.total_debt),
            "delinquent_accounts": self.delinquent_accounts,
        }


@dataclass(frozen=True)
class Loan:
    loan_id: str
    risk: float
    registration: dict[str, Any]
    disbursed_on: date
    outcomes: tuple[Outcome, ...]  # of each instalment due within the plan
    payments: tuple[Payment, ...]
    reports: tuple[BureauReport, ...]


@dataclass
class Day:
    """One business day: what arrives, then end of day for it."""

    day: date
    registrations: list[dict[str, Any]] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    reports: list[BureauReport] = field(default_factory=list)


@dataclass(frozen=True)
class Plan:
    start: date
    end: date  # exclusive: the business date once the plan has run
    loans: tuple[Loan, ...]

    def days(self) -> Iterator[Day]:
        """The days in order, each with its events (registrations first)."""
        by_day: dict[date, Day] = {}
        for loan in self.loans:
            self._day(by_day, loan.disbursed_on).registrations.append(loan.registration)
            for p in loan.payments:
                self._day(by_day, p.day).payments.append(p)
            for r in loan.reports:
                self._day(by_day, r.day).reports.append(r)
        day = self.start
        while day < self.end:
            yield by_day.get(day, Day(day))
            day += timedelta(days=1)

    @staticmethod
    def _day(by_day: dict[date, Day], day: date) -> Day:
        return by_day.setdefault(day, Day(day))

    @property
    def day_count(self) -> int:
        return (self.end - self.start).days


def make_plan(*, loans: int, months: int, seed: int, start: date) -> Plan:
    """A portfolio of ``loans`` disbursed over the first half of ``months`` months from ``start``.

    The first loan is disbursed on ``start`` so that an empty platform's business date starts
    there.
    """
    end = add_months(start, months)
    window = max(1, (end - start).days // 2)
    made = tuple(_loan(seed, n, start, window, end) for n in range(loans))
    return Plan(start, end, made)


def _loan(seed: int, n: int, start: date, window: int, end: date) -> Loan:
    rng = random.Random(f"{seed}:{n}")
    risk = rng.betavariate(1.3, 6.0)
    loan_id, borrower_id = f"SIM{seed}-L{n:06d}", f"SIM{seed}-B{n:06d}"
    disbursed_on = start if n == 0 else start + timedelta(days=rng.randrange(window))
    principal = Decimal(rng.randrange(10, 500) * 100).quantize(CENT)
    term, rate, method = rng.choice(TERMS), rng.choice(RATES), rng.choice(METHODS)
    registration = {
        "loan_id": loan_id,
        "borrower": {
            "borrower_id": borrower_id,
            "name": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
            "phone": f"+86139{rng.randrange(10**8):08d}",
            "email": f"{borrower_id.lower()}@example.com",
            "time_zone": "Asia/Shanghai",
        },
        "principal": str(principal),
        "currency": "CNY",
        "annual_rate": rate,
        "term_months": term,
        "repayment_method": method,
        "disbursed_on": disbursed_on.isoformat(),
    }
    lines = schedule(principal, Decimal(rate), term, method, add_months(disbursed_on, 1))
    due = [i for i in lines if i.due_on < end]
    outcomes, payments = _repayments(rng, risk, loan_id, due, disbursed_on, end)
    reports = _reports(rng, risk, borrower_id, principal, disbursed_on, end, payments, due)
    return Loan(loan_id, risk, registration, disbursed_on, outcomes, payments, reports)


def _repayments(
    rng: random.Random,
    risk: float,
    loan_id: str,
    due: list[Instalment],
    disbursed_on: date,
    end: date,
) -> tuple[tuple[Outcome, ...], tuple[Payment, ...]]:
    stops_at = rng.randrange(len(due) + 1) if rng.random() < risk else None
    cures = rng.random() < 0.5
    arrears, outcomes, payments = Decimal("0.00"), [], []
    for i in due:
        stopped = stops_at is not None and i.seq > stops_at
        if stopped and cures and arrears > 0 and rng.random() < 0.35:
            stops_at, stopped = None, False  # back on track
        u = rng.random()
        if stopped or u < 0.08 * risk:
            outcome, day, amount = Outcome.MISSED, None, Decimal("0.00")
        elif arrears > 0:
            outcome, day, amount = Outcome.CURED, i.due_on, i.amount + arrears
        elif u < 0.25 * risk + 0.02:
            share = Decimal(rng.randrange(30, 80)) / 100
            outcome, day, amount = Outcome.PARTIAL, i.due_on, (i.amount * share).quantize(CENT)
        elif u < 0.6 * risk + 0.06:
            outcome, day, amount = (
                Outcome.LATE,
                i.due_on + timedelta(rng.randrange(1, 25)),
                i.amount,
            )
        else:
            early = timedelta(days=rng.randrange(0, 4))
            outcome, day, amount = Outcome.ON_TIME, max(i.due_on - early, disbursed_on), i.amount
        arrears += i.amount - amount  # a cure pays the arrears too: back to zero
        outcomes.append(outcome)
        if day is not None and day < end and amount > 0:
            pid = f"{loan_id}-P{i.seq:03d}"
            payments.append(Payment(day, pid, loan_id, amount, outcome))
    return tuple(outcomes), tuple(payments)


def _reports(
    rng: random.Random,
    risk: float,
    borrower_id: str,
    principal: Decimal,
    disbursed_on: date,
    end: date,
    payments: tuple[Payment, ...],
    due: list[Instalment],
) -> tuple[BureauReport, ...]:
    reports, day = [], disbursed_on
    while day < end:
        missed = sum(1 for i in due if i.due_on < day) - sum(1 for p in payments if p.day < day)
        score = int(780 - 380 * risk - 25 * max(missed, 0) + rng.gauss(0, 12))
        reports.append(
            BureauReport(
                day,
                borrower_id,
                min(max(score, 300), 900),
                inquiries_30d=int(rng.expovariate(1 / (0.5 + 8 * risk))),
                open_loans=1 + int(rng.expovariate(1 / (0.5 + 4 * risk))),
                total_debt=(
                    principal * Decimal(str(round(1 + 3 * risk * rng.random(), 2)))
                ).quantize(CENT),
                delinquent_accounts=int(rng.random() < risk * 0.6) + int(missed > 1),
            )
        )
        day += timedelta(days=30)
    return tuple(reports)
