"""The IdP settings as an operator writes them: environment variables, the role map in JSON,
refused at start when incomplete or unsafe."""

from __future__ import annotations

import pydantic
import pytest

from gateway.domain.scopes import Role
from gateway.settings import GatewaySettings

KEYCLOAK = {
    "POSTLOAN_IDP_JWKS_URL": "https://sso.bank.test/realms/postloan/protocol/openid-connect/certs",
    "POSTLOAN_IDP_ISSUER": "https://sso.bank.test/realms/postloan",
    "POSTLOAN_IDP_AUDIENCE": "postloan-api",
    "POSTLOAN_IDP_SUBJECT_CLAIM": "preferred_username",
    "POSTLOAN_IDP_ROLE_MAP": '{"pl-collector": "collector", "pl-team-lead": "supervisor"}',
}


def settings_from(monkeypatch: pytest.MonkeyPatch, variables: dict[str, str]) -> GatewaySettings:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return GatewaySettings()


def test_the_idp_is_configured_from_environment_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = settings_from(monkeypatch, KEYCLOAK | {"POSTLOAN_IDP_ALGORITHMS": '["ES256"]'})

    assert settings.idp_role_map == {
        "pl-collector": Role.COLLECTOR,
        "pl-team-lead": Role.SUPERVISOR,
    }
    assert (settings.idp_subject_claim, settings.idp_roles_claim) == (
        "preferred_username",
        "realm_access.roles",
    )
    assert settings.idp_algorithms == ["ES256"]


def test_without_a_jwks_url_no_idp_is_trusted() -> None:
    assert GatewaySettings().idp_jwks_url is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"POSTLOAN_IDP_ISSUER": ""}, "idp_issuer"),
        ({"POSTLOAN_IDP_AUDIENCE": ""}, "idp_audience"),
        ({"POSTLOAN_IDP_ALGORITHMS": '["RS256", "HS256"]'}, "HS256"),
        ({"POSTLOAN_IDP_ALGORITHMS": '["none"]'}, "none"),
        ({"POSTLOAN_IDP_ALGORITHMS": "[]"}, "idp_algorithms"),
        ({"POSTLOAN_IDP_ROLE_MAP": '{"pl-boss": "overlord"}'}, "idp_role_map"),
    ],
    ids=["no issuer", "no audience", "symmetric", "none", "no algorithm", "unknown role"],
)
def test_an_incomplete_or_unsafe_idp_configuration_stops_the_start(
    monkeypatch: pytest.MonkeyPatch, changes: dict[str, str], message: str
) -> None:
    with pytest.raises(pydantic.ValidationError, match=message):
        settings_from(monkeypatch, KEYCLOAK | changes)


def test_production_fetches_the_keys_over_https_only(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = {"POSTLOAN_IDP_JWKS_URL": "http://sso.bank.test/certs"}

    assert (
        settings_from(monkeypatch, KEYCLOAK | plain).idp_jwks_url == plain["POSTLOAN_IDP_JWKS_URL"]
    )
    with pytest.raises(pydantic.ValidationError, match="https"):
        GatewaySettings.model_validate(
            {"environment": "production", "jwt_secret": "k" * 40, "principal_secret": "p" * 40}
        )
