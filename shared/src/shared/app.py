"""The service app factory: every PostLoan service is built here, the same way.

A service supplies a :class:`ServiceDefinition` (its name, settings, routers, event
subscriptions, workers and migrations folder) and gets a FastAPI app with health and
readiness, ``/metrics``, problem responses, tracing, the gateway's signed principal required on
every route of its routers (:mod:`shared.principal`), and a lifespan that migrates the database,
connects the bus, provisions the streams, and runs the outbox relay, the consumers and the
service's workers (each restarted with back-off when it fails); on shutdown (SIGTERM under
uvicorn) consumers finish their batch, the relay stops, the workers are cancelled and NATS is
drained.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.middleware import Middleware

from shared.db import Database, migrate
from shared.docs import install_docs
from shared.http import ObservabilityMiddleware
from shared.logs import setup_logging
from shared.messaging.bus import Bus
from shared.messaging.consumer import Consumer, ConsumerOptions, Subscription
from shared.messaging.outbox import Relay, backlog
from shared.metrics import OUTBOX_BACKLOG
from shared.nul_guard import NulGuardMiddleware
from shared.openapi import install_openapi
from shared.principal import PrincipalVerifier, current_principal
from shared.problems import install_problem_handlers, problem_response
from shared.settings import ServiceSettings
from shared.telemetry import setup_tracing

log = logging.getLogger(__name__)

#: Delay before the n-th consecutive restart of a failed worker (the last one repeats).
WORKER_RESTART_DELAYS_S: tuple[float, ...] = (1.0, 2.0, 5.0, 15.0, 30.0)
#: A worker that ran this long before failing starts again from the first delay.
WORKER_HEALTHY_AFTER_S = 60.0


@dataclass(frozen=True)
class Worker:
    """A background loop of a service: started once the runtime is up, cancelled (after the
    consumers stop) on shutdown."""

    name: str
    run: Callable[[Runtime], Awaitable[None]]


@dataclass(frozen=True)
class ServiceDefinition:
    """What differs between services; everything else is the factory's."""

    name: str
    title: str
    routers: Sequence[APIRouter] = ()
    subscriptions: Sequence[Subscription] = ()
    migrations: Path | None = None
    description: str = ""
    on_startup: Sequence[Callable[[FastAPI], Any]] = field(default_factory=tuple)
    openapi_url: str = "/openapi.json"
    #: ASGI middleware run inside the shared observability middleware (so it is traced).
    middleware: Sequence[Middleware] = ()
    #: Entered after the runtime has started and exited before it stops.
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None
    #: The service's background loops besides the relay and the consumers (its ``workers.py``).
    workers: Sequence[Worker] = ()
    #: Dependencies run before every route of ``routers``, after the factory's own
    #: ``Depends(current_principal)`` (which every service gets: no route of ``routers`` answers
    #: without the gateway's signed principal, 401 otherwise).
    router_dependencies: Sequence[Any] = ()
    #: Routers whose routes carry a credential of their own instead of the principal (e.g.
    #: notify's provider receipts, HMAC-signed with the channel's webhook secret): included
    #: without the principal check, so each of their routes must check its credential itself.
    self_authenticating_routers: Sequence[APIRouter] = ()
    #: Whether ``routers`` need the signed principal: true for every service; false only for
    #: the gateway, which authenticates callers itself and is where the principal is signed.
    require_principal: bool = True


@dataclass
class Runtime:
    """What the lifespan builds and tears down: reachable as ``request.app.state.runtime``."""

    settings: ServiceSettings
    db: Database
    bus: Bus
    relay: Relay
    consumers: list[Consumer]
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    #: The supervised workers' tasks: cancelled at shutdown, once the consumers have stopped.
    workers: list[asyncio.Task[None]] = field(default_factory=list)


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


async def session(request: Request) -> AsyncIterator[AsyncSession]:
    """A unit of work for one request: committed when the route returns, else rolled back."""
    async with runtime(request).db.unit_of_work() as s:
        yield s


#: ``scope="function"``: committed before the response is sent — with FastAPI's default
#: (``"request"``) a 201 could reach the client and the commit then fail or never happen.
SessionDep = Annotated[AsyncSession, Depends(session, scope="function")]
RuntimeDep = Annotated[Runtime, Depends(runtime)]


async def _start(definition: ServiceDefinition, settings: ServiceSettings) -> Runtime:
    if settings.run_migrations:
        await migrate(settings.database_url, definition.migrations)
    db = Database(settings.database_url)
    bus = Bus(settings.nats_url, client_name=definition.name, replicas=settings.stream_replicas)
    await bus.connect()
    await bus.provision()
    relay = Relay(
        settings.database_url,
        bus,
        service=definition.name,
        poll_interval=settings.outbox_poll_interval_s,
    )
    options = ConsumerOptions(
        batch_size=settings.consumer_batch_size, max_deliveries=settings.consumer_max_deliveries
    )
    consumers = [Consumer(s, bus=bus, db=db, options=options) for s in definition.subscriptions]
    rt = Runtime(settings=settings, db=db, bus=bus, relay=relay, consumers=consumers)
    if settings.relay_enabled:
        rt.tasks.append(asyncio.create_task(relay.run(), name=f"{definition.name}-relay"))
    if settings.consumers_enabled:
        rt.tasks += [asyncio.create_task(c.run(), name=c.subscription.durable) for c in consumers]
    return rt


