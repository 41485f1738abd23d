"""Monitoring: the loan ledger and the watchtower."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from monitoring.entrypoints.api.loans import router as loans
from monitoring.entrypoints.consumers import subscriptions
from monitoring.settings import MonitoringSettings
from shared.app import ServiceDefinition, create_service_app


def create_app(settings: MonitoringSettings | None = None) -> FastAPI:
    settings = settings or MonitoringSettings()
    definition = ServiceDefinition(
        name="monitoring",
        title="PostLoan monitoring",
        description="Loan ledger, business date, delinquency, early warnings, analytics.",
        routers=[loans],
        subscriptions=subscriptions(),
        migrations=Path(__file__).parent / "migrations",
    )
    return create_service_app(definition, settings)
