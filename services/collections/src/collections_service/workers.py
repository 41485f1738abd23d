"""Collections' background work, started and stopped by the app factory (which also runs the
outbox relay and the consumers of ``entrypoints/consumers.py``): the deferral worker, which
decides each deferred contact again at its ``deferred_until``. Its queue is a table, so a
restart loses nothing: what was due while the service was down is decided when it is back."""

from __future__ import annotations

import asyncio

from collections_service.service_layer.clock import Context
from collections_service.service_layer.contacts import redecide_due
from collections_service.settings import CollectionsSettings
from shared.app import Runtime, Worker


def workers(settings: CollectionsSettings, ctx: Context) -> list[Worker]:
    async def redecide_deferred(rt: Runtime) -> None:
        while True:
            async with rt.db.unit_of_work() as session:
                decided = await redecide_due(session, ctx.now())
            if not decided:
                await asyncio.sleep(settings.deferral_poll_interval_s)

    return [Worker("deferred-contacts", redecide_deferred)]
