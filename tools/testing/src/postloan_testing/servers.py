"""Run ASGI apps for tests: in process with their lifespan, optionally on a real port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import uvicorn
from fastapi import FastAPI

from devstack.embedded import free_port


@asynccontextmanager
async def running(
    app: FastAPI, *, auth: httpx.Auth | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """Start the app's lifespan and yield a client that calls it without a socket; ``auth``
    signs its calls (a service's API answers only a signed principal: tests/principals.py)."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        client = httpx.AsyncClient(transport=transport, base_url="http://test", auth=auth)
        async with client:
            yield client


@asynccontextmanager
async def serving(app: FastAPI, port: int | None = None) -> AsyncIterator[str]:
    """Serve the app with uvicorn on 127.0.0.1 (real HTTP); yield its base URL."""
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()  # re-raises the start-up error
                raise RuntimeError("uvicorn stopped before it started")
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
