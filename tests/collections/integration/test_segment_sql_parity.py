"""The SQL of a preview and the engine choose the same segment and variant for every loan.

``adapters/segment_sql.py`` compiles a strategy to one statement; ``Strategy.segment_for`` and
``assign_variant`` are the rules. Hypothesis draws strategies (conditions of every kind, two to
four variants with shares summing to 1) and snapshots (NULL tiers and quadrants included), and
PostgreSQL must agree with Python on every row.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from itertools import pairwise

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collections_service.adapters.segment_sql import SnapshotColumns, segment_of, variant_of
from collections_service.domain.strategy import (
    QUADRANTS,
    TIERS,
    Action,
    LoanSnapshot,
    Segment,
    Step,
    Strategy,
    Variant,
    When,
    assign_variant,
)
from shared.db import Database

BUCKETS = ("C", "M1", "M2", "M3", "M4", "M5", "M6", "M7")
STEP = (Step(day=0, action=Action.SMS, template_id="t"),)

snapshot_table = sa.Table(
    "parity_snapshot",
    sa.MetaData(),
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("bucket", sa.Text, nullable=False),
    sa.Column("dpd", sa.Integer, nullable=False),
    sa.Column("outstanding", sa.Numeric(18, 2), nullable=False),
    sa.Column("tier", sa.Text),
    sa.Column("quadrant", sa.Text),
)
COLUMNS = SnapshotColumns(
    key=snapshot_table.c.key,
    bucket=snapshot_table.c.bucket,
    dpd=snapshot_table.c.dpd,
    outstanding=snapshot_table.c.outstanding,
    tier=snapshot_table.c.tier,
    quadrant=snapshot_table.c.quadrant,
)

money = st.decimals(min_value=Decimal("0.00"), max_value=Decimal("20000.00"), places=2)


def subset(values: tuple[str, ...]) -> st.SearchStrategy[frozenset[str] | None]:
    return st.none() | st.frozensets(st.sampled_from(values), min_size=1)


whens = st.builds(
    When,
    buckets=subset(BUCKETS),
    tiers=subset(TIERS),
    quadrants=subset(QUADRANTS),
    min_outstanding=st.none() | money,
    max_outstanding=st.none() | money,
    min_dpd=st.none() | st.integers(0, 200),
    max_dpd=st.none() | st.integers(0, 200),
)


@st.composite
def variants(draw: st.DrawFn) -> tuple[Variant, ...]:
    """One plain path, or 2-4 arms whose shares (in thousandths) sum to exactly 1."""
    arms = draw(st.integers(1, 4))
    if arms == 1:
        return (Variant(None, Decimal(1), STEP),)
    cuts = sorted(draw(st.lists(st.integers(1, 999), min_size=arms - 1, max_size=arms - 1)))
    edges = [0, *cuts, 1000]
    shares = [Decimal(b - a) / 1000 for a, b in pairwise(edges)]
    return tuple(Variant(f"v{i}", share, STEP) for i, share in enumerate(shares))


@st.composite
def strategies(draw: st.DrawFn) -> Strategy:
    count = draw(st.integers(1, 4))
    segments = tuple(Segment(f"s{i}", draw(whens), draw(variants())) for i in range(count))
    return Strategy(name="parity", products=frozenset({"p"}), segments=segments)


snapshots = st.builds(
    LoanSnapshot,
    bucket=st.sampled_from(BUCKETS),
    dpd=st.integers(0, 200),
    outstanding=money,
    tier=st.none() | st.sampled_from(TIERS),
    quadrant=st.none() | st.sampled_from(QUADRANTS),
)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, pool_size=1)
    async with database.engine.begin() as conn:
        await conn.run_sync(snapshot_table.metadata.create_all)
    yield database
    await database.dispose()


def expected(strategy: Strategy, key: str, loan: LoanSnapshot) -> tuple[str | None, str | None]:
    segment = strategy.segment_for(loan)
    if segment is None:
        return None, None
    variant = assign_variant(segment, strategy_id="sid", version=3, case_id=key)
    return segment.name, variant.name


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(strategy=strategies(), loans=st.lists(snapshots, min_size=1, max_size=25))
async def test_sql_chooses_what_the_engine_chooses(
    db: Database, strategy: Strategy, loans: list[LoanSnapshot]
) -> None:
    rows = [
        {
            "key": f"C-{i}",
            "bucket": x.bucket,
            "dpd": x.dpd,
            "outstanding": x.outstanding,
            "tier": x.tier,
            "quadrant": x.quadrant,
        }
        for i, x in enumerate(loans)
    ]
    query = sa.select(
        snapshot_table.c.key,
        segment_of(strategy, COLUMNS),
        variant_of(strategy, strategy_id="sid", version=3, c=COLUMNS),
    )
    async with db.unit_of_work() as session:
        await session.execute(sa.delete(snapshot_table))
        await session.execute(sa.insert(snapshot_table), rows)
        got = {key: (seg, var) for key, seg, var in (await session.execute(query)).all()}
    keys = [f"C-{i}" for i in range(len(loans))]
    assert got == {k: expected(strategy, k, x) for k, x in zip(keys, loans, strict=True)}


async def test_many_draws_split_as_the_shares_say(db: Database) -> None:
    """10,000 keys over a 0.8/0.2 split land within 2 points of it, in SQL as in Python."""
    arms = (Variant("champion", Decimal("0.8"), STEP), Variant("challenger", Decimal("0.2"), STEP))
    strategy = Strategy("split", frozenset({"p"}), (Segment("all", When(), arms),))
    rows = [
        {
            "key": f"C-{i:05d}",
            "bucket": "M1",
            "dpd": 1,
            "outstanding": Decimal("1.00"),
            "tier": None,
            "quadrant": None,
        }
        for i in range(10_000)
    ]
    variant = variant_of(strategy, strategy_id="sid", version=1, c=COLUMNS)
    async with db.unit_of_work() as session:
        await session.execute(sa.insert(snapshot_table), rows)
        counts = dict(
            (await session.execute(sa.select(variant, sa.func.count()).group_by(variant))).all()
        )
    assert abs(counts["champion"] - 8_000) <= 200
    assert counts["champion"] + counts["challenger"] == 10_000
