"""Early warnings end to end: end-of-day rules, events, the workflow and the list."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import httpx
import nats
import pytest
import sqlalchemy as sa

from factories import make_registration
from monitoring.domain.rules import FiredAlert, RuleVersion
from monitoring.service_layer.rule_evaluation import evaluate_date_rules, raise_alerts
from monitoring.settings import MonitoringSettings
from postloan_testing.plugin import NatsUnderTest, eventually
from principals import make_principal, signed
from shared.db import Database
from shared.events import (
    AllocationLine,
    ContactUpdated,
    Payload,
    PaymentApplied,
    PromiseBroken,
    make_event,
)

D = date.fromisoformat
DUE = D("2026-02-15")


@pytest.fixture
async def db(
    monitoring: httpx.AsyncClient, monitoring_settings: MonitoringSettings
) -> AsyncIterator[Database]:
    database = Database(monitoring_settings.database_url, pool_size=2)
    yield database
    await database.dispose()


async def register(client: httpx.AsyncClient, loan_id: str, borrower_id: str = "") -> None:
    body = make_registration(loan_id=loan_id, borrower_id=borrower_id or f"B-{loan_id}")
    response = await client.post("/api/v1/loans", json=body)
    assert response.status_code == 201, response.text


async def pay(db: Database, loan_id: str, amount: str, *, on: date, seq: int = 1) -> str:
    """Book a payment on one instalment's principal, as the ledger records it."""
    payment_id = f"P-{loan_id}-{on}-{seq}"
    async with db.unit_of_work() as s:
        await s.execute(
            sa.text(
                """INSERT INTO payment (payment_id, loan_id, amount, currency, paid_at, channel,
                                        booked_on, unapplied, status, fingerprint)
                   VALUES (:p, :l, :a, 'CNY', :t, 'test', :d, 0, 'applied', :p)"""
            ),
            {"p": payment_id, "l": loan_id, "a": Decimal(amount), "d": on, "t": _noon(on)},
        )
        await s.execute(
            sa.text(
                """INSERT INTO allocation (payment_id, seq, loan_id, penalty, fees, interest,
                                           principal) VALUES (:p, :s, :l, 0, 0, 0, :a)"""
            ),
            {"p": payment_id, "s": seq, "l": loan_id, "a": Decimal(amount)},
        )
        await s.execute(
            sa.text(
                """UPDATE instalment SET paid_principal = paid_principal + :a
                   WHERE loan_id = :l AND seq = :s"""
            ),
            {"a": Decimal(amount), "l": loan_id, "s": seq},
        )
    return payment_id


async def snapshot(db: Database, on: date) -> None:
    """The day's delinquency snapshot of every open loan, as end of day writes it: the close
    of ``on``, with the DPD counted against the morning after."""
    async with db.unit_of_work() as s:
        await s.execute(
            sa.text(
                """INSERT INTO delinquency_snapshot
                   SELECT CAST(:d AS date), loan_id, product, disbursed_on,
                          GREATEST(0, CAST(:d AS date) + 1 - first_due_on),
                          'C', status, principal, principal
                   FROM loan WHERE status IN ('active', 'delinquent')"""
            ),
            {"d": on},
        )


async def end_of_day(db: Database, on: date) -> int:
    await snapshot(db, on)
    async with db.unit_of_work() as s:
        return await evaluate_date_rules(s, on)


async def alerts(client: httpx.AsyncClient, **params: str) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/alerts", params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _noon(on: date) -> datetime:
    return datetime.combine(on, time(12), tzinfo=UTC)


# --- end-of-day rules ----------------------------------------------------------------------


