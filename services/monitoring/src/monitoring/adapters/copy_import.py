"""Bulk import storage: chunks of COPY data loaded over the session's connection.

Everything runs on the asyncpg connection under the caller's SQLAlchemy session, inside its
transaction, so that an import is committed or rolled back whole. Rows are written in COPY's
text format (server-side parsing of numbers is far cheaper than encoding ``Decimal``\\s in
Python; :mod:`monitoring.adapters.copy_records` writes them), outbox rows in binary (their
bodies are bytes).

Foreign keys are checked by a trigger per row, which would take most of the time of a million
loans; the import has checked every reference itself (a loan's borrower, instalments and
payments come with it, allocations with their payment), so when the database role may, the
transaction sets ``session_replication_role = replica`` to skip those triggers. Unique keys
are still enforced by their indexes. A role without that right imports the same, slower.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from io import BytesIO

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from monitoring.adapters.copy_records import Chunk
from monitoring.adapters.import_repeats import Ids, Repeat, find_repeats
from monitoring.domain.imports import BORROWER_FIELDS, Product
from monitoring.domain.products import order_of
from shared.db import driver_connection
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
        """The ids of a chunk (in the order read) seen earlier in the files, or in the ledger
        (:mod:`monitoring.adapters.import_repeats`)."""
        if not ids:
            return []
        repeats = await find_repeats(self.conn, kind, ids, rows, self._read[kind])
        self._read[kind] += len(ids)
        return repeats

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


_MAY_SKIP_TRIGGERS = """
    SELECT has_parameter_privilege('session_replication_role', 'SET')  -- PostgreSQL 15+
"""
_SET_BORROWER = ", ".join(f"{f} = s.{f}" for f in BORROWER_FIELDS[1:])
_UPDATE_BORROWERS = (
    f"UPDATE borrower b SET {_SET_BORROWER} "
    "FROM import_borrower s WHERE b.borrower_id = s.borrower_id"
)
