"""Monitoring's settings (environment variables with the ``POSTLOAN_`` prefix)."""

from __future__ import annotations

from shared.settings import ServiceSettings


class MonitoringSettings(ServiceSettings):
    service_name: str = "monitoring"
