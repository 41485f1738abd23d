"""Settings common to every PostLoan process.

Each service subclasses :class:`ServiceSettings` once, adding its own fields; every value
comes from an environment variable with the ``POSTLOAN_`` prefix (``POSTLOAN_DATABASE_URL``,
``POSTLOAN_NATS_URL`` ...). Settings are validated when the process starts, never at import.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.principal import DEFAULT_TTL_S, MIN_SECRET_LENGTH

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
    principal_secret: SecretStr = Field(
        default=SecretStr(""),
        description="HMAC key of the principal the gateway signs and services check "
        "(shared.principal); the same value on the gateway and every service.",
    )
    allow_unsigned_principal: bool = Field(
        default=False,
        description="Development only: a call without X-PostLoan-Principal acts as an "
        "all-seeing developer (a header that is sent is still checked). Refused in production.",
    )
    principal_ttl_s: int = Field(default=DEFAULT_TTL_S, ge=1, le=300)

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @field_validator("principal_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        secret = value.get_secret_value()
        if secret and len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(f"must be at least {MIN_SECRET_LENGTH} characters")
        return value

    def secret_fields(self) -> dict[str, str]:
        """Secrets of this settings class, by name; subclasses extend it."""
        return {}

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> ServiceSettings:
        if not self.is_production:
            return self
        if self.allow_unsigned_principal:
            raise ValueError("production mode refuses POSTLOAN_ALLOW_UNSIGNED_PRINCIPAL")
        secrets = {"principal_secret": self.principal_secret.get_secret_value()}
        secrets |= self.secret_fields()
        bad = [name for name, value in secrets.items() if value in PLACEHOLDER_SECRETS]
        if bad:
            names = ", ".join(f"POSTLOAN_{n.upper()}" for n in bad)
            raise ValueError(f"production mode refuses placeholder secrets: set {names}")
        return self
