"""Monitoring: the loan ledger and the watchtower."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from monitoring.entrypoints.api.alerts import router as alerts
from monitoring.entrypoints.api.bureau import router as bureau
from monitoring.entrypoints.api.eod import router as eod
from monitoring.entrypoints.api.imports import router as imports
from monitoring.entrypoints.api.loans import router as loans
from monitoring.entrypoints.api.payments import router as payments
from monitoring.entrypoints.api.portfolio import router as portfolio
from monitoring.entrypoints.api.products import router as products
from monitoring.entrypoints.api.rules import router as rules
from monitoring.entrypoints.api.rules import seed_rules
from monitoring.entrypoints.consumers import subscriptions
from monitoring.settings import MonitoringSettings
from monitoring.workers import Workers
from shared.app import ServiceDefinition, create_service_app


def create_app(settings: MonitoringSettings | None = None) -> FastAPI:
    settings = settings or MonitoringSettings()
    workers = Workers(settings)
    definition = ServiceDefinition(
        name="monitoring",
        title="PostLoan monitoring",
        description="Loan ledger, business date, delinquency, early warnings, analytics.",
        routers=[loans, eod, portfolio, payments, products, alerts, rules, bureau, imports],
        subscriptions=subscriptions(),
        migrations=Path(__file__).parent / "migrations",
        workers=workers.all(),
        on_startup=[seed_rules],
    )
    app = create_service_app(definition, settings)
    app.state.eod_runner = workers.eod  # the end-of-day routes hand it the runs to start
    return app