async def supervise(worker: Worker, rt: Runtime) -> None:
    """Run ``worker`` until it returns or is cancelled; log each failure and restart it after a
    growing delay (reset once a run has lasted :data:`WORKER_HEALTHY_AFTER_S`)."""
    loop = asyncio.get_running_loop()
    failures = 0
    while True:
        started = loop.time()
        try:
            await worker.run(rt)
        except Exception:
            if loop.time() - started >= WORKER_HEALTHY_AFTER_S:
                failures = 0
            delay = WORKER_RESTART_DELAYS_S[min(failures, len(WORKER_RESTART_DELAYS_S) - 1)]
            failures += 1
            log.exception("worker %s failed; restarting in %.1f s", worker.name, delay)
            await asyncio.sleep(delay)
            continue
        log.info("worker %s finished", worker.name)
        return


def _start_workers(definition: ServiceDefinition, rt: Runtime) -> None:
    for worker in definition.workers:
        name = f"{definition.name}-{worker.name}"
        rt.workers.append(asyncio.create_task(supervise(worker, rt), name=name))


async def _stop_workers(rt: Runtime) -> None:
    for task in rt.workers:
        task.cancel()
    for outcome in await asyncio.gather(*rt.workers, return_exceptions=True):
        if isinstance(outcome, Exception):  # supervise() logs failures: only a bug lands here
            log.error("worker stopped with an error: %r", outcome)


async def _stop(rt: Runtime) -> None:
    for consumer in rt.consumers:
        consumer.stop()
    rt.relay.stop()
    done, pending = await asyncio.wait(rt.tasks, timeout=15) if rt.tasks else (set(), set())
    for task in pending:
        task.cancel()
    for task in done:
        if not task.cancelled() and task.exception():
            log.error("background task %s failed: %s", task.get_name(), task.exception())
    await _stop_workers(rt)
    await rt.bus.close()
    await rt.db.dispose()


def _ops_router(definition: ServiceDefinition) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": definition.name}

    @router.get("/readyz")
    async def readyz(request: Request) -> Response:
        rt: Runtime | None = getattr(request.app.state, "runtime", None)
        checks = {"database": False, "bus": False}
        if rt is not None:
            try:
                await asyncio.wait_for(rt.db.ping(), timeout=2)
                checks["database"] = True
            except Exception as exc:
                log.warning("readiness: database unavailable: %s", exc)
            checks["bus"] = rt.bus.is_connected
        if all(checks.values()):
            return Response(b'{"status":"ready"}', media_type="application/json")
        return problem_response(503, "Not ready", "dependencies unavailable", checks=checks)

    @router.get("/metrics")
    async def metrics(request: Request) -> Response:
        rt: Runtime | None = getattr(request.app.state, "runtime", None)
        if rt is not None:
            try:
                async with rt.db.unit_of_work() as s:
                    OUTBOX_BACKLOG.labels(definition.name).set(await backlog(s))
            except Exception as exc:
                log.warning("metrics: outbox backlog unavailable: %s", exc)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


def create_service_app(definition: ServiceDefinition, settings: ServiceSettings) -> FastAPI:
    """Build a service's ASGI app; nothing connects until the lifespan starts."""
    setup_logging(definition.name, level=settings.log_level, as_json=settings.log_json)
    setup_tracing(definition.name)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.runtime = await _start(definition, settings)
        for hook in definition.on_startup:
            result = hook(app)
            if asyncio.iscoroutine(result):
                await result
        _start_workers(definition, app.state.runtime)
        # What start-up built (modules, app, pools) lives as long as the process: kept out of
        # the collector's full passes, which would otherwise walk it all on every one of them.
        gc.collect()
        gc.freeze()
        log.info("%s started", definition.name)
        try:
            if definition.lifespan is None:
                yield
            else:
                async with definition.lifespan(app):
                    yield
        finally:
            await _stop(app.state.runtime)
            log.info("%s stopped", definition.name)

    app = FastAPI(
        title=definition.title,
        description=definition.description,
        version="1.0.0",
        lifespan=lifespan,
        docs_url=None,  # shared.docs serves the page from the platform's own files
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        openapi_url=definition.openapi_url,
        # ObservabilityMiddleware makes the server span and the metrics; FastAPI's native
        # telemetry would add a second span per request (~70-125 µs of CPU each, measured).
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.settings = settings
    app.state.principal_verifier = PrincipalVerifier(
        secret=settings.principal_secret.get_secret_value(),
        allow_unsigned=settings.allow_unsigned_principal,
    )
    for middleware in reversed(definition.middleware):
        app.add_middleware(middleware.cls, *middleware.args, **middleware.kwargs)
    app.add_middleware(NulGuardMiddleware)
    app.add_middleware(ObservabilityMiddleware, service=definition.name)
    install_problem_handlers(app)
    app.include_router(_ops_router(definition))
    # The health, readiness and metrics routes above, and the OpenAPI document and docs page,
    # stay open; every API route needs the verified caller (``shared.principal``).
    check = [Depends(current_principal)] if definition.require_principal else []
    guarded = [*check, *definition.router_dependencies]
    for router in definition.routers:
        app.include_router(router, dependencies=guarded)
    for router in definition.self_authenticating_routers:
        app.include_router(router)
    install_openapi(app)  # every error documented as a problem, callers' security per route
    install_docs(app)
    return app
