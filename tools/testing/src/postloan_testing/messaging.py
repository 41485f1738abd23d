"""Helpers for tests that publish or consume events against real NATS and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol

from nats.js.api import RawStreamMsg

from shared.messaging.bus import Bus


class Worker(Protocol):
    """A relay or a consumer: runs until stopped."""

    async def run(self) -> None: ...

    def stop(self) -> None: ...


@asynccontextmanager
async def running(*workers: Worker, stop_timeout: float = 15.0) -> AsyncIterator[None]:
    """Run workers in the background for the block; re-raise if one of them died."""
    tasks = [asyncio.create_task(w.run()) for w in workers]
    try:
        yield
        for task in tasks:
            if task.done():
                task.result()  # a worker must never stop by itself
    finally:
        for worker in workers:
            worker.stop()
        await asyncio.wait_for(asyncio.gather(*tasks), stop_timeout)


async def stream_messages(bus: Bus, stream: str) -> list[RawStreamMsg]:
    """Every message a stream holds, in stream order."""
    state = (await bus.js.stream_info(stream)).state
    if not state.messages:
        return []
    return [await bus.js.get_msg(stream, seq) for seq in range(state.first_seq, state.last_seq + 1)]
