"""Notify's settings (environment variables with the ``POSTLOAN_`` prefix).

Providers (BRIEF section 5): ``POSTLOAN_SMTP_URL`` and ``POSTLOAN_SMTP_FROM`` for e-mail;
``POSTLOAN_<CHANNEL>_PROVIDER_URL`` and ``…_PROVIDER_TOKEN`` for SMS, push and voice through
the generic HTTP provider; ``POSTLOAN_<CHANNEL>_WEBHOOK_SECRET`` for each channel's signed
receipts. A channel without a provider goes to the local sink.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator

from notify.domain.provider_mapping import ProviderMapping, parse_mapping
from notify.domain.rate_limits import RateLimit, parse_rate
from notify.domain.retry import RetryPolicy
from notify.domain.smtp_url import parse_smtp_url
from shared.settings import ServiceSettings

#: The channels of the generic HTTP provider.
HTTP_CHANNELS = ("sms", "push", "voice")
#: The channels whose providers may post receipts.
RECEIPT_CHANNELS = ("email", *HTTP_CHANNELS)


class NotifySettings(ServiceSettings):
    service_name: str = "notify"
    lint_words_file: Path | None = Field(
        default=None,
        description=(
            "POSTLOAN_LINT_WORDS_FILE: a JSON word list of the shipped lists' shape whose "
            "words and patterns are added to them (docs/notify.md); read at start-up, which "
            "fails if the file is missing or wrong."
        ),
    )
    smtp_url: str | None = Field(default=None, description="smtp://, smtp+starttls://, smtps://")
    smtp_from: str = Field(default="PostLoan <no-reply@postloan.local>", min_length=3)
    smtp_ca_file: Path | None = Field(
        default=None, description="CA bundle that signs the SMTP server's certificate."
    )
    sms_provider_url: str | None = None
    sms_provider_token: SecretStr | None = None
    push_provider_url: str | None = None
    push_provider_token: SecretStr | None = None
    voice_provider_url: str | None = None
    voice_provider_token: SecretStr | None = None
    sms_provider_mapping: str | None = Field(
        default=None, description="JSON: body, encoding, auth, id_field, status_field, refused"
    )
    push_provider_mapping: str | None = None
    voice_provider_mapping: str | None = None
    email_webhook_secret: SecretStr | None = None
    sms_webhook_secret: SecretStr | None = None
    push_webhook_secret: SecretStr | None = None
    voice_webhook_secret: SecretStr | None = None
    provider_timeout_s: float = Field(default=10.0, gt=0, le=120)
    provider_max_tries: int = Field(default=5, ge=1, le=20)
    provider_backoff_base_s: float = Field(default=0.5, ge=0)
    provider_backoff_max_s: float = Field(default=30.0, ge=0)
    send_poll_interval_s: float = Field(default=1.0, gt=0)
    send_batch_size: int = Field(default=50, ge=1, le=1000)
    send_concurrency: int = Field(default=8, ge=1, le=256)
    send_workers: int = Field(
        default=2,
        ge=1,
        le=32,
        description="Send loops in this process; they share the due messages (SKIP LOCKED).",
    )
    send_lease_s: float = Field(
        default=600.0,
        gt=0,
        description="How long a send may take before another worker resumes it as crashed.",
    )
    borrower_rate_limit: str | None = Field(
        default=None, description="At most N hand-overs to one borrower per period: '3/1h'."
    )
    sms_rate_limit: str | None = Field(
        default=None, description="At most N hand-overs to the channel's provider: '50/s'."
    )
    email_rate_limit: str | None = None
    push_rate_limit: str | None = None
    voice_rate_limit: str | None = None
    letter_rate_limit: str | None = None
    fallback_after_s: float = Field(
        default=3600.0,
        gt=0,
        description="A message with fallbacks not handed to a provider by then gives way.",
    )
    recipient_wait_s: float = Field(
        default=60.0,
        gt=0,
        description="How long until a message to an unknown borrower is tried again.",
    )

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url_parses(cls, value: str | None) -> str | None:
        if value is not None:
            parse_smtp_url(value)
        return value

    @field_validator("sms_provider_url", "push_provider_url", "voice_provider_url")
    @classmethod
    def _http_urls(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("a provider URL starts with http:// or https://")
        return value

    @field_validator("sms_provider_mapping", "push_provider_mapping", "voice_provider_mapping")
    @classmethod
    def _mappings_parse(cls, value: str | None) -> str | None:
        if value is not None:
            parse_mapping(value)  # every mistake, at start
        return value

    @field_validator(
        "borrower_rate_limit",
        "sms_rate_limit",
        "email_rate_limit",
        "push_rate_limit",
        "voice_rate_limit",
        "letter_rate_limit",
    )
    @classmethod
    def _rates_parse(cls, value: str | None) -> str | None:
        if value is not None:
            parse_rate(value)
        return value

    @model_validator(mode="after")
    def _lease_outlasts_a_send(self) -> NotifySettings:
        worst = self.provider_max_tries * (self.provider_timeout_s + self.provider_backoff_max_s)
        if self.send_lease_s <= worst:
            raise ValueError(
                f"send_lease_s must exceed the longest send ({worst:.0f} s: tries x "
                "(timeout + longest back-off)), or a slow send would be resumed as crashed"
            )
        if self.provider_backoff_max_s < self.provider_backoff_base_s:
            raise ValueError("provider_backoff_max_s must be at least provider_backoff_base_s")
        return self

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_tries=self.provider_max_tries,
            base_s=self.provider_backoff_base_s,
            max_s=self.provider_backoff_max_s,
        )

    def provider_url(self, channel: str) -> str | None:
        url: str | None = getattr(self, f"{channel}_provider_url", None)
        return url

    @property
    def borrower_limit(self) -> RateLimit | None:
        return None if self.borrower_rate_limit is None else parse_rate(self.borrower_rate_limit)

    def provider_limits(self) -> dict[str, RateLimit]:
        """The rate limit of each channel's provider that has one."""
        spelled = {c: getattr(self, f"{c}_rate_limit") for c in (*RECEIPT_CHANNELS, "letter")}
        return {c: parse_rate(text) for c, text in spelled.items() if text is not None}

    def provider_mapping(self, channel: str) -> ProviderMapping:
        raw: str | None = getattr(self, f"{channel}_provider_mapping", None)
        return ProviderMapping() if raw is None else parse_mapping(raw)

    def provider_token(self, channel: str) -> str | None:
        token: SecretStr | None = getattr(self, f"{channel}_provider_token", None)
        return None if token is None else token.get_secret_value()

    def webhook_secret(self, channel: str) -> str | None:
        if channel not in RECEIPT_CHANNELS:
            return None
        secret: SecretStr | None = getattr(self, f"{channel}_webhook_secret")
        return None if secret is None else secret.get_secret_value()

    def secret_fields(self) -> dict[str, str]:
        named = {f"{c}_webhook_secret": self.webhook_secret(c) for c in RECEIPT_CHANNELS}
        return {name: value for name, value in named.items() if value is not None}
