"""Collections' settings (environment variables with the ``POSTLOAN_`` prefix)."""

from __future__ import annotations

from shared.settings import ServiceSettings


class CollectionsSettings(ServiceSettings):
    service_name: str = "collections"