async def test_a_part_paid_instalment_raises_one_alert_at_end_of_its_due_date(
    monitoring: httpx.AsyncClient, db: Database
) -> None:
    await register(monitoring, "L-1")
    await register(monitoring, "L-2")  # control: paid in full
    await pay(db, "L-1", "600.00", on=DUE)
    await pay(db, "L-2", "946.19", on=DUE)
    async with db.unit_of_work() as s:  # and its interest
        await s.execute(sa.text("UPDATE instalment SET paid_interest = interest WHERE seq = 1"))

    assert await end_of_day(db, D("2026-02-14")) == 0
    assert await end_of_day(db, DUE) == 1
    [alert] = await alerts(monitoring, rule="partial_payment_at_due")
    assert alert["loan_id"] == "L-1"
    assert (alert["rule_version"], alert["severity"], alert["status"]) == (1, "medium", "open")
    assert alert["raised_on"] == "2026-02-15"
    assert alert["evidence"] == {
        "seq": 1,
        "due_on": "2026-02-15",
        "amount_due": "1066.19",
        "paid": "720.00",
        "shortfall": "346.19",
        "grace_days": 0,
    }


async def test_an_unpaid_first_instalment_raises_first_payment_default_n_days_after_due(
    monitoring: httpx.AsyncClient, db: Database
) -> None:
    await register(monitoring, "L-1")
    await register(monitoring, "L-2")
    await pay(db, "L-2", "1066.19", on=DUE)
    for day in range(15, 21):
        assert await end_of_day(db, date(2026, 2, day)) == 0
    # The close of 2026-02-21 makes it 7 days past due on 2026-02-22: that end of day raises.
    assert await end_of_day(db, D("2026-02-21")) == 1
    [alert] = await alerts(monitoring, rule="first_payment_default")
    assert (alert["loan_id"], alert["severity"], alert["raised_on"]) == (
        "L-1",
        "high",
        "2026-02-21",
    )
    assert alert["evidence"]["paid"] == "0.00"
    assert alert["evidence"]["dpd"] == 7


async def test_at_most_one_alert_per_rule_and_loan_is_open_and_it_is_announced_once(
    monitoring: httpx.AsyncClient, db: Database, nats_server: NatsUnderTest
) -> None:
    await register(monitoring, "L-1")
    nc = await nats.connect(nats_server.url)
    try:
        sub = await nc.subscribe("postloan.monitoring.alert.raised")
        version = RuleVersion("broken_promise", 1, {}, "high", True)
        async with db.unit_of_work() as s:
            first = await raise_alerts(s, version, [FiredAlert("L-1", DUE, {"n": 1})])
            again = await raise_alerts(s, version, [FiredAlert("L-1", DUE, {"n": 2})] * 2)
        assert (first, again) == (1, 0)
        msg = await sub.next_msg(timeout=5)
        assert b'"rule":"broken_promise"' in msg.data
        with pytest.raises(nats.errors.TimeoutError):
            await sub.next_msg(timeout=0.5)
    finally:
        await nc.close()
    [alert] = await alerts(monitoring)
    assert alert["evidence"] == {"n": 1}


async def test_a_disabled_rule_raises_nothing(monitoring: httpx.AsyncClient, db: Database) -> None:
    await register(monitoring, "L-1")
    disabled = await monitoring.post("/api/v1/rules/first_payment_default/versions/1/disable")
    assert disabled.status_code == 200
    assert disabled.json()["enabled"] is False
    assert await end_of_day(db, D("2026-02-21")) == 0


# --- the workflow --------------------------------------------------------------------------


async def test_an_alert_is_acknowledged_then_resolved_with_who_and_when(
    monitoring: httpx.AsyncClient, db: Database
) -> None:
    await register(monitoring, "L-1")
    await end_of_day(db, D("2026-02-21"))
    [alert] = await alerts(monitoring)
    path = f"/api/v1/alerts/{alert['alert_id']}"

    acked = await monitoring.post(f"{path}/acknowledge", auth=signed(make_principal("amy")))
    assert acked.status_code == 200
    assert (acked.json()["status"], acked.json()["acknowledged_by"]) == ("acknowledged", "amy")
    assert acked.json()["acknowledged_at"] is not None
    twice = await monitoring.post(f"{path}/acknowledge")
    assert twice.status_code == 409
    assert twice.headers["content-type"] == "application/problem+json"

    resolved = await monitoring.post(f"{path}/resolve")
    assert resolved.status_code == 200
    body = resolved.json()
    assert (body["status"], body["resolved_by"], body["acknowledged_by"]) == (
        "resolved",
        "admin",  # the client's signed principal
        "amy",
    )
    assert (await monitoring.post(f"{path}/resolve")).status_code == 409
    assert (await monitoring.get(path)).json() == body


