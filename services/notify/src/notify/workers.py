"""Notify's background work, started and stopped by the app factory (which also runs the
outbox relay and the consumers of ``entrypoints/consumers.py``): the send worker.

Its queue is the ``message`` table, so a restart loses nothing: what came due while the
service was down is sent when it is back, and a send a crash interrupted is resumed once its
lease has passed (same message id, same ``Idempotency-Key``). Several replicas share the
work: each takes rows with ``FOR UPDATE SKIP LOCKED``."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from notify.adapters.channels import build_channels
from notify.service_layer.rate_budget import RateLimits
from notify.service_layer.sending import SendConfig, send_due
from notify.settings import NotifySettings
from shared.app import Runtime, Worker
from shared.clock import Clock


def send_config(settings: NotifySettings) -> SendConfig:
    return SendConfig(
        batch_size=settings.send_batch_size,
        concurrency=settings.send_concurrency,
        lease=timedelta(seconds=settings.send_lease_s),
        recipient_wait=timedelta(seconds=settings.recipient_wait_s),
        limits=RateLimits(settings.borrower_limit, settings.provider_limits()),
        fallback_after=timedelta(seconds=settings.fallback_after_s),
    )


def workers(settings: NotifySettings, clock: Clock) -> list[Worker]:
    config = send_config(settings)

    async def send(rt: Runtime) -> None:
        channels = build_channels(settings, rt.db, clock)
        try:
            while True:
                if not await send_due(rt.db, channels, clock, config):
                    await asyncio.sleep(settings.send_poll_interval_s)
        finally:
            await channels.close()

    return [Worker(f"send-{n}", send) for n in range(1, settings.send_workers + 1)]
