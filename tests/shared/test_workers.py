"""Workers of the app factory: started with the runtime, restarted after failures, cancelled at
shutdown; and the typed handler tables of consumers."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
import sqlalchemy as sa
from fastapi import APIRouter
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from postloan_testing.plugin import NatsUnderTest
from principals import PRINCIPAL_SECRET, signed
from shared import app as factory
from shared.app import (
    Runtime,
    ServiceDefinition,
    SessionDep,
    Worker,
    create_service_app,
    supervise,
)
from shared.events import CloudEvent, ContactUpdated, LoanAccepted, PaymentApplied, spec_for
from shared.messaging.consumer import On, handler_table
from shared.settings import ServiceSettings


async def test_a_failing_worker_is_logged_by_name_and_restarted(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(factory, "WORKER_RESTART_DELAYS_S", (0.0,))
    runs: list[int] = []

    async def flaky(_: Runtime) -> None:
        runs.append(len(runs) + 1)
        if len(runs) < 3:
            raise RuntimeError(f"run {len(runs)} broke")

    with caplog.at_level(logging.ERROR, logger="shared.app"):
        await asyncio.wait_for(supervise(Worker("flaky", flaky), _no_runtime()), timeout=5)

    assert runs == [1, 2, 3]
    failures = [r for r in caplog.records if "worker flaky failed" in r.getMessage()]
    assert len(failures) == 2
    assert failures[0].exc_info is not None
    assert "run 1 broke" in str(failures[0].exc_info[1])


async def test_restarts_wait_longer_after_each_consecutive_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    delays: list[float] = []

    async def no_wait(seconds: float) -> None:
        delays.append(seconds)

    monkeypatch.setattr(factory, "WORKER_RESTART_DELAYS_S", (1.0, 2.0, 5.0))
    monkeypatch.setattr(asyncio, "sleep", no_wait)
    runs = 0

    async def broken(_: Runtime) -> None:
        nonlocal runs
        runs += 1
        if runs <= 4:
            raise RuntimeError("still broken")

    await supervise(Worker("broken", broken), _no_runtime())

    assert delays == [1.0, 2.0, 5.0, 5.0]


async def test_the_factory_runs_workers_with_the_runtime_and_cancels_them_at_shutdown(
    database_url: str, nats_server: NatsUnderTest
) -> None:
    seen: list[Runtime] = []
    cancelled = asyncio.Event()

    async def loop(rt: Runtime) -> None:
        seen.append(rt)
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    definition = ServiceDefinition(name="t", title="t", workers=[Worker("loop", loop)])
    settings = ServiceSettings(database_url=database_url, nats_url=nats_server.url)
    app = create_service_app(definition, settings)
    async with app.router.lifespan_context(app):
        rt: Runtime = app.state.runtime
        await asyncio.sleep(0)  # let the worker's task take its first step
        assert seen == [rt]
        assert [t.get_name() for t in rt.workers] == ["t-loop"]
        assert not cancelled.is_set()

    assert cancelled.is_set()
    assert all(t.done() for t in rt.workers)


async def _accepted(session: AsyncSession, event: CloudEvent, payload: LoanAccepted) -> None:
    del session, event, payload


async def _applied(session: AsyncSession, event: CloudEvent, payload: PaymentApplied) -> None:
    del session, event, payload


def test_a_handler_table_maps_each_event_type_to_its_typed_handler() -> None:
    table = handler_table(
        On(LoanAccepted, _accepted), On(PaymentApplied, _applied, domain="monitoring")
    )

    assert table == {
        spec_for(LoanAccepted).type: _accepted,
        spec_for(PaymentApplied, domain="monitoring").type: _applied,
    }


def test_a_handler_table_refuses_two_handlers_of_one_event_type() -> None:
    with pytest.raises(ValueError, match="two handlers"):
        handler_table(On(LoanAccepted, _accepted), On(LoanAccepted, _accepted))


def test_a_row_for_a_payload_outside_the_domain_named_is_refused() -> None:
    with pytest.raises(KeyError):
        handler_table(On(ContactUpdated, _contact, domain="monitoring"))


async def _contact(session: AsyncSession, event: CloudEvent, payload: ContactUpdated) -> None:
    del session, event, payload


def _no_runtime() -> Runtime:
    """supervise() only hands the runtime to the worker; these workers do not look at it."""
    return Runtime.__new__(Runtime)


async def test_a_route_answers_only_after_its_unit_of_work_is_committed(
    database_url: str, nats_server: NatsUnderTest
) -> None:
    """A commit that fails (here a deferred unique check, which only COMMIT runs) is the
    answer: never a 201 for a write that was not kept."""
    router = APIRouter()

    @router.post("/things/{key}", status_code=201)
    async def add(key: int, session: SessionDep) -> dict[str, int]:
        await session.execute(sa.text("INSERT INTO once_only (k) VALUES (:k)"), {"k": key})
        return {"k": key}

    definition = ServiceDefinition(name="t", title="t", routers=[router])
    settings = ServiceSettings(
        database_url=database_url,
        nats_url=nats_server.url,
        principal_secret=SecretStr(PRINCIPAL_SECRET),
    )
    app = create_service_app(definition, settings)
    async with app.router.lifespan_context(app):
        db = app.state.runtime.db
        async with db.unit_of_work() as s:
            await s.execute(
                sa.text("CREATE TABLE once_only (k int UNIQUE DEFERRABLE INITIALLY DEFERRED)")
            )
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        client = httpx.AsyncClient(transport=transport, base_url="http://t", auth=signed())
        async with client:
            assert (await client.post("/things/1")).status_code == 201
            again = await client.post("/things/1")
        async with db.unit_of_work() as s:
            kept = (await s.execute(sa.text("SELECT count(*) FROM once_only"))).scalar_one()
    assert again.status_code >= 400
    assert kept == 1