async def test_once_resolved_the_rule_may_fire_again_on_the_loan(
    monitoring: httpx.AsyncClient, db: Database
) -> None:
    await register(monitoring, "L-1")
    version = RuleVersion("broken_promise", 1, {}, "high", True)
    async with db.unit_of_work() as s:
        await raise_alerts(s, version, [FiredAlert("L-1", DUE, {})])
    [alert] = await alerts(monitoring)
    await monitoring.post(f"/api/v1/alerts/{alert['alert_id']}/resolve")
    async with db.unit_of_work() as s:
        assert await raise_alerts(s, version, [FiredAlert("L-1", DUE, {})]) == 1
    assert [a["status"] for a in await alerts(monitoring)] == ["open", "resolved"]


async def test_an_unknown_alert_is_a_404_problem(monitoring: httpx.AsyncClient) -> None:
    for response in (
        await monitoring.get("/api/v1/alerts/nope"),
        await monitoring.post("/api/v1/alerts/nope/acknowledge"),
        await monitoring.post("/api/v1/alerts/nope/resolve"),
    ):
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"


# --- the list ------------------------------------------------------------------------------


async def test_alerts_are_listed_newest_first_filtered_and_page_by_page(
    monitoring: httpx.AsyncClient, db: Database
) -> None:
    for n in range(5):
        await register(monitoring, f"L-{n}")
    async with db.unit_of_work() as s:
        for n in range(5):
            version = RuleVersion("contact_lost", 1, {}, "high", True)
            await raise_alerts(s, version, [FiredAlert(f"L-{n}", DUE, {})])
    low = RuleVersion("broken_promise", 1, {}, "low", True)
    async with db.unit_of_work() as s:
        await raise_alerts(s, low, [FiredAlert("L-0", DUE, {})])

    first = (await monitoring.get("/api/v1/alerts", params={"limit": 4})).json()
    second = (
        await monitoring.get("/api/v1/alerts", params={"limit": 4, "cursor": first["next_cursor"]})
    ).json()
    listed = first["items"] + second["items"]
    assert len(listed) == 6
    assert len({a["alert_id"] for a in listed}) == 6
    assert second["next_cursor"] is None
    assert listed[0]["rule"] == "broken_promise"  # the newest
    assert [a["loan_id"] for a in await alerts(monitoring, severity="low")] == ["L-0"]
    assert len(await alerts(monitoring, loan_id="L-0")) == 2
    assert len(await alerts(monitoring, rule="contact_lost", status="open")) == 5
    assert await alerts(monitoring, status="resolved") == []


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"status": "closed"}, 422),
        ({"severity": "urgent"}, 422),
        ({"rule": "no_such_rule"}, 422),
        ({"limit": "0"}, 422),
        ({"limit": "501"}, 422),
        ({"loan_id": "L 1"}, 422),
        ({"cursor": "!!!"}, 422),
        ({"cursor": "WyJ4IiwgMV0="}, 422),  # ["x", 1]
    ],
)
async def test_a_bad_alert_query_is_a_4xx_problem(
    monitoring: httpx.AsyncClient, params: dict[str, str], status: int
) -> None:
    response = await monitoring.get("/api/v1/alerts", params=params)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"


# --- contact data and broken promises, from the bus ----------------------------------------


async def publish(nats_url: str, payload: Payload, *, domain: str, subject: str) -> None:
    event = make_event(payload, source="tests", subject=subject, domain=domain)
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        headers = {"Nats-Msg-Id": str(event.id)}
        await js.publish(event.spec.subject, event.model_dump_json().encode(), headers=headers)
    finally:
        await nc.close()


async def borrower_flags(db: Database, borrower_id: str) -> tuple[bool, bool]:
    async with db.unit_of_work() as s:
        row = (
            await s.execute(
                sa.text("SELECT phone_valid, email_valid FROM borrower WHERE borrower_id = :b"),
                {"b": borrower_id},
            )
        ).one()
    return bool(row.phone_valid), bool(row.email_valid)


