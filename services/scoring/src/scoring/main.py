"""Scoring: probability of default, risk tiers and reason codes."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from scoring.entrypoints.api.loans import router as loans
from scoring.entrypoints.api.models import router as models
from scoring.entrypoints.api.scores import router as scores
from scoring.entrypoints.consumers import subscriptions
from scoring.settings import ScoringSettings
from scoring.workers import workers
from shared.app import ServiceDefinition, create_service_app


def create_app(settings: ScoringSettings | None = None) -> FastAPI:
    settings = settings or ScoringSettings()
    definition = ServiceDefinition(
        name="scoring",
        title="PostLoan scoring",
        description=(
            "Behavioural probability of default (B-score): scorecard points, risk tiers A–E, "
            "reason codes, a model registry with champion/challenger, and drift reports."
        ),
        routers=[scores, models, loans],
        subscriptions=subscriptions(),
        workers=workers(settings),
        migrations=Path(__file__).parent / "migrations",
    )
    return create_service_app(definition, settings)
