"""Start-up: the admin account and the signing key, generated once and kept private."""

from __future__ import annotations

import stat
from collections.abc import Callable

import httpx
import pytest

from gateway.main import create_app
from gateway.runtime import Gateway
from gateway.service_layer.bootstrap import PRINCIPAL_SECRET_FILE
from gateway.settings import GatewaySettings
from postloan_testing.servers import running

SettingsFactory = Callable[..., GatewaySettings]


async def token_for(api: httpx.AsyncClient, password: str) -> httpx.Response:
    form = {"username": "admin", "password": password}
    return await api.post("/api/v1/auth/token", data=form)


async def test_without_a_configured_password_one_is_generated_printed_once_and_kept_private(
    fresh_settings: SettingsFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = fresh_settings(admin_password=None, jwt_secret="")

    async with running(create_app(settings)) as api:
        password_file = settings.state_dir / "admin-password"
        password = password_file.read_text().strip()
        login = await token_for(api, password)

    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((settings.state_dir / "jwt-secret").stat().st_mode) == 0o600
    assert capsys.readouterr().out.count(password) == 1
    assert login.status_code == 200


async def test_a_restart_keeps_the_generated_password_and_signing_key_and_prints_nothing(
    fresh_settings: SettingsFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = fresh_settings(admin_password=None, jwt_secret="")
    async with running(create_app(settings)) as api:
        password = (settings.state_dir / "admin-password").read_text().strip()
        token = (await token_for(api, password)).json()["access_token"]
    capsys.readouterr()

    async with running(create_app(settings)) as api:
        login = await token_for(api, password)
        old_token_works = await api.get(
            "/api/v1/loans/L-1", headers={"Authorization": f"Bearer {token}"}
        )

    assert login.status_code == 200
    assert old_token_works.status_code == 200
    assert capsys.readouterr().out == ""


async def test_the_configured_admin_password_replaces_the_previous_one(
    fresh_settings: SettingsFactory,
) -> None:
    async with running(create_app(fresh_settings(admin_password="first-password-1"))):
        pass

    async with running(create_app(fresh_settings(admin_password="second-password-2"))) as api:
        old = await token_for(api, "first-password-1")
        new = await token_for(api, "second-password-2")

    assert (old.status_code, new.status_code) == (401, 200)


async def test_production_will_not_invent_an_admin_password(
    fresh_settings: SettingsFactory,
) -> None:
    settings = fresh_settings(environment="production", admin_password=None)

    with pytest.raises(RuntimeError, match="POSTLOAN_ADMIN_PASSWORD"):
        async with running(create_app(settings)):
            pass
    assert not (settings.state_dir / "admin-password").exists()


def test_production_refuses_a_missing_or_placeholder_signing_key(
    fresh_settings: SettingsFactory,
) -> None:
    with pytest.raises(ValueError, match="POSTLOAN_JWT_SECRET"):
        fresh_settings(environment="production", jwt_secret="")
    with pytest.raises(ValueError, match="POSTLOAN_ADMIN_PASSWORD"):
        fresh_settings(environment="production", admin_password="changeme")


def test_a_short_signing_key_is_refused(fresh_settings: SettingsFactory) -> None:
    with pytest.raises(ValueError, match="at least 32"):
        fresh_settings(jwt_secret="too-short")


async def test_without_a_principal_secret_one_is_generated_for_the_owner_only(
    fresh_settings: SettingsFactory,
) -> None:
    settings = fresh_settings(principal_secret="")

    app = create_app(settings)
    async with running(app):
        gw: Gateway = app.state.gateway
        secret = gw.identity.secret
    kept = settings.state_dir / PRINCIPAL_SECRET_FILE

    assert len(secret) >= 32
    assert kept.read_text().strip() == secret
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600


def test_production_refuses_to_start_without_a_principal_secret(
    fresh_settings: SettingsFactory,
) -> None:
    with pytest.raises(ValueError, match="POSTLOAN_PRINCIPAL_SECRET"):
        fresh_settings(environment="production", principal_secret="")
