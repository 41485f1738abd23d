"""Whatever order payments arrive in, twice or reversed, the ledger is the in-order one.

``Book`` re-derives allocations the way the payments use case does (only the payments from the
one that arrived, or was reversed, onwards), with the pure functions it calls.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from monitoring.domain.payoff import CENT, ZERO, Due, Part, Parts
from monitoring.domain.schedule import build_schedule
from monitoring.domain.waterfall import Allocation, Payment, rebook, replay
from shared.types import RepaymentMethod

DISBURSED = date(2026, 1, 15)


@dataclass
class Book:
    """A loan's ledger as the service keeps it: balances and each live payment's allocation."""

    dues: list[Due]
    order: tuple[Part, ...]
    live: dict[str, Payment] = field(default_factory=dict)
    booked: dict[str, Allocation] = field(default_factory=dict)

    def arrive(self, payment: Payment) -> None:
        if payment.payment_id in self.live:  # the same payment again: idempotent
            return
        self.live[payment.payment_id] = payment
        self._rebook(payment.key, reversed_id=None)

    def reverse(self, payment_id: str) -> None:
        payment = self.live[payment_id]
        self._rebook(payment.key, reversed_id=payment_id)
        del self.live[payment_id]
        del self.booked[payment_id]

    def _rebook(self, since: tuple[datetime, str], reversed_id: str | None) -> None:
        later = [p for p in self.live.values() if p.key >= since]
        before = {
            p.payment_id: {line.seq: line.paid for line in self.booked[p.payment_id].lines}
            for p in later
            if p.payment_id in self.booked
        }
        settled = any(a.settles for pid, a in self.booked.items() if self.live[pid].key < since)
        done = rebook(
            self.dues,
            before,
            [p for p in later if p.payment_id != reversed_id],
            order=self.order,
            settled=settled,
        )
        self.dues = list(done.dues)
        self.booked |= {a.payment_id: a for a in done.allocations}


@st.composite
def loans(draw: st.DrawFn) -> list[Due]:
    term = draw(st.integers(1, 12))
    principal = Decimal(draw(st.integers(10_000, 5_000_000))) / 100
    lines = build_schedule(
        principal=principal,
        annual_rate=Decimal(draw(st.integers(0, 360))) / 1000,
        term_months=term,
        method=draw(st.sampled_from(RepaymentMethod)),
        first_due_on=DISBURSED + timedelta(days=draw(st.integers(20, 45))),
    )
    money = st.integers(0, 5_000).map(lambda c: Decimal(c) / 100)
    dues, starts_on = [], DISBURSED
    for line in lines:
        owed = Parts(draw(money), draw(money), line.interest, line.principal)
        dues.append(Due(line.seq, starts_on, line.due_on, owed))
        starts_on = line.due_on
    return dues


@st.composite
def payments(draw: st.DrawFn, dues: list[Due]) -> list[Payment]:
    owed = sum((d.owed.total for d in dues), ZERO)
    cents = st.integers(1, int(owed * 100 * Decimal("0.6")) + 1)
    made = []
    for n in range(draw(st.integers(1, 6))):
        paid_on = DISBURSED + timedelta(days=draw(st.integers(0, 400)))
        paid_at = datetime.combine(paid_on, time(draw(st.integers(0, 23))), UTC)
        made.append(Payment(f"P-{n}", Decimal(draw(cents)) / 100, paid_at, paid_on))
    return made


ORDERS = st.permutations(list(Part)).map(tuple)


def in_order_ledger(
    dues: list[Due], live: list[Payment], order: tuple[Part, ...]
) -> tuple[list[Parts], dict[str, Allocation]]:
    allocations = replay(dues, live, order=order)
    paid = {p: Parts() for p in range(1, len(dues) + 1)}
    for a in allocations:
        for line in a.lines:
            paid[line.seq] += line.paid
    return [paid[d.seq] for d in dues], {a.payment_id: a for a in allocations}


@settings(max_examples=300, deadline=None)
@given(data=st.data(), dues=loans(), order=ORDERS)
def test_payments_arriving_in_any_order_and_twice_end_in_the_in_order_ledger(
    data: st.DataObject, dues: list[Due], order: tuple[Part, ...]
) -> None:
    made = data.draw(payments(dues))
    arrivals = data.draw(st.permutations(made))
    arrivals += data.draw(st.lists(st.sampled_from(made), max_size=3))  # redeliveries
    book = Book(dues, order)
    for payment in arrivals:
        book.arrive(payment)
    paid, allocations = in_order_ledger(dues, made, order)
    assert [d.paid for d in book.dues] == paid
    assert book.booked == allocations


@settings(max_examples=300, deadline=None)
@given(data=st.data(), dues=loans(), order=ORDERS)
def test_reversed_payments_leave_the_ledger_of_the_payments_that_remain(
    data: st.DataObject, dues: list[Due], order: tuple[Part, ...]
) -> None:
    made = data.draw(payments(dues))
    book = Book(dues, order)
    for payment in data.draw(st.permutations(made)):
        book.arrive(payment)
    reversed_ids = data.draw(st.lists(st.sampled_from([p.payment_id for p in made]), unique=True))
    for payment_id in reversed_ids:
        book.reverse(payment_id)
    remaining = [p for p in made if p.payment_id not in reversed_ids]
    paid, allocations = in_order_ledger(dues, remaining, order)
    assert [d.paid for d in book.dues] == paid
    assert book.booked == allocations
    if not remaining:
        assert all(d.paid == Parts() for d in book.dues)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), dues=loans(), order=ORDERS)
def test_every_cent_is_allocated_once_and_nothing_is_paid_beyond_what_is_owed(
    data: st.DataObject, dues: list[Due], order: tuple[Part, ...]
) -> None:
    made = data.draw(payments(dues))
    allocations = replay(dues, made, order=order)
    paid = {d.seq: Parts() for d in dues}
    for payment, allocation in zip(sorted(made, key=lambda p: p.key), allocations, strict=True):
        assert allocation.applied.total + allocation.unapplied == payment.amount
        assert allocation.unapplied >= ZERO
        for line in allocation.lines:
            assert all(ZERO <= line.paid[p] == line.paid[p].quantize(CENT) for p in Part)
            paid[line.seq] += line.paid
    for due in dues:
        assert all(paid[due.seq][p] <= due.owed[p] for p in Part)
    settled = [a.settles for a in allocations]
    assert settled.count(True) <= 1
    if True in settled:  # everything after the settling payment is unapplied
        assert all(not a.lines for a in allocations[settled.index(True) + 1 :])
        assert sum((paid[d.seq].principal for d in dues), ZERO) == sum(
            (d.owed.principal for d in dues), ZERO
        )
