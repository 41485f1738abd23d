from pathlib import Path

import pytest

from devstack.config import (
    COMPONENTS,
    GATEWAY,
    SERVICES,
    ConfigError,
    StackConfig,
    asyncpg_url,
    database_url,
    display_url,
)

CWD = Path("/home/dev/postloan")


def config_from(**env: str) -> StackConfig:
    return StackConfig.from_env(env, CWD)


def test_a_bare_environment_runs_everything_embedded_under_dot_postloan() -> None:
    config = config_from()

    assert config.state_dir == CWD / ".postloan"
    assert config.gateway_port == 8000
    assert config.needs_embedded_postgres
    assert config.needs_embedded_nats
    assert config.databases_to_create == COMPONENTS
    assert config.admin_password_file == CWD / ".postloan" / "admin-password"


def test_the_state_folder_can_be_moved_relative_or_absolute(tmp_path: Path) -> None:
    assert config_from(POSTLOAN_STATE_DIR="run/state").state_dir == CWD / "run" / "state"
    assert config_from(POSTLOAN_STATE_DIR=str(tmp_path)).state_dir == tmp_path.resolve()


def test_the_gateway_port_comes_from_postloan_gateway_port() -> None:
    assert config_from(POSTLOAN_GATEWAY_PORT="18080").gateway_port == 18080


@pytest.mark.parametrize("raw", ["http", "0", "70000", "-1"])
def test_a_gateway_port_that_is_not_a_port_is_refused_by_name(raw: str) -> None:
    with pytest.raises(ConfigError, match="POSTLOAN_GATEWAY_PORT"):
        config_from(POSTLOAN_GATEWAY_PORT=raw)


def test_a_given_postgres_server_replaces_the_embedded_one_and_gets_asyncpg() -> None:
    config = config_from(POSTLOAN_POSTGRES_URL="postgres://u:pw@db.internal:5432/postgres")

    assert config.postgres_url == "postgresql+asyncpg://u:pw@db.internal:5432/postgres"
    assert not config.needs_embedded_postgres
    assert config.databases_to_create == COMPONENTS


def test_per_service_database_urls_are_used_as_given_and_not_created() -> None:
    config = config_from(POSTLOAN_SCORING_DATABASE_URL="postgresql://u@h/scoring_db")
    scoring = next(c for c in SERVICES if c.name == "scoring")

    assert config.database_url_of(scoring) == "postgresql+asyncpg://u@h/scoring_db"
    assert scoring not in config.databases_to_create
    assert config.needs_embedded_postgres  # the other four still need a server


def test_when_every_database_is_given_no_postgres_is_started() -> None:
    env = {c.database_url_variable: f"postgresql://u@h/{c.database}" for c in COMPONENTS}

    config = config_from(**env)

    assert config.databases_to_create == ()
    assert not config.needs_embedded_postgres


def test_a_given_nats_url_replaces_the_embedded_server() -> None:
    config = config_from(POSTLOAN_NATS_URL="nats://bus:4222")

    assert config.nats_url == "nats://bus:4222"
    assert not config.needs_embedded_nats


def test_a_database_url_of_another_engine_is_refused_by_name() -> None:
    with pytest.raises(ConfigError, match="POSTLOAN_NOTIFY_DATABASE_URL"):
        config_from(POSTLOAN_NOTIFY_DATABASE_URL="mysql://u@h/notify")
    with pytest.raises(ConfigError, match="POSTLOAN_POSTGRES_URL"):
        asyncpg_url("not a url", "POSTLOAN_POSTGRES_URL")


def test_an_admin_password_in_the_environment_is_noticed() -> None:
    assert config_from(POSTLOAN_ADMIN_PASSWORD="s3cret-enough").admin_password_set
    assert not config_from().admin_password_set


def test_every_component_has_its_own_database_and_variable() -> None:
    assert [c.database for c in COMPONENTS] == [
        "postloan_monitoring",
        "postloan_scoring",
        "postloan_collections",
        "postloan_notify",
        "postloan_gateway",
    ]
    assert GATEWAY.database_url_variable == "POSTLOAN_GATEWAY_DATABASE_URL"
    assert {c.preferred_port for c in SERVICES} == {8001, 8002, 8003, 8004}


def test_a_database_url_keeps_the_server_and_credentials() -> None:
    server = "postgresql+asyncpg://u:p%40ss@127.0.0.1:6543/postgres"

    assert database_url(server, "postloan_notify") == (
        "postgresql+asyncpg://u:p%40ss@127.0.0.1:6543/postloan_notify"
    )


def test_urls_are_displayed_without_their_password() -> None:
    assert display_url("postgresql://u:secret@h:1/db") == "postgresql://u:***@h:1/db"
    assert display_url("nats://127.0.0.1:4223") == "nats://127.0.0.1:4223"
