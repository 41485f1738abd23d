"""End of day's SQL and the domain's rules agree to the cent on generated loans and payments.

The set-based statements of :mod:`monitoring.adapters.eod_sql` are what production runs; the
pure functions of :mod:`monitoring.domain` (penalty, days past due, outstanding) are the rules
read and tested on their own. Both stay, held together here: penalty accrued for the day,
DPD, and the snapshot's outstanding principal and total of every loan. Each example closes a
drawn business date ("as of"), and both sides are asked about that same date.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from monitoring.adapters import eod_sql
from monitoring.domain.buckets import DEFAULT_BUCKETS, counted_on, days_past_due, parse_buckets
from monitoring.domain.payoff import Due, Parts, outstanding
from monitoring.domain.penalty import accrues_on, daily_penalty
from monitoring.settings import MonitoringSettings
from postloan_testing.plugin import NatsUnderTest
from principals import PRINCIPAL_SECRET
from shared.db import Database

DISBURSED = date(2026, 1, 1)
ZERO = Decimal("0.00")
#: When the batch's events say they were written (nothing here depends on the real clock).
WRITTEN_AT = datetime(2026, 6, 16, 1, 0, tzinfo=UTC)


def money(high: str) -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=Decimal("0.00"), max_value=Decimal(high), places=2)


def paid_of(owed: Decimal) -> st.SearchStrategy[Decimal]:
    """Nothing, all of it, or part of it: what a history of payments leaves paid."""
    return st.one_of(st.just(Decimal("0.00")), st.just(owed), money(str(owed)))


@dataclass(frozen=True)
class Line:
    due_on: date
    owed: Parts  # penalty is what earlier days accrued
    paid: Parts


@st.composite
def lines(draw: st.DrawFn, as_of: date) -> list[Line]:
    due_on = DISBURSED + timedelta(days=draw(st.integers(1, 60)))
    result = []
    for _ in range(draw(st.integers(1, 6))):
        principal = draw(money("50000.00"))
        interest, fees = draw(money("800.00")), draw(money("50.00"))
        penalty = draw(money("120.00")) if due_on < as_of else Decimal("0.00")  # accrued
        owed = Parts(penalty=penalty, fees=fees, interest=interest, principal=principal)
        paid = Parts(
            penalty=draw(paid_of(penalty)),
            fees=draw(paid_of(fees)),
            interest=draw(paid_of(interest)),
            principal=draw(paid_of(principal)),
        )
        result.append(Line(due_on, owed, paid))
        due_on += timedelta(days=draw(st.integers(1, 45)))
    return result


@dataclass(frozen=True)
class Product:
    multiplier: Decimal
    cost_cap_apr: Decimal
    grace_days: int


products = st.builds(
    Product,
    multiplier=st.decimals(min_value=Decimal("0"), max_value=Decimal("3"), places=2),
    cost_cap_apr=st.decimals(min_value=Decimal("0"), max_value=Decimal("0.36"), places=4),
    grace_days=st.integers(0, 5),
)
rates = st.decimals(min_value=Decimal("0"), max_value=Decimal("0.36"), places=4)


@dataclass(frozen=True)
class Portfolio:
    as_of: date  # the business date end of day closes
    loans: list[tuple[Decimal, list[Line]]]  # each loan's annual rate and schedule


@st.composite
def portfolios(draw: st.DrawFn) -> Portfolio:
    """Loans and payment histories, and a day to close: any day, or one an instalment falls
    due on or just after (the edges of penalty, DPD and what is billed)."""
    day = draw(st.integers(1, 330))
    as_of = DISBURSED + timedelta(days=day)
    loans = draw(st.lists(st.tuples(rates, lines(as_of)), min_size=1, max_size=8))
    edges = [x.due_on + timedelta(days=d) for _, s in loans for x in s for d in (0, 1)]
    as_of = draw(st.sampled_from([as_of, *edges]))
    # only days closed before as_of accrue penalty: none on an instalment not yet overdue
    unaccrued = [(rate, [accrued_by(x, as_of) for x in s]) for rate, s in loans]
    return Portfolio(as_of, unaccrued)


def accrued_by(line: Line, as_of: date) -> Line:
    """The line without penalty if it was not yet overdue before ``as_of``."""
    if line.due_on < as_of:
        return line
    return Line(line.due_on, replace(line.owed, penalty=ZERO), replace(line.paid, penalty=ZERO))


@pytest.fixture
def monitoring_settings(database_url: str, nats_server: NatsUnderTest) -> MonitoringSettings:
    return MonitoringSettings(
        principal_secret=SecretStr(PRINCIPAL_SECRET),
        database_url=database_url,
        nats_url=nats_server.url,
        relay_enabled=False,
    )


@pytest.fixture
async def db(
    monitoring: httpx.AsyncClient,  # the service has migrated its database
    monitoring_settings: MonitoringSettings,
) -> AsyncIterator[Database]:
    database = Database(monitoring_settings.database_url, pool_size=1)
    yield database
    await database.dispose()


async def store(db: Database, product: Product, loans: list[tuple[Decimal, list[Line]]]) -> None:
    async with db.unit_of_work() as s:
        await s.execute(
            sa.text(
                "TRUNCATE delinquency_snapshot, outbox, instalment, loan, borrower, product CASCADE"
            )
        )
        await s.execute(
            sa.text(
                """INSERT INTO product (product_id, name, currency, penalty_multiplier,
                                       cost_cap_apr, grace_days, waterfall, jurisdiction, version)
                   VALUES ('p', 'p', 'CNY', :m, :cap, :grace,
                           ARRAY['penalty','fees','interest','principal'], 'cn', 1)"""
            ),
            {"m": product.multiplier, "cap": product.cost_cap_apr, "grace": product.grace_days},
        )
        for n, (rate, schedule) in enumerate(loans):
            loan_id = f"L-{n}"
            await s.execute(
                sa.text(
                    """INSERT INTO borrower (borrower_id, name, phone, time_zone, locale)
                       VALUES (:id, 'x', '+8613800000000', 'Asia/Shanghai', 'zh-CN')"""
                ),
                {"id": loan_id},
            )
            await s.execute(
                sa.text(
                    """INSERT INTO loan (loan_id, borrower_id, product, status, principal,
                              currency, annual_rate, term_months, repayment_method, disbursed_on,
                              first_due_on, jurisdiction, dpd, bucket, fingerprint)
                       VALUES (:id, :id, 'p', 'active', 1, 'CNY', :rate, 1, 'annuity',
                               :disbursed, :disbursed, 'cn', 0, 'C', 'x')"""
                ),
                {"id": loan_id, "rate": rate, "disbursed": DISBURSED},
            )
            for seq, line in enumerate(schedule, start=1):
                o, p = line.owed, line.paid
                await s.execute(
                    sa.text(
                        """INSERT INTO instalment (loan_id, seq, due_on, principal, interest,
                                  fees, penalty, paid_principal, paid_interest, paid_fees,
                                  paid_penalty)
                           VALUES (:id, :seq, :due, :pr, :i, :f, :pe, :ppr, :pi, :pf, :ppe)"""
                    ),
                    {
                        "id": loan_id,
                        "seq": seq,
                        "due": line.due_on,
                        **{"pr": o.principal, "i": o.interest, "f": o.fees, "pe": o.penalty},
                        **{"ppr": p.principal, "pi": p.interest, "pf": p.fees, "ppe": p.penalty},
                    },
                )


def with_todays_penalty(line: Line, rate: Decimal, product: Product, as_of: date) -> Line:
    """The line after end of day for ``as_of`` by the domain's penalty rule."""
    left = line.owed.principal - line.paid.principal
    if left <= 0 or not accrues_on(
        due_on=line.due_on, grace_days=product.grace_days, business_date=as_of
    ):
        return line
    day = daily_penalty(
        overdue_principal=left,
        annual_rate=rate,
        multiplier=product.multiplier,
        cost_cap_apr=product.cost_cap_apr,
    )
    return Line(line.due_on, line.owed + Parts(penalty=day), line.paid)


