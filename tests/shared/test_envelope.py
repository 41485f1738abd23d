"""The envelope's one definition: the model, the bulk template and the SQL write the same bytes."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import AwareDatetime, TypeAdapter

from shared import envelope
from shared.db import Database
from shared.events import CloudEvent, LoanClosed, LoanStatus, make_event

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
moments = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2999, 12, 30), timezones=offsets
)
#: Text PostgreSQL can hold (no NUL) and JSON can carry (no lone surrogates).
texts = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=200)
traceparents = st.one_of(
    st.none(),
    st.tuples(st.binary(min_size=16, max_size=16), st.binary(min_size=8, max_size=8)).map(
        lambda ids: f"00-{ids[0].hex()}-{ids[1].hex()}-01"
    ),
)


def closed(loan_id: str = "L-1") -> LoanClosed:
    return LoanClosed(loan_id=loan_id, status=LoanStatus.SETTLED, closed_on=date(2026, 3, 1))


def test_the_model_declares_the_envelope_keys_in_order() -> None:
    assert tuple(CloudEvent.model_fields) == envelope.KEYS
    event = make_event(closed(), source="postloan/test", subject="L-1")
    assert tuple(json.loads(event.model_dump_json())) == envelope.KEYS


@given(moments)
def test_times_are_written_as_the_model_writes_them(moment: datetime) -> None:
    assert envelope.format_time(moment) == TypeAdapter(AwareDatetime).dump_python(
        moment, mode="json"
    )


def test_utc_is_written_z_and_microseconds_only_when_there_are_some() -> None:
    assert envelope.format_time(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == (
        "2026-01-02T03:04:05Z"
    )
    assert envelope.format_time(datetime(2026, 1, 2, 3, 4, 5, 60, tzinfo=UTC)) == (
        "2026-01-02T03:04:05.000060Z"
    )


@given(st.integers(min_value=0, max_value=2**128 - 1))
def test_an_id_counted_as_an_integer_is_written_as_its_uuid(n: int) -> None:
    assert envelope.format_id(n) == str(uuid.UUID(int=n)) == envelope.format_id(uuid.UUID(int=n))


def test_a_template_merged_with_an_event_keeps_the_order_and_the_bytes_of_the_model() -> None:
    moment = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    event = make_event(
        closed(), source="postloan/test", subject="L-1", traceparent=TRACEPARENT, time=moment
    )
    made = envelope.template(
        type=event.type, source="postloan/test", time=moment, traceparent=TRACEPARENT
    ) | {"id": envelope.format_id(event.id), "subject": "L-1", "data": event.data}

    assert json.dumps(made, separators=(",", ":")) == event.model_dump_json()


def test_headers_carry_the_traceparent_only_when_there_is_one() -> None:
    assert json.loads(envelope.headers_json(TRACEPARENT)) == {"traceparent": TRACEPARENT}
    assert envelope.headers_json(None) == "{}"


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, pool_size=1)
    yield database
    await database.dispose()


SQL_BODY = sa.text(
    "SELECT "
    + envelope.sql_envelope(
        event_id="CAST(:id AS uuid)",
        subject="CAST(:subject AS text)",
        data=envelope.sql_object(
            [
                ("loan_id", envelope.sql_value("CAST(:loan_id AS text)")),
                ("status", envelope.sql_value("CAST(:status AS text)")),
                ("closed_on", envelope.sql_value("CAST(:closed_on AS date)")),
            ]
        ),
    )
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(subject=texts, moment=moments, traceparent=traceparents, event_id=st.uuids())
async def test_the_sql_envelope_writes_the_bytes_of_the_model(
    db: Database, subject: str, moment: datetime, traceparent: str | None, event_id: uuid.UUID
) -> None:
    payload = closed(loan_id="L-9")
    event = make_event(
        payload,
        source="postloan/test",
        subject=subject,
        traceparent=traceparent,
        event_id=event_id,
        time=moment,
    )
    params = envelope.sql_params(
        type=event.type, source="postloan/test", time=moment, traceparent=traceparent
    )
    async with db.unit_of_work() as session:
        body = (
            await session.execute(
                SQL_BODY,
                {
                    **params,
                    "id": str(event_id),
                    "subject": subject,
                    "loan_id": payload.loan_id,
                    "status": payload.status.value,
                    "closed_on": payload.closed_on,
                },
            )
        ).scalar_one()

    assert body == event.model_dump_json()
