"""Monitoring's event consumers: registrations published by lender systems."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from monitoring.service_layer.registration import register_loan
from monitoring.settings import MonitoringSettings
from shared.events import BY_TYPE, CloudEvent, LoanRegistered, Payload, spec_for
from shared.messaging.consumer import Subscription


def subscriptions(settings: MonitoringSettings) -> list[Subscription]:
    async def on_loan_registered(session: AsyncSession, _: CloudEvent, payload: Payload) -> None:
        """Register a loan published on ``postloan.ingest.loan.registered``."""
        assert isinstance(payload, LoanRegistered)
        await register_loan(session, payload, jurisdiction=settings.default_jurisdiction)

    registered = spec_for(LoanRegistered, domain="ingest")
    assert registered.type in BY_TYPE
    return [
        Subscription(
            durable="monitoring-ingest",
            stream=registered.stream,
            handlers={registered.type: on_loan_registered},
        )
    ]