def expected(
    rate: Decimal, schedule: list[Line], product: Product, as_of: date
) -> tuple[int, Parts]:
    """DPD and outstanding after end of day for ``as_of``, by the domain's rules."""
    closed = [with_todays_penalty(line, rate, product, as_of) for line in schedule]
    dues = [Due(n, DISBURSED, x.due_on, x.owed, x.paid) for n, x in enumerate(closed, start=1)]
    unpaid = [
        d.due_on for d in dues if d.remaining.principal or d.remaining.interest or d.remaining.fees
    ]
    # The end of day for ``as_of`` counts DPD against the morning after it (BRIEF section 3).
    return days_past_due(min(unpaid, default=None), counted_on(as_of)), outstanding(dues, as_of)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(product=products, portfolio=portfolios())
async def test_end_of_day_sql_and_the_domain_rules_agree_to_the_cent(
    db: Database, product: Product, portfolio: Portfolio
) -> None:
    as_of, loans = portfolio.as_of, portfolio.loans
    await store(db, product, loans)
    async with db.unit_of_work() as s:
        closed = await eod_sql.close_loans(
            s,
            as_of=as_of,
            chunk=eod_sql.Chunk(after="", upto="L-~", open_loans=len(loans)),
            scale=parse_buckets(DEFAULT_BUCKETS),
            context=eod_sql.EventContext("postloan/test", WRITTEN_AT, None),
        )
        rows = await s.execute(
            sa.text(
                """SELECT loan_id, dpd, outstanding_principal, outstanding_total
                   FROM delinquency_snapshot WHERE as_of = :as_of ORDER BY loan_id"""
            ),
            {"as_of": as_of},
        )
        snapshot = {r.loan_id: (r.dpd, r.outstanding_principal, r.outstanding_total) for r in rows}
        penalties = await s.execute(sa.text("SELECT sum(penalty) FROM instalment"))
        penalty_after = penalties.scalar_one()

    wanted = {}
    for n, (rate, schedule) in enumerate(loans):
        dpd, owed = expected(rate, schedule, product, as_of)
        wanted[f"L-{n}"] = (dpd, owed.principal, owed.total)
    assert snapshot == wanted
    before = sum(x.owed.penalty for _, schedule in loans for x in schedule)
    after = sum(
        with_todays_penalty(x, rate, product, as_of).owed.penalty for rate, s in loans for x in s
    )
    assert (penalty_after, closed.penalty) == (after, after - before)
