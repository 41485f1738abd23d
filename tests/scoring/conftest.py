"""Scoring under test: the service on real PostgreSQL and NATS, fed monitoring's events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta

import httpx
import numpy as np
import pandas as pd
import pytest

from scoring.domain.features import BEHAVIOUR_FEATURES
from scoring.domain.labels import TargetDefinition, build_samples, month_ends
from scoring.domain.model import ScoreScale, TierCutoffs
from scoring.main import create_app
from scoring.settings import ScoringSettings
from scoring.training.challenger import train_challenger
from scoring.training.scorecard import train_scorecard
from scoring_events import Monitoring, Trained
from shared.db import Database
from shared.testing.plugin import NatsUnderTest
from shared.testing.servers import running
from simulated_histories import histories_from_plan
from simulator import make_plan


@pytest.fixture
def scoring_settings(database_url: str, nats_server: NatsUnderTest) -> ScoringSettings:
    return ScoringSettings(
        database_url=database_url,
        nats_url=nats_server.url,
        outbox_poll_interval_s=0.2,
        rescore_poll_interval_s=0.2,
        rescore_chunk_size=100,
    )


@pytest.fixture
async def scoring(scoring_settings: ScoringSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(scoring_settings)) as client:
        yield client


@pytest.fixture
async def scoring_db(scoring_settings: ScoringSettings) -> AsyncIterator[Database]:
    db = Database(scoring_settings.database_url)
    try:
        yield db
    finally:
        await db.dispose()


@pytest.fixture
def monitoring(nats_server: NatsUnderTest) -> Monitoring:
    return Monitoring(nats_server.url)


# --- models trained on the simulator's portfolio (once per session: a few seconds) ----------


@pytest.fixture(scope="session")
def trained() -> Trained:
    plan = make_plan(loans=600, months=20, seed=11, start=date(2024, 1, 1))
    histories = histories_from_plan(plan)
    known_until = plan.end - timedelta(days=1)
    samples = build_samples(
        histories,
        month_ends(plan.start, known_until),
        TargetDefinition(dpd_threshold=60, horizon_months=6),
        known_until=known_until,
    )
    names = [f.name for f in BEHAVIOUR_FEATURES]
    frame = pd.DataFrame([{n: s.features[n] for n in names} for s in samples]).astype("float64")
    target = np.array([s.bad for s in samples])
    scale, tiers = ScoreScale(), TierCutoffs()
    champion = train_scorecard(
        frame, target, BEHAVIOUR_FEATURES, version="bscore-test-1", scale=scale, tiers=tiers
    ).model
    challenger = train_challenger(
        frame, target, BEHAVIOUR_FEATURES, version="gbm-test-1", seed=7, scale=scale, tiers=tiers
    )
    return Trained(champion, challenger, frame)
