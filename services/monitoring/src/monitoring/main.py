"""Monitoring: the loan ledger and the watchtower."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from monitoring.entrypoints.api.alerts import router as alerts
from monitoring.entrypoints.api.bureau import router as bureau
from monitoring.entrypoints.api.bureau import start_bureau_refresh
from monitoring.entrypoints.api.eod import router as eod
from monitoring.entrypoints.api.eod import start_eod_runner
from monitoring.entrypoints.api.imports import router as imports
from monitoring.entrypoints.api.loans import router as loans
from monitoring.entrypoints.api.payments import router as payments
from monitoring.entrypoints.api.portfolio import router as portfolio
from monitoring.entrypoints.api.products import router as products
from monitoring.entrypoints.api.rules import router as rules
from monitoring.entrypoints.api.rules import seed_rules
from monitoring.entrypoints.consumers import subscriptions
from monitoring.settings import MonitoringSettings
from shared.app import ServiceDefinition, create_service_app


def create_app(settings: MonitoringSettings | None = None) -> FastAPI:
    settings = settings or MonitoringSettings()
    definition = ServiceDefinition(
        name="monitoring",
        title="PostLoan monitoring",
        description="Loan ledger, business date, delinquency, early warnings, analytics.",
        routers=[loans, eod, portfolio, payments, products, alerts, rules, bureau, imports],
        subscriptions=subscriptions(),
        migrations=Path(__file__).parent / "migrations",
        on_startup=[seed_rules, start_eod_runner, start_bureau_refresh],
    )
    return create_service_app(definition, settings)
