from pathlib import Path

from devstack.config import StackConfig
from devstack.plan import plan_apps, uvicorn_argv

STATE = Path("/srv/postloan/.postloan")
DATABASES = {
    name: f"postgresql+asyncpg://postgres@127.0.0.1:45000/postloan_{name}"
    for name in ("monitoring", "scoring", "collections", "notify", "gateway")
}
PORTS = {"monitoring": 8001, "scoring": 8002, "collections": 8003, "notify": 8004}
NATS = "nats://127.0.0.1:45001"


def make_plan(**env: str) -> dict[str, dict[str, str]]:
    config = StackConfig(state_dir=STATE, gateway_port=18000)
    apps = plan_apps(
        config, {"PATH": "/usr/bin", **env}, database_urls=DATABASES, nats_url=NATS, ports=PORTS
    )
    return {app.name: dict(app.env) for app in apps}


def test_apps_run_under_uvicorn_with_uvloop_and_httptools_on_localhost() -> None:
    argv = uvicorn_argv("scoring.main:create_app", 8002, python="/venv/bin/python")

    assert argv[:5] == ("/venv/bin/python", "-m", "uvicorn", "--factory", "scoring.main:create_app")
    assert argv[argv.index("--host") + 1] == "127.0.0.1"
    assert argv[argv.index("--port") + 1] == "8002"
    assert argv[argv.index("--loop") + 1] == "uvloop"
    assert argv[argv.index("--http") + 1] == "httptools"


def test_the_gateway_is_started_last_on_its_port() -> None:
    config = StackConfig(state_dir=STATE, gateway_port=18000)
    apps = plan_apps(config, {}, database_urls=DATABASES, nats_url=NATS, ports=PORTS)

    assert [a.name for a in apps] == ["monitoring", "scoring", "collections", "notify", "gateway"]
    assert apps[-1].ready_url == "http://127.0.0.1:18000/readyz"
    assert "collections_service.main:create_app" in apps[2].argv


def test_each_service_gets_its_own_database_the_bus_and_its_name() -> None:
    env = make_plan()["notify"]

    assert env["POSTLOAN_DATABASE_URL"] == DATABASES["notify"]
    assert env["POSTLOAN_NATS_URL"] == NATS
    assert env["POSTLOAN_SERVICE_NAME"] == "notify"
    assert env["POSTLOAN_ENVIRONMENT"] == "development"
    assert env["PATH"] == "/usr/bin"


def test_the_gateway_knows_every_upstream_and_the_state_folder() -> None:
    env = make_plan()["gateway"]

    assert env["POSTLOAN_UPSTREAM_MONITORING"] == "http://127.0.0.1:8001"
    assert env["POSTLOAN_UPSTREAM_SCORING"] == "http://127.0.0.1:8002"
    assert env["POSTLOAN_UPSTREAM_COLLECTIONS"] == "http://127.0.0.1:8003"
    assert env["POSTLOAN_UPSTREAM_NOTIFY"] == "http://127.0.0.1:8004"
    assert env["POSTLOAN_STATE_DIR"] == str(STATE)
    assert env["POSTLOAN_DATABASE_URL"] == DATABASES["gateway"]


def test_services_do_not_see_upstreams_of_the_gateway() -> None:
    assert not any(k.startswith("POSTLOAN_UPSTREAM_") for k in make_plan()["monitoring"])


def test_logs_are_plain_text_unless_json_is_asked_for() -> None:
    assert make_plan()["scoring"]["POSTLOAN_LOG_JSON"] == "false"
    assert make_plan(POSTLOAN_LOG_JSON="true")["scoring"]["POSTLOAN_LOG_JSON"] == "true"


def test_a_database_url_in_the_users_shell_does_not_leak_into_every_service() -> None:
    plan = make_plan(POSTLOAN_DATABASE_URL="postgresql+asyncpg://elsewhere/db")

    assert {env["POSTLOAN_DATABASE_URL"] for env in plan.values()} == set(DATABASES.values())


def test_the_embedded_stack_always_runs_in_development_mode() -> None:
    plan = make_plan(POSTLOAN_ENVIRONMENT="production")

    assert {env["POSTLOAN_ENVIRONMENT"] for env in plan.values()} == {"development"}


def test_only_the_gateway_listens_where_postloan_gateway_host_says() -> None:
    config = StackConfig(state_dir=STATE, gateway_port=18000)
    env = {"POSTLOAN_GATEWAY_HOST": "0.0.0.0"}
    apps = plan_apps(config, env, database_urls=DATABASES, nats_url=NATS, ports=PORTS)

    hosts = {a.name: a.argv[a.argv.index("--host") + 1] for a in apps}
    assert hosts == {
        "monitoring": "127.0.0.1",
        "scoring": "127.0.0.1",
        "collections": "127.0.0.1",
        "notify": "127.0.0.1",
        "gateway": "0.0.0.0",
    }
    assert apps[-1].ready_url == "http://127.0.0.1:18000/readyz"  # still checked locally
