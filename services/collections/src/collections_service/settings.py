"""Collections' settings (environment variables with the ``POSTLOAN_`` prefix)."""

from __future__ import annotations

from pydantic import Field

from shared.settings import ServiceSettings


class CollectionsSettings(ServiceSettings):
    service_name: str = "collections"
    deferral_poll_interval_s: float = Field(
        default=5.0,
        gt=0,
        description="How often deferred contacts that came due are decided again.",
    )
    quadrant_thresholds: dict[str, object] = Field(
        default_factory=dict,
        description="JSON of ability x willingness thresholds to override (docs/collections.md).",
    )
    lender_contact_line: str = Field(
        default="", description="The lender's contact line quoted by messages (`contact_line`)."
    )
