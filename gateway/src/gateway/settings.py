"""The gateway's settings: the shared ones plus tokens, the admin account and the upstreams."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode

from gateway.domain.lockout import LockoutRule
from gateway.domain.ratelimits import BucketRule, RouteClass
from gateway.domain.routing import Upstream
from gateway.domain.scopes import Role
from shared.settings import ServiceSettings

#: What an identity provider may sign with: asymmetric only, so that its keys are public ones.
IDP_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)

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
    # External identity (docs/security.md): off until a JWKS URL is set.
    idp_jwks_url: str | None = Field(
        default=None,
        description="JWKS URL of an identity provider whose RS256/ES256 tokens are accepted "
        "beside the gateway's own.",
    )
    idp_issuer: str = Field(default="", description="The IdP's exact `iss`.")
    idp_audience: str = Field(default="", description="The `aud` the IdP's tokens must carry.")
    idp_algorithms: list[str] = Field(default_factory=lambda: ["RS256", "ES256"])
    idp_subject_claim: str = Field(default="sub", description="The claim naming the user.")
    idp_roles_claim: str = Field(
        default="realm_access.roles", description="Dotted path to the IdP's role names."
    )
    idp_role_map: dict[str, Role] = Field(
        default_factory=dict,
        description='JSON: IdP role name -> PostLoan role, e.g. {"pl-collector": "collector"}.',
    )
    idp_leeway_s: float = Field(default=30.0, ge=0, le=300)
    idp_jwks_cache_ttl_s: float = Field(default=300.0, gt=0)
    idp_jwks_min_refresh_interval_s: float = Field(default=30.0, ge=0)
    idp_jwks_timeout_s: float = Field(default=5.0, gt=0)
    # Rate limits per principal (or per client address before one is known) and route class
    # (docs/security.md): a burst of ``*_capacity`` calls, then ``*_per_s`` a second.
    rate_limits_enabled: bool = True
    rate_limit_reads_capacity: int = Field(default=600, ge=1)
    rate_limit_reads_per_s: float = Field(default=300.0, gt=0)
    rate_limit_writes_capacity: int = Field(default=200, ge=1)
    rate_limit_writes_per_s: float = Field(default=100.0, gt=0)
    rate_limit_ingest_capacity: int = Field(default=5000, ge=1)
    rate_limit_ingest_per_s: float = Field(default=2500.0, gt=0)
    rate_limit_login_capacity: int = Field(default=20, ge=1)
    rate_limit_login_per_s: float = Field(default=2.0, gt=0)
    rate_limit_lease_s: float = Field(
        default=0.1, gt=0, le=1, description="A replica takes this many seconds of refill "
        "from the shared bucket at a time (at most a tenth of the burst).",
    )  # fmt: skip
    # Login lock-out: from the threshold-th failure on, locked for base, doubling, up to max.
    login_user_threshold: int = Field(default=5, ge=1)
    login_address_threshold: int = Field(default=20, ge=1)
    login_lockout_base_s: float = Field(default=30.0, gt=0)
    login_lockout_max_s: float = Field(default=3600.0, gt=0)
    login_failures_forget_s: float = Field(default=86_400.0, gt=0)
    cors_allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins (scheme://host[:port]) whose pages may call the API, "
        "comma-separated; none by default.",
    )
    hsts_max_age_s: int = Field(default=31_536_000, ge=0)
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

    @field_validator("idp_algorithms")
    @classmethod
    def _asymmetric(cls, value: list[str]) -> list[str]:
        refused = sorted(set(value) - IDP_ALGORITHMS)
        if refused or not value:
            raise ValueError(f"must be some of {sorted(IDP_ALGORITHMS)}, not {refused or value}")
        return value

    @model_validator(mode="after")
    def _idp_complete(self) -> GatewaySettings:
        if self.idp_jwks_url is None:
            return self
        if not self.idp_issuer or not self.idp_audience:
            raise ValueError("idp_jwks_url needs idp_issuer and idp_audience")
        if self.is_production and not self.idp_jwks_url.startswith("https://"):
            raise ValueError("idp_jwks_url must be an https URL in production")
        return self

    @field_validator("cors_allowed_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [o.strip().rstrip("/") for o in value.split(",") if o.strip()]
        return value

    @field_validator("cors_allowed_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        bad = [o for o in value if o == "*" or not o.startswith(("http://", "https://"))]
        if bad:
            raise ValueError(f"not an origin (scheme://host[:port], no wildcard): {bad}")
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

    def rate_limit_rules(self) -> dict[RouteClass, BucketRule]:
        return {
            RouteClass.READS: BucketRule(
                self.rate_limit_reads_capacity, self.rate_limit_reads_per_s
            ),
            RouteClass.WRITES: BucketRule(
                self.rate_limit_writes_capacity, self.rate_limit_writes_per_s
            ),
            RouteClass.INGEST: BucketRule(
                self.rate_limit_ingest_capacity, self.rate_limit_ingest_per_s
            ),
            RouteClass.LOGIN: BucketRule(
                self.rate_limit_login_capacity, self.rate_limit_login_per_s
            ),
        }

    def lockout_rule(self, threshold: int) -> LockoutRule:
        return LockoutRule(
            threshold=threshold,
            base_s=self.login_lockout_base_s,
            max_s=max(self.login_lockout_base_s, self.login_lockout_max_s),
            forget_after_s=self.login_failures_forget_s,
        )

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
