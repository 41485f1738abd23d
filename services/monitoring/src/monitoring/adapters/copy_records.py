"""COPY text of imported loans: the rows of a chunk of loans, table by table, and their events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from monitoring.adapters.copy_schedules import PAID_NOTHING, contract_schedule
from monitoring.adapters.import_events import EventBodies
from monitoring.domain.import_fingerprints import fingerprint, registration_json
from monitoring.domain.import_history import History, applied_payments
from monitoring.domain.imports import Borrower, LoanIn, Product, ScheduleLine
from monitoring.domain.payoff import Parts

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _text(value: str | None) -> str:
    r"""A value of COPY's text format (``\N`` is NULL)."""
    return "\\N" if value is None else value.translate(_ESCAPES)


@dataclass
class Chunk:
    """COPY data of a chunk of loans, table by table, and what it holds."""

    borrowers: dict[str, str] = field(default_factory=dict)  # id → line (last one wins)
    loans: list[str] = field(default_factory=list)
    instalments: list[str] = field(default_factory=list)  # lines, or all lines of a loan
    instalment_count: int = 0
    payments: list[str] = field(default_factory=list)
    allocations: list[str] = field(default_factory=list)
    outbox: list[tuple[str, str, bytes, str]] = field(default_factory=list)

    def add(
        self,
        loan: LoanIn,
        *,
        schedule: list[ScheduleLine] | None,
        history: History | None,
        product: Product,
        events: EventBodies,
        payment_fingerprints: list[str],
        booked_on: list[date],
    ) -> None:
        """A loan's rows; ``schedule`` None is the contract's (its text is cached)."""
        loan_id = loan.loan_id
        status = "settled" if history is not None and history.settled else "active"
        b = loan.borrower
        self.borrowers[b[0]] = _borrower_line(b)
        registration = registration_json(loan)
        self.loans.append(
            f"{loan_id}\t{b[0]}\t{loan.product}\t{status}\t{loan.principal!s}\t"
            f"{loan.currency}\t{loan.annual_rate!s}\t{loan.term_months}\t{loan.method.value}\t"
            f"{loan.disbursed_on!s}\t{loan.due_from!s}\t{product.jurisdiction}\t0\tC\t"
            f"{fingerprint(registration)}\n"
        )
        contract = None
        self.instalment_count += loan.term_months if schedule is None else len(schedule)
        if schedule is None:
            contract = contract_schedule(loan, self.instalments)
        else:
            self._schedule(loan_id, schedule, history.paid if history is not None else {})
        if history is not None:
            self._add_history(loan, history, payment_fingerprints, booked_on)
        event_id, body = events.body(
            loan, registration, status=status, jurisdiction=product.jurisdiction, schedule=contract
        )
        self.outbox.append((event_id, events.subject, body, events.headers))
        if history is not None:  # after the loan's event: consumers learn of the loan first
            for applied in applied_payments(loan, schedule or [], history, booked_on):
                event_id, body = events.payment(loan_id, applied)
                self.outbox.append((event_id, events.payment_subject, body, events.headers))

    def _schedule(self, loan_id: str, schedule: list[ScheduleLine], paid: dict[int, Parts]) -> None:
        for seq, due_on, principal, interest, fees in schedule:
            parts = paid.get(seq)
            done = (
                f"{parts.principal!s}\t{parts.interest!s}\t{parts.fees!s}"
                if parts
                else PAID_NOTHING
            )
            self.instalments.append(
                f"{loan_id}\t{seq}\t{due_on!s}\t{principal!s}\t{interest!s}\t{fees!s}\t{done}\n"
            )

    def _add_history(
        self, loan: LoanIn, history: History, fingerprints: list[str], booked_on: list[date]
    ) -> None:
        unapplied = {a.payment_id: a.unapplied for a in history.allocations}
        for p, fp, day in zip(loan.payments, fingerprints, booked_on, strict=True):
            self.payments.append(
                f"{p.payment_id}\t{loan.loan_id}\t{p.amount}\t{p.currency}\t"
                f"{p.paid_at.isoformat()}\t{_text(p.channel)}\t{day}\t"
                f"{unapplied[p.payment_id]}\tapplied\t{fp}\n"
            )
        for a in history.allocations:
            for line in a.lines:
                q = line.paid
                self.allocations.append(
                    f"{a.payment_id}\t{line.seq}\t{loan.loan_id}\t"
                    f"{q.penalty}\t{q.fees}\t{q.interest}\t{q.principal}\n"
                )


def _borrower_line(b: Borrower) -> str:
    """A borrower's COPY line. Only the name, e-mail and national id may hold what COPY
    escapes: the other fields are held to patterns (ids, E.164 phones, zone names, locales)."""
    return f"{b[0]}\t{_text(b[1])}\t{b[2]}\t{_text(b[3])}\t{_text(b[4])}\t{b[5]}\t{b[6]}\n"
