"""Settings common to every PostLoan process.

Each service subclasses :class:`ServiceSettings` once, adding its own fields; every value
comes from an environment variable with the ``POSTLOAN_`` prefix (``POSTLOAN_DATABASE_URL``,
``POSTLOAN_NATS_URL`` ...). Settings are validated when the process starts, never at import.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Values that must never reach production: the defaults shipped for local development.
PLACEHOLDER_SECRETS = frozenset({"", "change-me", "changeme", "secret", "dev-secret", "postloan"})


class ServiceSettings(BaseSettings):
    """What every service needs: its name, its database, the bus and telemetry switches."""

    model_config = SettingsConfigDict(env_prefix="POSTLOAN_", extra="ignore")

    service_name: str = "postloan"
    environment: Literal["development", "test", "production"] = "development"
    database_url: str = Field(
        default="postgresql+asyncpg://postgres@127.0.0.1:5433/postloan",
        description="SQLAlchemy URL of the service's own database (asyncpg driver).",
    )
    nats_url: str = Field(default="nats://127.0.0.1:4223", description="NATS server URL(s).")
    stream_replicas: int = Field(default=1, ge=1, le=5)
    run_migrations: bool = True
    consumers_enabled: bool = True
    relay_enabled: bool = True
    outbox_poll_interval_s: float = Field(default=1.0, gt=0)
    consumer_batch_size: int = Field(default=256, ge=1, le=10_000)
    consumer_max_deliveries: int = Field(default=5, ge=1)
    log_level: str = "INFO"
    log_json: bool = True

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    def secret_fields(self) -> dict[str, str]:
        """Secrets of this settings class, by name; subclasses extend it."""
        return {}

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> ServiceSettings:
        if not self.is_production:
            return self
        bad = [name for name, value in self.secret_fields().items() if value in PLACEHOLDER_SECRETS]
        if bad:
            names = ", ".join(f"POSTLOAN_{n.upper()}" for n in bad)
            raise ValueError(f"production mode refuses placeholder secrets: set {names}")
        return self
