"""Collections: strategies, cases, the compliance guard and incentives."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from collections_service.domain.offers import OfferPolicy, limits_from
from collections_service.domain.quadrant import thresholds_from
from collections_service.entrypoints.api.agencies import agency_router as agencies
from collections_service.entrypoints.api.agencies import placement_router as placements
from collections_service.entrypoints.api.cases import queue_router as work_queue
from collections_service.entrypoints.api.cases import router as cases
from collections_service.entrypoints.api.cases import task_router as tasks
from collections_service.entrypoints.api.compliance import router as compliance
from collections_service.entrypoints.api.disputes import router as disputes
from collections_service.entrypoints.api.legal import router as legal
from collections_service.entrypoints.api.loans import router as loans
from collections_service.entrypoints.api.offers import router as offers
from collections_service.entrypoints.api.results_report import router as results_report
from collections_service.entrypoints.api.strategies import router as strategies
from collections_service.entrypoints.consumers import subscriptions
from collections_service.service_layer.clock import Clock, Context, system_clock
from collections_service.settings import CollectionsSettings
from collections_service.workers import workers
from shared.app import ServiceDefinition, create_service_app


def create_app(
    settings: CollectionsSettings | None = None, *, clock: Clock = system_clock
) -> FastAPI:
    """``clock`` is the wall clock contacts are decided by (tests fix it)."""
    settings = settings or CollectionsSettings()
    ctx = Context(
        now=clock,
        contact_line=settings.lender_contact_line,
        thresholds=thresholds_from(settings.quadrant_thresholds),
        contact_costs=settings.contact_costs,
        results_seed=settings.results_seed,
        offers=OfferPolicy(
            limits=limits_from(settings.offer_approval_limits),
            quick_cure_days=settings.quick_cure_days,
            points_per_instalment=settings.points_per_instalment,
            point_value=settings.point_value,
        ),
    )
    definition = ServiceDefinition(
        name="collections",
        title="PostLoan collections",
        description="Collection strategies, cases, the compliance guard, incentives.",
        routers=[
            loans,
            cases,
            work_queue,
            tasks,
            results_report,
            strategies,
            compliance,
            disputes,
            agencies,
            placements,
            legal,
            offers,
        ],
        subscriptions=subscriptions(ctx),
        workers=workers(settings, ctx),
        migrations=Path(__file__).parent / "migrations",
    )
    # Every route needs the gateway's signed principal (the factory's check, 401 without); what
    # the caller may see of cases is then checked by the routes (service_layer.access).
    app = create_service_app(definition, settings)
    app.state.context = ctx
    return app
