"""Collections: strategies, cases, the compliance guard and incentives."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from collections_service.entrypoints.api.loans import router as loans
from collections_service.entrypoints.consumers import subscriptions
from collections_service.settings import CollectionsSettings
from shared.app import ServiceDefinition, create_service_app


def create_app(settings: CollectionsSettings | None = None) -> FastAPI:
    definition = ServiceDefinition(
        name="collections",
        title="PostLoan collections",
        description="Collection strategies, cases, the compliance guard, incentives.",
        routers=[loans],
        subscriptions=subscriptions(),
        migrations=Path(__file__).parent / "migrations",
    )
    return create_service_app(definition, settings or CollectionsSettings())
