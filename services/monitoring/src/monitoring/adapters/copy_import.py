"""Bulk import storage: rows as PostgreSQL ``COPY`` data, loaded over the session's connection.

Everything runs on the asyncpg connection under the caller's SQLAlchemy session, inside its
transaction, so that an import is committed or rolled back whole. Rows are written in COPY's
text format (server-side parsing of numbers is far cheaper than encoding ``Decimal``\\s in
Python), outbox rows in binary (their bodies are bytes).

Foreign keys are checked by a trigger per row, which would take most of the time of a million
loans; the import has checked every reference itself (a loan's borrower, instalments and
payments come with it, allocations with their payment), so when the database role may, the
transaction sets ``session_replication_role = replica`` to skip those triggers. Unique keys
are still enforced by their indexes. A role without that right imports the same, slower.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from io import BytesIO
from typing import Any, Literal

import asyncpg
import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from monitoring.domain.imports import (
    BORROWER_FIELDS,
    AppliedPayment,
    Borrower,
    History,
    LoanIn,
    Product,
    ScheduleLine,
    applied_payments,
    contract_cents,
    fingerprint,
    registration_json,
)
from monitoring.domain.payoff import Parts
from monitoring.domain.products import order_of
from monitoring.domain.schedule import due_dates
from shared.db import driver_connection
from shared.events import CloudEvent, LoanAccepted, Payload, PaymentApplied, spec_for
from shared.messaging.outbox import CHANNEL

LOAN_COLUMNS = (
    "loan_id",
    "borrower_id",
    "product",
    "status",
    "principal",
    "currency",
    "annual_rate",
    "term_months",
    "repayment_method",
    "disbursed_on",
    "first_due_on",
    "jurisdiction",
    "dpd",
    "bucket",
    "fingerprint",
)
INSTALMENT_COLUMNS = (
    "loan_id",
    "seq",
    "due_on",
    "principal",
    "interest",
    "fees",
    "paid_principal",
    "paid_interest",
    "paid_fees",
)
PAYMENT_COLUMNS = (
    "payment_id",
    "loan_id",
    "amount",
    "currency",
    "paid_at",
    "channel",
    "booked_on",
    "unapplied",
    "status",
    "fingerprint",
)
ALLOCATION_COLUMNS = ("payment_id", "seq", "loan_id", "penalty", "fees", "interest", "principal")
OUTBOX_COLUMNS = ("event_id", "subject", "body", "headers")
SOURCE = "postloan/monitoring"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_PAID_NOTHING = "0.00\t0.00\t0.00"


def _text(value: str | None) -> str:
    r"""A value of COPY's text format (``\N`` is NULL)."""
    return "\\N" if value is None else value.translate(_ESCAPES)


# --- encoding ----------------------------------------------------------------------------------


