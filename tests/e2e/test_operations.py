"""What operators rely on: metrics, and a clean stop on SIGTERM."""

import signal
from pathlib import Path

import httpx
import pytest

from factories import make_registration
from postloan_testing.plugin import NatsUnderTest, PostgresUnderTest, eventually
from postloan_testing.processes import ServiceProcess

from .conftest import Platform


async def test_metrics_count_requests_event_lag_outbox_backlog_and_dead_letters(
    platform: Platform,
) -> None:
    await platform.clients["monitoring"].post("/api/v1/loans", json=make_registration())

    async def consumed() -> bool:
        return await platform.has_loan("scoring", "L-0001")

    await eventually(consumed, timeout=5)
    monitoring = (await platform.clients["monitoring"].get("/metrics")).text
    assert 'postloan_http_requests_total{method="POST",route="/api/v1/loans"' in monitoring
    assert 'postloan_outbox_backlog{service="monitoring"}' in monitoring
    assert "postloan_dead_letters_total" in monitoring
    scoring = (await platform.clients["scoring"].get("/metrics")).text
    assert 'postloan_event_lag_seconds_count{consumer="scoring-monitoring"}' in scoring


@pytest.mark.slow
async def test_a_service_stops_cleanly_on_sigterm(
    postgres: PostgresUnderTest, nats_server: NatsUnderTest, tmp_path: Path
) -> None:
    service = ServiceProcess(
        "scoring.main:create_app",
        env={
            "POSTLOAN_DATABASE_URL": await postgres.new_database("scoring"),
            "POSTLOAN_NATS_URL": nats_server.url,
            "POSTLOAN_LOG_JSON": "true",
        },
        log_file=tmp_path / "scoring.log",
    ).start()
    assert httpx.get(f"{service.url}/readyz").status_code == 200
    assert service.proc is not None
    service.proc.send_signal(signal.SIGTERM)
    # uvicorn shuts down gracefully, then re-raises the signal so the exit status tells why.
    assert service.proc.wait(timeout=30) in (0, -signal.SIGTERM)
    log = (tmp_path / "scoring.log").read_text()
    assert '"msg": "scoring stopped"' in log
