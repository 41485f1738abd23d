"""Collections: strategies, cases, the compliance guard and incentives."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from collections_service.entrypoints.api.loans import router as loans
from collections_service.entrypoints.consumers import subscriptions
from collections_service.settings import CollectionsSettings
from collections_service.workers import workers
from shared.app import ServiceDefinition, create_service_app


def create_app(settings: CollectionsSettings | None = None) -> FastAPI:
    settings = settings or CollectionsSettings()
    definition = ServiceDefinition(
        name="collections",
        title="PostLoan collections",
        description="Collection strategies, cases, the compliance guard, incentives.",
        routers=[loans],
        subscriptions=subscriptions(),
        workers=workers(settings),
        migrations=Path(__file__).parent / "migrations",
    )
    return create_service_app(definition, settings)
