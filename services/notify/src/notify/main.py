"""Notify: renders and delivers SMS, e-mail, push, voice and letters."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from notify.entrypoints.api.recipients import router as recipients
from notify.entrypoints.consumers import subscriptions
from notify.settings import NotifySettings
from notify.workers import workers
from shared.app import ServiceDefinition, create_service_app


def create_app(settings: NotifySettings | None = None) -> FastAPI:
    settings = settings or NotifySettings()
    definition = ServiceDefinition(
        name="notify",
        title="PostLoan notify",
        description="Templates, channels, deliveries and suppressions.",
        routers=[recipients],
        subscriptions=subscriptions(),
        workers=workers(settings),
        migrations=Path(__file__).parent / "migrations",
    )
    return create_service_app(definition, settings)
