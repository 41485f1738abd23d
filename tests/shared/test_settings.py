import pytest
from pydantic import SecretStr, ValidationError

from shared.settings import ServiceSettings


class WithSecret(ServiceSettings):
    api_secret: str = "change-me"

    def secret_fields(self) -> dict[str, str]:
        return {"api_secret": self.api_secret}


def test_settings_come_from_postloan_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTLOAN_NATS_URL", "nats://nats.internal:4222")
    monkeypatch.setenv("POSTLOAN_CONSUMER_BATCH_SIZE", "64")
    settings = ServiceSettings()
    assert settings.nats_url == "nats://nats.internal:4222"
    assert settings.consumer_batch_size == 64


def test_an_invalid_value_is_refused_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTLOAN_CONSUMER_BATCH_SIZE", "0")
    with pytest.raises(ValidationError, match="consumer_batch_size"):
        ServiceSettings()


def test_production_refuses_a_placeholder_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTLOAN_ENVIRONMENT", "production")
    with pytest.raises(ValidationError, match="POSTLOAN_PRINCIPAL_SECRET, POSTLOAN_API_SECRET"):
        WithSecret()
    monkeypatch.setenv("POSTLOAN_API_SECRET", "a-real-secret-from-the-vault")
    monkeypatch.setenv("POSTLOAN_PRINCIPAL_SECRET", "another-real-secret-from-the-vault-0123")
    assert WithSecret().api_secret == "a-real-secret-from-the-vault"


def test_production_refuses_unsigned_principals(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTLOAN_ENVIRONMENT", "production")
    monkeypatch.setenv("POSTLOAN_PRINCIPAL_SECRET", "another-real-secret-from-the-vault-0123")
    monkeypatch.setenv("POSTLOAN_ALLOW_UNSIGNED_PRINCIPAL", "true")
    with pytest.raises(ValidationError, match="POSTLOAN_ALLOW_UNSIGNED_PRINCIPAL"):
        ServiceSettings()


def test_a_short_principal_secret_is_refused() -> None:
    with pytest.raises(ValidationError, match="at least 32"):
        ServiceSettings(principal_secret=SecretStr("short"))


def test_development_accepts_the_placeholder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POSTLOAN_ENVIRONMENT", raising=False)
    assert WithSecret().api_secret == "change-me"
