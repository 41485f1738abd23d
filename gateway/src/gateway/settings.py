"""The gateway's settings: the shared ones plus tokens, the admin account and the upstreams."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator

from gateway.domain.routing import Upstream
from shared.settings import ServiceSettings

#: HS256 keys shorter than the hash output weaken the signature (RFC 7518 section 3.2).
MIN_JWT_SECRET_LENGTH = 32


class GatewaySettings(ServiceSettings):
    """Read from ``POSTLOAN_*`` variables; a missing JWT secret is generated in development."""

    service_name: str = "gateway"
    jwt_secret: SecretStr = Field(
        default=SecretStr(""),
        description="HS256 signing key; generated and kept in the state folder when unset "
        "outside production.",
    )
    jwt_issuer: str = "postloan"
    jwt_audience: str = "postloan-api"
    jwt_ttl_s: int = Field(default=900, ge=60, le=86_400)
    admin_password: SecretStr | None = Field(
        default=None, description="Password of user admin; generated on first start when unset."
    )
    state_dir: Path = Path(".postloan")
    upstream_monitoring: str = "http://127.0.0.1:8001"
    upstream_scoring: str = "http://127.0.0.1:8002"
    upstream_collections: str = "http://127.0.0.1:8003"
    upstream_notify: str = "http://127.0.0.1:8004"
    upstream_timeout_s: float = Field(default=10.0, gt=0)
    upstream_connect_timeout_s: float = Field(default=2.0, gt=0)
    upstream_pool_size: int = Field(default=100, ge=1)
    upstream_get_retries: int = Field(default=1, ge=0, le=3)
    breaker_threshold: int = Field(default=5, ge=1)
    breaker_reset_s: float = Field(default=5.0, gt=0)
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    api_key_cache_ttl_s: float = Field(default=30.0, ge=0)
    directory_cache_ttl_s: float = Field(
        default=30.0, ge=0, description="How long users' attributes and teams are remembered."
    )
    openapi_cache_ttl_s: float = Field(default=30.0, ge=0)
    audit_enabled: bool = Field(
        default=True, description="Record mutating calls and reads of personal data."
    )
    audit_batch_max: int = Field(default=500, ge=1, description="Entries per append at most.")
    audit_synchronous_commit: bool = Field(
        default=True,
        description="An answer waits until its audit entry is flushed to PostgreSQL's WAL; "
        "false: until it is committed (a PostgreSQL crash may then lose the last entries).",
    )
    audit_head_interval_s: float = Field(
        default=300.0, gt=0, description="How often the audit chain's head is exported."
    )
    audit_head_dir: Path | None = Field(
        default=None,
        description="Folder of the exported heads (audit-heads.jsonl); default: state_dir/audit. "
        "Point it at storage the database's administrators cannot write.",
    )

    @field_validator("jwt_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        secret = value.get_secret_value()
        if secret and len(secret) < MIN_JWT_SECRET_LENGTH:
            raise ValueError(f"must be at least {MIN_JWT_SECRET_LENGTH} characters")
        return value

    @field_validator("admin_password")
    @classmethod
    def _empty_is_unset(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is not None and value.get_secret_value() else None

    def secret_fields(self) -> dict[str, str]:
        secrets = super().secret_fields() | {"jwt_secret": self.jwt_secret.get_secret_value()}
        if self.admin_password is not None:
            secrets["admin_password"] = self.admin_password.get_secret_value()
        return secrets

    def audit_heads_folder(self) -> Path:
        return self.audit_head_dir or self.state_dir / "audit"

    def upstream_url(self, upstream: Upstream) -> str:
        urls = {
            Upstream.MONITORING: self.upstream_monitoring,
            Upstream.SCORING: self.upstream_scoring,
            Upstream.COLLECTIONS: self.upstream_collections,
            Upstream.NOTIFY: self.upstream_notify,
        }
        return urls[upstream].rstrip("/")
