"""What the scoring tests feed the service: monitoring's events, and models to serve.

Events are published as monitoring publishes them (its subjects, ``Nats-Msg-Id`` = event id),
each under a new envelope: a repeat of a payload is a redelivery of the fact, not of the
message, so it exercises the service's own idempotency rather than JetStream's.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

import nats
import numpy as np
import pandas as pd

from factories import make_registration
from monitoring.domain.loans import resolve
from scoring.domain.drift import reference_of
from scoring.domain.features import BEHAVIOUR_FEATURES
from scoring.domain.gbm import GbmModel
from scoring.domain.labels import TargetDefinition, build_samples, month_ends
from scoring.domain.model import ScoreScale, ServedModel, TierCutoffs, feature_matrix
from scoring.domain.scorecard import ScorecardModel
from scoring.training.challenger import train_challenger
from scoring.training.scorecard import train_scorecard
from shared.events import (
    AllocationLine,
    BureauRecorded,
    CloudEvent,
    EodCompleted,
    LoanAccepted,
    LoanRegistered,
    Payload,
    PaymentApplied,
    make_event,
)
from simulated_histories import histories_from_plan
from simulator import make_plan

ZERO = Decimal("0.00")


class Monitoring:
    """Publishes events as monitoring would, and reads what scoring announced."""

    def __init__(self, nats_url: str) -> None:
        self.nats_url = nats_url

    async def publish(self, *payloads: Payload) -> None:
        for payload in payloads:
            await self.publish_event(
                make_event(payload, source="postloan/monitoring", domain="monitoring")
            )

    async def publish_event(self, event: CloudEvent, *, msg_id: str | None = None) -> None:
        """Publish one envelope; another ``msg_id`` gets it past JetStream's duplicate window,
        as a re-publication after the window would."""
        nc = await nats.connect(self.nats_url)
        try:
            await nc.jetstream().publish(
                event.spec.subject,
                event.model_dump_json().encode(),
                headers={"Nats-Msg-Id": msg_id or str(event.id)},
            )
        finally:
            await nc.close()

    async def score_updates(self) -> list[dict[str, Any]]:
        """The data of every ``scoring.score.updated`` event so far, in order."""
        return await self.events("postloan.scoring.score.updated")

    async def events(self, subject: str, stream: str = "POSTLOAN_SCORING") -> list[dict[str, Any]]:
        """The data of every event published on ``subject`` of ``stream`` so far, in order."""
        nc = await nats.connect(self.nats_url)
        try:
            js = nc.jetstream()
            sub = await js.pull_subscribe(subject, stream=stream)
            found: list[dict[str, Any]] = []
            while True:
                try:
                    msgs = await sub.fetch(500, timeout=0.5)
                except TimeoutError:  # nats-py raises the bare one, not only its own subclass,
                    return found  # when the fetch's deadline passes between its two requests
                for msg in msgs:
                    found.append(json.loads(msg.data)["data"])
                    await msg.ack()
        finally:
            await nc.close()


@dataclass(frozen=True)
class Trained:
    """Models trained on the simulator's portfolio, and their development sample."""

    champion: ScorecardModel
    challenger: GbmModel
    frame: pd.DataFrame

    def upload(self, model: ServedModel) -> dict[str, Any]:
        """The body of ``POST /api/v1/scoring/models`` for one of the two models."""
        rows = self.frame[[f.name for f in BEHAVIOUR_FEATURES]].to_dict("records")
        return {
            "document": model.to_json(),
            "report": {"fingerprint": "simulated-portfolio-seed-11"},
            "reference": reference_of(model, feature_matrix(rows, model.features)),
        }


def accepted(loan_id: str, *, disbursed_on: date) -> LoanAccepted:
    """Monitoring's ``loan.registered`` of a 12-month annuity loan, with its schedule."""
    body = make_registration(
        loan_id=loan_id,
        borrower_id=f"B-{loan_id}",
        disbursed_on=disbursed_on.isoformat(),
        first_due_on=None,
    )
    return resolve(LoanRegistered.model_validate(body)).accepted


def applied(
    loan_id: str,
    payment_id: str,
    booked_on: date,
    *,
    seq: int,
    principal: Decimal,
    interest: Decimal,
) -> PaymentApplied:
    """A payment of one instalment's principal and interest, booked on ``booked_on``."""
    line = AllocationLine(seq=seq, penalty=ZERO, fees=ZERO, interest=interest, principal=principal)
    return PaymentApplied(
        payment_id=payment_id,
        loan_id=loan_id,
        amount=principal + interest,
        currency="CNY",
        paid_at=datetime.combine(booked_on, time(10), UTC),
        booked_on=booked_on,
        allocation=[line],
        unapplied=ZERO,
        outstanding_total=ZERO,
    )


def bureau(borrower_id: str, day: date, *, score: int, inquiries: int = 1) -> BureauRecorded:
    return BureauRecorded(
        borrower_id=borrower_id,
        reported_at=datetime.combine(day, time(8), UTC),
        score=score,
        inquiries_30d=inquiries,
        open_loans=1,
        total_debt=Decimal("10000.00"),
        delinquent_accounts=0,
    )


def eod(as_of: date) -> EodCompleted:
    """The close of ``as_of``: the business date becomes the next day."""
    return EodCompleted(
        run_id=uuid.uuid4(),
        as_of=as_of,
        business_date=as_of + timedelta(days=1),
        loans_total=0,
        transitions=0,
    )


@cache
def trained_on_simulator() -> Trained:
    """A champion and a challenger trained on the simulator's portfolio (a few seconds)."""
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
