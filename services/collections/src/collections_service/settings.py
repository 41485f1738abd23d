"""Collections' settings (environment variables with the ``POSTLOAN_`` prefix)."""

from __future__ import annotations

from decimal import Decimal

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
    contact_costs: dict[str, Decimal] = Field(
        default_factory=lambda: {
            "sms": Decimal("0.05"), "email": Decimal("0.01"), "push": Decimal("0.00"),
            "voice": Decimal("0.30"), "letter": Decimal("1.50"), "agent_call": Decimal("2.00"),
            "field_visit": Decimal("40.00"),
        },
        description="JSON of what one contact costs per channel, for strategy results.",
    )  # fmt: skip
    results_seed: str = Field(
        default="postloan", description="Seed of the results' bootstrap draws (deterministic)."
    )
    offer_approval_limits: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="JSON of approval limits by role, e.g. "
        '{"collector": {"max_amount": "200.00"}, "supervisor": {"max_amount": "5000.00", '
        '"max_share": "0.30"}, "admin": {}}; empty: these defaults (docs/collections.md).',
    )
    quick_cure_days: int = Field(
        default=7, ge=0, description="A loan cured within this many days has its penalty waived."
    )
    points_per_instalment: int = Field(
        default=10, ge=0, description="On-time points earned per instalment paid on time."
    )
    point_value: Decimal = Field(
        default=Decimal("0.50"), ge=0, decimal_places=2, description="What a point redeems."
    )