class EventBodies:
    """The bodies of ``monitoring.loan.registered`` and ``monitoring.payment.applied`` events,
    as ``make_event`` would write them.

    The envelopes are made once by the model; each event adds its id, subject and data. Event
    ids are UUIDv7 (time-ordered), which keeps the outbox's unique index append-only.
    """

    def __init__(self, traceparent: str | None) -> None:
        self.envelope, self.subject = _envelope(LoanAccepted, traceparent)
        self.payment_envelope, self.payment_subject = _envelope(PaymentApplied, traceparent)
        self.headers = orjson.dumps({"traceparent": traceparent} if traceparent else {}).decode()
        self._next = _uuid7_base()

    def body(
        self,
        loan: LoanIn,
        registration: dict[str, Any],
        *,
        status: str,
        jurisdiction: str,
        schedule: orjson.Fragment | None = None,
    ) -> tuple[str, bytes]:
        """The event of a loan; ``registration`` is its :func:`registration_json`, ``schedule``
        the JSON of its contract schedule when it carries none (:func:`contract_schedule`)."""
        data = dict(registration)
        if data.get("schedule") is None:  # the event carries the resolved schedule
            data["schedule"] = schedule or contract_schedule(loan, [])
        data["first_due_on"] = loan.due_from.isoformat()
        data["status"] = status
        data["jurisdiction"] = jurisdiction
        event_id = self._event_id()
        event = self.envelope | {"id": event_id, "subject": loan.loan_id, "data": data}
        return event_id, _fitted(orjson.dumps(event))

    def payment(self, loan_id: str, applied: AppliedPayment) -> tuple[str, bytes]:
        """The ``payment.applied`` of a payment of the imported history."""
        p, allocation = applied.payment, applied.allocation
        data = {
            "payment_id": p.payment_id,
            "loan_id": loan_id,
            "amount": str(p.amount),
            "currency": p.currency,
            "paid_at": p.paid_at.isoformat(),
            "booked_on": applied.booked_on.isoformat(),
            "allocation": [
                {
                    "seq": line.seq,
                    "penalty": str(line.paid.penalty),
                    "fees": str(line.paid.fees),
                    "interest": str(line.paid.interest),
                    "principal": str(line.paid.principal),
                }
                for line in allocation.lines
            ],
            "unapplied": str(allocation.unapplied),
            "outstanding_total": str(applied.outstanding_after),
        }
        event_id = self._event_id()
        event = self.payment_envelope | {"id": event_id, "subject": loan_id, "data": data}
        return event_id, _fitted(orjson.dumps(event))

    def _event_id(self) -> str:
        self._next += 1
        h = f"{self._next:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _fitted(body: bytes) -> bytes:
    """A copy of exactly its size: orjson's bytes keep their ~8 KB buffer, and a chunk holds
    thousands of bodies until it is copied (4x less memory for a copy of ~1.7 KB)."""
    return bytes(memoryview(body))


def _envelope(payload: type[Payload], traceparent: str | None) -> tuple[dict[str, Any], str]:
    spec = spec_for(payload, domain="monitoring")
    envelope = CloudEvent(
        id=uuid.uuid4(), type=spec.type, source=SOURCE, traceparent=traceparent, data={}
    )
    return envelope.model_dump(mode="json"), spec.subject


