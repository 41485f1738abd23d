"""Scoring: probability of default, risk tiers and reason codes."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from scoring.entrypoints.api.loans import router as loans
from scoring.entrypoints.consumers import subscriptions
from scoring.settings import ScoringSettings
from shared.app import ServiceDefinition, create_service_app


def create_app(settings: ScoringSettings | None = None) -> FastAPI:
    definition = ServiceDefinition(
        name="scoring",
        title="PostLoan scoring",
        description="Behavioural probability of default, risk tiers, reason codes.",
        routers=[loans],
        subscriptions=subscriptions(),
        migrations=Path(__file__).parent / "migrations",
    )
    return create_service_app(definition, settings or ScoringSettings())
