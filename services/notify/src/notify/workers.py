"""Notify's background work, started and stopped by the app factory (which also runs the
outbox relay and the consumers of ``entrypoints/consumers.py``).

Every loop of the service is declared here, as a ``shared.app.Worker``; none is started
from a route module or a start-up hook. There is none yet."""

from __future__ import annotations

from notify.settings import NotifySettings
from shared.app import Worker


def workers(settings: NotifySettings) -> list[Worker]:
    del settings  # what the loops to come will be configured by
    return []
