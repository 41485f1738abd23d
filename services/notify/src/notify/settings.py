"""Notify's settings (environment variables with the ``POSTLOAN_`` prefix)."""

from __future__ import annotations

from shared.settings import ServiceSettings


class NotifySettings(ServiceSettings):
    service_name: str = "notify"
