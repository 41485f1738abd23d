"""Collections and notify for ``uvicorn --factory`` in a process of their own, with the wall
clock fixed at :data:`CONTACT_CLOCK` (contact hours), as the in-process platform has them."""

from __future__ import annotations

from fastapi import FastAPI

import collections_service.main
import notify.main

from .conftest import CONTACT_CLOCK


def collections() -> FastAPI:
    return collections_service.main.create_app(clock=lambda: CONTACT_CLOCK)


def notify_app() -> FastAPI:
    return notify.main.create_app(clock=lambda: CONTACT_CLOCK)
