"""What collections' routes are given besides a session: the injected clock and settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from collections_service.service_layer.clock import Context


def context(request: Request) -> Context:
    ctx: Context = request.app.state.context
    return ctx


ContextDep = Annotated[Context, Depends(context)]
