"""Property, through the service and its database: whatever schedule of strategy steps, retries
and collectors' calls is decided, with whatever outcomes come back, no contact the guard allowed
breaks pack ``cn``'s hours or caps, counted afresh from the decisions log.

The pure guard has its own properties (tests/shared/compliance/test_guard_properties.py); this
one holds the glue: the history assembled from the contact ledger, the slots reserved by allowed
decisions and the outcomes that confirm them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collections_service.service_layer import contacts
from collections_service.settings import CollectionsSettings
from shared.db import Database

START = datetime(2026, 3, 2, tzinfo=UTC)
ZONE = "Asia/Shanghai"
CALLS = ("agent_call", "voice")
TEXTS = ("sms", "push")
Ask = tuple[int, str, str]  # minute after START, channel, what happened (calls)

asks = st.lists(
    st.tuples(
        st.integers(0, 2 * 24 * 60 - 1),
        st.sampled_from(("agent_call", "agent_call", "voice", "sms", "push", "email", "letter")),
        st.sampled_from(("connected", "unanswered", "connected")),
    ),
    min_size=1,
    max_size=40,
)


@pytest.fixture
async def db(
    collections: httpx.AsyncClient,  # the service has migrated its database
    collections_settings: CollectionsSettings,
) -> AsyncIterator[Database]:
    database = Database(collections_settings.database_url, pool_size=1)
    yield database
    await database.dispose()


def planned(channel: str, n: int) -> contacts.Planned:
    return contacts.Planned(
        loan_id="L-1", borrower_id="B-1", channel=channel, time_zone=ZONE, pack="cn",
        business_date=date(2026, 3, 2), to="+8613800000000", request_key=f"ask-{n}",
        template_id=None if channel in CALLS else "t",
    )  # fmt: skip


async def decide_all(db: Database, schedule: list[Ask]) -> None:
    for n, (minute, channel, happened) in enumerate(sorted(schedule)):
        async with db.unit_of_work() as session:
            now = START + timedelta(minutes=minute)
            recorded = await contacts.decide_and_record(session, planned(channel, n), now)
            if recorded.request_id is not None and channel in CALLS:
                status = "connected" if happened == "connected" else "unanswered"
                await session.execute(
                    sa.text("UPDATE contact_attempt SET status = :s WHERE request_id = :r"),
                    {"s": status, "r": recorded.request_id},
                )


async def allowed(db: Database) -> list[tuple[datetime, str, str]]:
    query = sa.text(
        "SELECT d.decided_at, d.channel, a.status FROM contact_decision d"
        " JOIN contact_attempt a ON a.request_id = d.request_id WHERE d.outcome = 'allowed'"
    )
    async with db.unit_of_work() as session:
        return [
            (at, channel, status) for at, channel, status in (await session.execute(query)).all()
        ]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(schedule=asks)
async def test_no_allowed_contact_breaks_the_hours_or_caps_of_pack_cn(
    db: Database, schedule: list[Ask]
) -> None:
    async with db.unit_of_work() as session:
        await session.execute(
            sa.text("TRUNCATE deferred_contact, contact_attempt, contact_decision")
        )
    await decide_all(db, schedule)
    per_day: Counter[tuple[date, str]] = Counter()
    for at, channel, status in await allowed(db):
        local = at.astimezone(ZoneInfo(ZONE))
        if channel != "letter":
            assert 8 <= local.hour < 22, f"{channel} allowed at {local}"
        kind = {"email": "emails"}.get(channel, "texts" if channel in TEXTS else None)
        if channel in CALLS:
            kind = "connected_calls" if status == "connected" else "unanswered_dials"
        if kind is not None:
            per_day[local.date(), kind] += 1
    limits = {"connected_calls": 3, "unanswered_dials": 6, "texts": 3, "emails": 3}
    assert all(count <= limits[kind] for (_, kind), count in per_day.items()), per_day