def _uuid7_base() -> int:
    """A UUIDv7 whose random tail leaves room to count up (RFC 9562, monotonic method)."""
    millis = time.time_ns() // 1_000_000
    rand_a = int.from_bytes(os.urandom(2)) & 0x0FFF
    rand_b = int.from_bytes(os.urandom(8)) & ((1 << 61) - 1)  # top bit kept clear
    return (millis << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b


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
                else _PAID_NOTHING
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


def contract_schedule(loan: LoanIn, instalments: list[str]) -> orjson.Fragment:
    """The contract schedule of a loan that carries none: its COPY lines are added to
    ``instalments`` (one string for the loan), and its JSON for the event is returned.

    Both come from text cached by contract (the amounts) and by first due date (templates
    with the dates written in): a loan costs two ``%`` and a ``replace``, no Decimal and no
    loop over its instalments in Python.
    """
    cents = contract_cents(loan.principal, loan.annual_rate, loan.term_months, loan.method)
    amounts = tuple(cents.split(" "))
    lines, objects = _templates(loan.due_from, loan.term_months)
    instalments.append((lines % amounts).replace("\x00", loan.loan_id))
    return orjson.Fragment(objects % amounts)


def _templates(first_due_on: date, term: int) -> tuple[str, str]:
    if term > LONGEST_TEMPLATE_CACHED:
        return _schedule_templates.__wrapped__(first_due_on, term)
    return _schedule_templates(first_due_on, term)


# By first due date and term: ~130 B an instalment, ~7 MB for 4,096 of 12 instalments; longer
# terms than 5 years are written for each loan, so that the cache stays small in bytes too.
TEMPLATES_CACHED = 4_096
LONGEST_TEMPLATE_CACHED = 60


@lru_cache(maxsize=TEMPLATES_CACHED)
def _schedule_templates(first_due_on: date, term: int) -> tuple[str, str]:
    """COPY lines and event JSON of the schedule of ``term`` months from ``first_due_on``:
    ``%s`` for each principal and interest (:func:`contract_cents`' order), NUL for the loan
    id (an id cannot hold one: the API's pattern)."""
    days = [d.isoformat() for d in due_dates(first_due_on, term)]
    lines = "".join(
        f"\x00\t{seq}\t{day}\t%s\t%s\t0.00\t{_PAID_NOTHING}\n"
        for seq, day in enumerate(days, start=1)
    )
    objects = ",".join(
        f'{{"seq":{seq},"due_on":"{day}","principal":"%s","interest":"%s","fees":"0.00"}}'
        for seq, day in enumerate(days, start=1)
    )
    return lines, f"[{objects}]"


# --- loading -----------------------------------------------------------------------------------


Ids = Literal["loan", "payment"]


@dataclass(frozen=True, slots=True)
class Repeat:
    """An id of a chunk seen before: at ``first`` (a row), or in the ledger (None)."""

    index: int  # in the chunk's ids
    first: int | None


@dataclass
class Loaded:
    loans: int = 0
    borrowers: int = 0
    instalments: int = 0
    payments: int = 0
    allocations: int = 0


class CopyLoader:
    """Loads chunks over the asyncpg connection of a session, in the session's transaction."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.loaded = Loaded()
        self.skips_triggers = False
        self._read: dict[Ids, int] = {"loan": 0, "payment": 0}  # ids given to :meth:`repeats`

    @classmethod
    async def of(cls, session: AsyncSession) -> CopyLoader:
        conn = await driver_connection(session)
        assert conn.is_in_transaction(), "the import must run inside the session's transaction"
        return cls(conn)

    async def prepare(self) -> None:
        """Skip per-row foreign-key triggers when allowed; make the import's temporary tables."""
        if await self.conn.fetchval(_MAY_SKIP_TRIGGERS):
            await self.conn.execute("SET LOCAL session_replication_role = replica")
            self.skips_triggers = True
        await self.conn.execute(_TEMP_TABLES)

    async def products(self) -> dict[str, Product]:
        rows = await self.conn.fetch(
            "SELECT product_id, currency, jurisdiction, waterfall FROM product"
        )
        return {
            r["product_id"]: Product(r["currency"], r["jurisdiction"], order_of(r["waterfall"]))
            for r in rows
        }

    async def business_date(self) -> date | None:
        """The business date, locked so that end of day cannot move it during the import."""
        found: date | None = await self.conn.fetchval(
            "SELECT business_date FROM business_date WHERE id = 1 FOR UPDATE"
        )
        return found

    async def start_business_date(self, day: date) -> None:
        await self.conn.execute(
            "UPDATE business_date SET business_date = $1 WHERE id = 1 AND business_date IS NULL",
            day,
        )

    async def repeats(self, kind: Ids, ids: list[str], rows: list[int]) -> list[Repeat]:
        """The ids of a chunk (in the order read) seen earlier in the files, or in the ledger.

        Each id's first row is kept in a temporary table rather than in this process, so that
        memory does not grow with the file; that table's primary key finds the repeats.
        """
        if not ids:
            return []
        found = await self.conn.fetch(_REPEATS[kind], ids, rows, self._read[kind])
        self._read[kind] += len(ids)
        return [Repeat(r["ord"] - 1, r["first"]) for r in found]

    async def load(self, chunk: Chunk) -> None:
        """Store a chunk: borrowers upserted, then loans, schedules, payments, outbox rows."""
        await self._borrowers(chunk.borrowers)
        await self._copy("loan", LOAN_COLUMNS, chunk.loans)
        await self._copy("instalment", INSTALMENT_COLUMNS, chunk.instalments)
        await self._copy("payment", PAYMENT_COLUMNS, chunk.payments)
        await self._copy("allocation", ALLOCATION_COLUMNS, chunk.allocations)
        if chunk.outbox:
            await self.conn.copy_records_to_table(
                "outbox", records=chunk.outbox, columns=list(OUTBOX_COLUMNS)
            )
        n = self.loaded
        n.loans += len(chunk.loans)
        n.instalments += chunk.instalment_count
        n.payments += len(chunk.payments)
        n.allocations += len(chunk.allocations)

    async def _borrowers(self, lines: dict[str, str]) -> None:
        """New borrowers are copied in; known ones are updated from a staging table."""
        query = "SELECT borrower_id FROM borrower WHERE borrower_id = ANY($1::text[])"
        known = {r[0] for r in await self.conn.fetch(query, list(lines))} if lines else set()
        await self._copy(
            "borrower", BORROWER_FIELDS, [v for k, v in lines.items() if k not in known]
        )
        if known:
            await self._copy("import_borrower", BORROWER_FIELDS, [lines[k] for k in known])
            await self.conn.execute(_UPDATE_BORROWERS)
            await self.conn.execute("TRUNCATE import_borrower")
        self.loaded.borrowers += len(lines)

    async def _copy(self, table: str, columns: Iterable[str], lines: list[str]) -> None:
        if lines:
            data = BytesIO("".join(lines).encode())
            await self.conn.copy_to_table(table, source=data, columns=list(columns), format="text")

    async def finish(self) -> None:
        """Wake the outbox relay (delivered on commit, like ``enqueue``'s)."""
        await self.conn.execute(f"NOTIFY {CHANNEL}")


_TEMP_TABLES = """
    CREATE TEMP TABLE IF NOT EXISTS import_borrower (LIKE borrower INCLUDING DEFAULTS)
        ON COMMIT DROP;
    CREATE TEMP TABLE IF NOT EXISTS import_loan_row
        (id text PRIMARY KEY, row int NOT NULL, ord bigint NOT NULL) ON COMMIT DROP;
    CREATE TEMP TABLE IF NOT EXISTS import_payment_row
        (id text PRIMARY KEY, row int NOT NULL, ord bigint NOT NULL) ON COMMIT DROP;
    TRUNCATE import_loan_row, import_payment_row  -- an earlier import in this transaction
"""
# The first row of each id is kept by the INSERT, in the order read (a later one conflicts);
# ``ord`` numbers the rows of the whole import. A row not kept repeats the id of a row kept
# from this chunk or, not visible to the INSERT's own statement, of an earlier chunk; a row
# kept may still name an id the ledger has. The lookups are correlated or LATERAL so that
# each is an index probe: the temporary table has no statistics, and a hash join over it (or
# over the ledger) would read it whole at every chunk.
_REPEATS_SQL = """
    WITH chunk AS (
        SELECT id, row, $3 + o AS ord
        FROM unnest($1::text[], $2::int[]) WITH ORDINALITY AS c(id, row, o)
    ), kept AS (
        INSERT INTO import_{kind}_row (id, row, ord) SELECT id, row, ord FROM chunk ORDER BY ord
        ON CONFLICT DO NOTHING RETURNING id, row, ord
    )
    SELECT c.ord - $3 AS ord, coalesce(
        (SELECT k.row FROM kept k WHERE k.id = c.id),
        (SELECT s.row FROM import_{kind}_row s WHERE s.id = c.id)
    ) AS first
    FROM chunk c
    WHERE c.ord NOT IN (SELECT ord FROM kept)
    UNION ALL
    SELECT k.ord - $3, NULL
    FROM kept k
    CROSS JOIN LATERAL (SELECT FROM {kind} t WHERE t.{kind}_id = k.id LIMIT 1) t
    ORDER BY 1
"""
_REPEATS: dict[Ids, str] = {kind: _REPEATS_SQL.format(kind=kind) for kind in ("loan", "payment")}
_MAY_SKIP_TRIGGERS = """
    SELECT has_parameter_privilege('session_replication_role', 'SET')  -- PostgreSQL 15+
"""
_SET_BORROWER = ", ".join(f"{f} = s.{f}" for f in BORROWER_FIELDS[1:])
_UPDATE_BORROWERS = (
    f"UPDATE borrower b SET {_SET_BORROWER} "
    "FROM import_borrower s WHERE b.borrower_id = s.borrower_id"
)
