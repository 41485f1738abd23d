"""End-of-day persistence: the run record and the set-based statements that close the loans.

Every loan-level statement works on one chunk of loans, a range of loan ids ``(after, upto]``,
so that a chunk is one short transaction and the run records its progress with it.

``eod_run.step`` holds the step name and, with it, what a resumed run needs and the table has
no column for: ``"<step>|<penalty accrued so far>|<last loan id done in this step>"``
(e.g. ``"loans|1234.56|L-0050000"``). Loan ids never contain ``|``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from monitoring.adapters.tables import Base, EodRunRow
from monitoring.domain.buckets import BucketScale, counted_on
from shared import envelope
from shared.events import DelinquencyChanged, LoanStatus, spec_for

EOD_RUN = Base.metadata.tables[EodRunRow.__tablename__]
_OPEN_SQL = f"('{LoanStatus.ACTIVE.value}', '{LoanStatus.DELINQUENT.value}')"
ZERO = Decimal("0.00")
#: One end-of-day run at a time, across every replica of the service.
LOCK_KEY = "postloan-eod"


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    as_of: date
    status: str
    step: str
    cursor: str
    penalty: Decimal
    loans_total: int
    loans_done: int
    transitions: int
    error: str | None
    started_at: datetime
    finished_at: datetime | None

    def at(self, step: str, *, cursor: str = "") -> RunRecord:
        return replace(self, step=step, cursor=cursor)


def encode_step(run: RunRecord) -> str:
    return f"{run.step}|{run.penalty}|{run.cursor}"


def _record(row: Any) -> RunRecord:
    name, _, rest = str(row.step).partition("|")
    penalty, _, cursor = rest.partition("|")
    return RunRecord(
        run_id=row.run_id,
        as_of=row.as_of,
        status=row.status,
        step=name,
        cursor=cursor,
        penalty=Decimal(penalty or "0.00"),
        loans_total=row.loans_total,
        loans_done=row.loans_done,
        transitions=row.transitions,
        error=row.error,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )


# --- the run record ------------------------------------------------------------------------


async def create_run(
    session: AsyncSession, *, run_id: str, as_of: date, step: str, loans_total: int
) -> None:
    await session.execute(
        sa.insert(EOD_RUN).values(
            run_id=run_id,
            as_of=as_of,
            status="running",
            step=f"{step}|{ZERO}|",
            loans_total=loans_total,
            loans_done=0,
            transitions=0,
        )
    )


async def get_run(
    session: AsyncSession, run_id: str, *, for_update: bool = False
) -> RunRecord | None:
    query = sa.select(EOD_RUN).where(EOD_RUN.c.run_id == run_id)
    if for_update:
        query = query.with_for_update()
    row = (await session.execute(query)).one_or_none()
    return None if row is None else _record(row)


async def run_for_date(
    session: AsyncSession, as_of: date, *, for_update: bool = False
) -> RunRecord | None:
    query = sa.select(EOD_RUN).where(EOD_RUN.c.as_of == as_of)
    if for_update:
        query = query.with_for_update()
    row = (await session.execute(query)).one_or_none()
    return None if row is None else _record(row)


async def runs_in_status(session: AsyncSession, status: str) -> list[str]:
    query = sa.select(EOD_RUN.c.run_id).where(EOD_RUN.c.status == status)
    return list((await session.execute(query)).scalars())


async def save(session: AsyncSession, run: RunRecord, *, finished: bool = False) -> None:
    """Write a run's step, progress and outcome; ``finished`` stamps the database's time."""
    extra = {"finished_at": sa.func.now()} if finished else {}
    await session.execute(
        sa.update(EOD_RUN)
        .where(EOD_RUN.c.run_id == run.run_id)
        .values(
            status=run.status,
            step=encode_step(run),
            loans_done=run.loans_done,
            transitions=run.transitions,
            error=run.error,
            **extra,
        )
    )


#: SQLSTATEs of a chunk that met a concurrent change: deadlock detected, serialization failure.
RETRYABLE = frozenset({"40P01", "40001"})


def concurrent_change(exc: BaseException) -> str | None:
    """The SQLSTATE when ``exc`` is a database error worth retrying the chunk for, else None."""
    if not isinstance(exc, DBAPIError):
        return None
    code = getattr(exc.orig, "sqlstate", None)
    return code if code in RETRYABLE else None


async def count_open_loans(session: AsyncSession) -> int:
    query = sa.text(f"SELECT count(*) FROM loan WHERE status IN {_OPEN_SQL}")
    result = await session.execute(query)
    return int(result.scalar_one())


async def try_lock(conn: AsyncConnection) -> bool:
    """A session-level advisory lock, held by the connection for the whole run."""
    query = sa.text("SELECT pg_try_advisory_lock(hashtext(:key))")
    return bool((await conn.execute(query, {"key": LOCK_KEY})).scalar_one())


async def unlock(conn: AsyncConnection) -> None:
    await conn.execute(sa.text("SELECT pg_advisory_unlock(hashtext(:key))"), {"key": LOCK_KEY})


# --- chunks --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chunk:
    after: str  # exclusive
    upto: str  # inclusive
    open_loans: int


async def next_chunk(session: AsyncSession, *, after: str, size: int) -> Chunk | None:
    """The next ``size`` loan ids after ``after`` (all statuses), or None past the last."""
    row = (
        await session.execute(
            sa.text(
                f"""SELECT max(loan_id) AS upto, count(*) AS n,
                          count(*) FILTER (WHERE status IN {_OPEN_SQL}) AS open_loans
                   FROM (SELECT loan_id, status FROM loan WHERE loan_id > :after
                         ORDER BY loan_id LIMIT :size) AS c"""
            ),
            {"after": after, "size": size},
        )
    ).one()
    if not row.n:
        return None
    return Chunk(after=after, upto=row.upto, open_loans=int(row.open_loans))


# --- closing the day of one chunk of loans --------------------------------------------------

CHANGED = spec_for(DelinquencyChanged)
#: The body of a ``delinquency.changed`` of a row of ``moved``, as ``make_event`` writes it.
_COUNTED_ON = "to_char(CAST(:counted_on AS date), 'YYYY-MM-DD')"
_CHANGED_BODY = envelope.sql_envelope(
    event_id="m.event_id",
    subject="m.loan_id",
    data=envelope.sql_object(
        [
            ("loan_id", envelope.sql_value("m.loan_id")),
            ("borrower_id", envelope.sql_value("m.borrower_id")),
            # The date the new DPD holds on: the morning after the day closed.
            ("business_date", envelope.sql_value(_COUNTED_ON)),
            ("dpd_before", envelope.sql_value("m.dpd_before")),
            ("dpd", envelope.sql_value("m.dpd")),
            ("bucket_before", envelope.sql_value("m.bucket_before")),
            ("bucket", envelope.sql_value("m.bucket")),
            ("overdue_amount", envelope.sql_value("CAST(m.overdue AS text)")),
        ]
    ),
)

# One day's penalty on one instalment (monitoring.domain.penalty, set-based): overdue principal
# × min(mult × rate, cap − rate) / 365, never negative; round() is half away from zero, which
# for these non-negative amounts is half-up.
_DAY_OF_PENALTY = """round((i.principal - i.paid_principal)
                              * GREATEST(LEAST(p.penalty_multiplier * l.annual_rate,
                                               p.cost_cap_apr - l.annual_rate), 0)
                              / 365, 2)"""


def _bucket_case(scale: BucketScale, column: str) -> tuple[str, dict[str, object]]:
    params: dict[str, object] = {}
    whens = []
    for n, (name, high) in enumerate(scale.upper_bounds()):
        params[f"bucket_{n}"] = name
        whens.append(f"WHEN {column} <= {int(high)} THEN CAST(:bucket_{n} AS text)")
    params["bucket_last"] = scale.names[-1]
    return f"CASE {' '.join(whens)} ELSE CAST(:bucket_last AS text) END", params


# The penalty of the day being closed (``as_of``), on principal overdue during it: each day
# after the due date (and its grace) is accrued once, by its own end of day, while DPD already
# counts the morning after (domain.penalty says why the two dates differ).
PENALTY_SQL = sa.text(
    f"""
    WITH accrued AS (
        UPDATE instalment i SET penalty = i.penalty + {_DAY_OF_PENALTY}
        FROM loan l JOIN product p ON p.product_id = l.product
        WHERE l.loan_id > :after AND l.loan_id <= :upto AND l.status IN {_OPEN_SQL}
          AND i.loan_id = l.loan_id AND i.loan_id > :after AND i.loan_id <= :upto
          AND i.paid_principal < i.principal
          AND i.due_on < CAST(:as_of AS date)  -- cheap: filters before the join
          AND i.due_on + p.grace_days < CAST(:as_of AS date)
          AND {_DAY_OF_PENALTY} > 0
        RETURNING {_DAY_OF_PENALTY} AS amount
    )
    SELECT COALESCE(sum(amount), 0.00) FROM accrued
    """
)


def _delinquency_sql(bucket_case: str) -> str:
    """DPD, bucket, status, transition events and snapshot of a chunk in one statement.

    Each instalment with anything unpaid is read once (fully paid ones change nothing):
    ``due`` aggregates them per loan; ``next`` is each open loan's DPD (against the business
    date the run moves to, ``counted_on``: the day after ``as_of``), bucket and status;
    ``changed`` writes the loans that moved, ``events`` records one ``delinquency.changed``
    per bucket transition in the outbox (its ``business_date`` is ``counted_on``, the date
    the new DPD holds on), and ``snap`` writes the snapshot of the close of ``as_of``. The
    snapshot's ``principal`` and ``total`` are :func:`monitoring.domain.payoff.outstanding`,
    set-based (tests/monitoring/integration/test_money_rules_parity.py holds the two to the cent).
    """
    return f"""
    WITH due AS (
        SELECT i.loan_id,
               min(i.due_on) FILTER (WHERE i.paid_principal < i.principal
                                     OR i.paid_interest < i.interest
                                     OR i.paid_fees < i.fees) AS oldest_unpaid,
               sum(i.principal - i.paid_principal) AS principal,
               -- only what has fallen due owes interest, fees and penalty (a filter is
               -- cheaper than arithmetic on every future instalment)
               sum(i.principal - i.paid_principal)
                   FILTER (WHERE i.due_on <= CAST(:as_of AS date)) AS principal_overdue,
               sum(i.interest + i.fees + i.penalty - i.paid_interest - i.paid_fees
                   - i.paid_penalty)
                   FILTER (WHERE i.due_on <= CAST(:as_of AS date)) AS charges
        FROM instalment i
        WHERE i.loan_id > :after AND i.loan_id <= :upto
          AND (i.paid_principal < i.principal OR i.paid_interest < i.interest
               OR i.paid_fees < i.fees OR i.paid_penalty < i.penalty)
        GROUP BY i.loan_id
    ), calc AS (
        SELECT l.loan_id, l.borrower_id, l.product, l.disbursed_on,
               l.dpd AS dpd_before, l.bucket AS bucket_before, l.status AS status_before,
               -- counted against the morning after the day closed (domain.buckets)
               GREATEST(CAST(:counted_on AS date) - d.oldest_unpaid, 0) AS dpd,
               COALESCE(d.principal_overdue + d.charges, 0.00) AS overdue,
               COALESCE(d.principal, 0.00) AS principal,
               COALESCE(d.principal + COALESCE(d.charges, 0.00), 0.00) AS total
        FROM loan l LEFT JOIN due d ON d.loan_id = l.loan_id
        WHERE l.loan_id > :after AND l.loan_id <= :upto AND l.status IN {_OPEN_SQL}
    ), next AS MATERIALIZED (
        SELECT c.*, {bucket_case} AS bucket,
               CASE WHEN c.dpd > 0 THEN 'delinquent' ELSE 'active' END AS status
        FROM calc c
    ), changed AS (
        UPDATE loan l SET dpd = n.dpd, bucket = n.bucket, status = n.status
        FROM next n
        WHERE l.loan_id = n.loan_id AND l.loan_id > :after AND l.loan_id <= :upto
          AND (n.dpd_before, n.bucket_before, n.status_before)
              IS DISTINCT FROM (n.dpd, n.bucket, n.status)
        RETURNING n.loan_id, n.borrower_id, n.dpd_before, n.dpd, n.bucket_before, n.bucket,
                  n.overdue
    ), moved AS MATERIALIZED (
        SELECT gen_random_uuid() AS event_id, c.*
        FROM changed c WHERE c.bucket_before IS DISTINCT FROM c.bucket
    ), events AS (
        INSERT INTO outbox (event_id, subject, body, headers)
        SELECT m.event_id, CAST(:subject AS text), convert_to({_CHANGED_BODY}, 'UTF8'),
               CAST(:event_headers AS jsonb)
        FROM moved m ORDER BY m.loan_id
        RETURNING 1
    ), snap AS (
        INSERT INTO delinquency_snapshot (as_of, loan_id, product, disbursed_on, dpd, bucket,
                                          status, outstanding_principal, outstanding_total)
        SELECT CAST(:as_of AS date), n.loan_id, n.product, n.disbursed_on, n.dpd, n.bucket,
               n.status, n.principal, n.total
        FROM next n
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM events) AS moved
    """


@dataclass(frozen=True)
class EventContext:
    """What every event of the batch carries besides its data."""

    source: str
    time: datetime
    traceparent: str | None


@dataclass(frozen=True)
class Closed:
    penalty: Decimal  # accrued today
    transitions: int  # bucket moves, each one event in the outbox


async def close_loans(
    session: AsyncSession,
    *,
    as_of: date,
    chunk: Chunk,
    scale: BucketScale,
    context: EventContext,
) -> Closed:
    """End of day for the chunk's open loans: the penalty of the day ``as_of``, DPD, bucket
    and status on the morning after it, events for the bucket transitions and the day's
    snapshot, without an object per loan in Python.
    """
    case, params = _bucket_case(scale, "c.dpd")
    params |= {
        "as_of": as_of,
        "counted_on": counted_on(as_of),
        "after": chunk.after,
        "upto": chunk.upto,
        "subject": CHANGED.subject,
        **envelope.sql_params(
            type=CHANGED.type,
            source=context.source,
            time=context.time,
            traceparent=context.traceparent,
        ),
    }
    penalty = (await session.execute(PENALTY_SQL, params)).scalar_one()
    row = (await session.execute(sa.text(_delinquency_sql(case)), params)).one()
    if row.moved:
        await session.execute(sa.text("NOTIFY postloan_outbox"))
    return Closed(Decimal(penalty), int(row.moved))


async def bucket_totals(session: AsyncSession, as_of: date) -> list[tuple[str, int, Decimal]]:
    """Loans and outstanding principal per bucket in the snapshot of ``as_of``."""
    result = await session.execute(
        sa.text(
            """SELECT bucket, count(*), COALESCE(sum(outstanding_principal), 0.00)
               FROM delinquency_snapshot WHERE as_of = :as_of GROUP BY bucket"""
        ),
        {"as_of": as_of},
    )
    return [(str(b), int(n), Decimal(s)) for b, n, s in result]