async def test_a_contact_update_invalidating_phone_and_email_raises_contact_lost_on_each_loan(
    monitoring: httpx.AsyncClient, db: Database, nats_server: NatsUnderTest
) -> None:
    await register(monitoring, "L-1", "B-1")
    await register(monitoring, "L-2", "B-1")
    await register(monitoring, "L-3", "B-3")
    at = _noon(DUE)
    await publish(
        nats_server.url,
        ContactUpdated(borrower_id="B-3", updated_at=at, phone_valid=False),  # e-mail still works
        domain="ingest",
        subject="B-3",
    )
    await publish(
        nats_server.url,
        ContactUpdated(borrower_id="B-1", updated_at=at, phone_valid=False, email_valid=False),
        domain="ingest",
        subject="B-1",
    )

    async def lost() -> bool:
        return len(await alerts(monitoring, rule="contact_lost")) == 2

    await eventually(lost)
    assert {a["loan_id"] for a in await alerts(monitoring)} == {"L-1", "L-2"}
    assert await borrower_flags(db, "B-1") == (False, False)
    assert await borrower_flags(db, "B-3") == (False, True)


async def test_a_new_phone_number_is_presumed_valid(
    monitoring: httpx.AsyncClient, db: Database, nats_server: NatsUnderTest
) -> None:
    await register(monitoring, "L-1", "B-1")
    at = _noon(DUE)
    lost = ContactUpdated(borrower_id="B-1", updated_at=at, phone_valid=False, email_valid=False)
    found = ContactUpdated(borrower_id="B-1", updated_at=at, phone="+8613900000000")
    await publish(nats_server.url, lost, domain="ingest", subject="B-1")
    await publish(nats_server.url, found, domain="ingest", subject="B-1")

    async def phone_back() -> bool:
        return await borrower_flags(db, "B-1") == (True, False)

    await eventually(phone_back)


async def test_a_broken_promise_from_collections_raises_an_alert_on_its_loan(
    monitoring: httpx.AsyncClient, nats_server: NatsUnderTest
) -> None:
    await register(monitoring, "L-1")
    promise = PromiseBroken(
        promise_id=uuid.UUID("0b7c1d4e-2f6a-4c1b-9e7d-5a3b2c1d0e9f"),
        loan_id="L-1",
        promised_amount=Decimal("500.00"),
        promised_on=D("2026-02-20"),
    )
    unknown = PromiseBroken.model_validate(promise.model_dump() | {"loan_id": "L-404"})
    await publish(nats_server.url, unknown, domain="collections", subject="L-404")
    await publish(nats_server.url, promise, domain="collections", subject="L-1")

    async def raised() -> bool:
        return len(await alerts(monitoring, rule="broken_promise")) == 1

    await eventually(raised)
    [alert] = await alerts(monitoring)
    assert alert["loan_id"] == "L-1"
    assert alert["evidence"]["promised_amount"] == "500.00"


async def test_shrinking_repayments_are_caught_when_the_payment_is_announced(
    monitoring: httpx.AsyncClient, db: Database, nats_server: NatsUnderTest
) -> None:
    await register(monitoring, "L-1")
    for month, amount in enumerate(["1066.19", "700.00", "300.00"]):
        on = date(2026, 2 + month, 15)
        payment_id = await pay(db, "L-1", amount, on=on, seq=month + 1)
        line = AllocationLine(
            seq=month + 1,
            penalty=Decimal(0),
            fees=Decimal(0),
            interest=Decimal(0),
            principal=Decimal(amount),
        )
        applied = PaymentApplied(
            payment_id=payment_id,
            loan_id="L-1",
            amount=Decimal(amount),
            currency="CNY",
            paid_at=_noon(on),
            booked_on=on,
            allocation=[line],
            unapplied=Decimal(0),
            outstanding_total=Decimal("0.00"),
        )
        await publish(nats_server.url, applied, domain="monitoring", subject="L-1")

    async def raised() -> bool:
        return len(await alerts(monitoring, rule="shrinking_repayments")) == 1

    await eventually(raised)
    [alert] = await alerts(monitoring)
    assert alert["raised_on"] == "2026-04-15"
    assert alert["evidence"]["amounts"] == ["1066.19", "700.00", "300.00"]
