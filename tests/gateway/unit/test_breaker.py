"""The circuit breaker: open after repeated failures, one probe after the pause."""

from __future__ import annotations

from gateway.domain.breaker import BreakerState, CircuitBreaker


def failed(times: int, *, at: float = 0.0) -> CircuitBreaker:
    breaker = CircuitBreaker(threshold=3, reset_after=5.0)
    for _ in range(times):
        breaker.record_failure(at)
    return breaker


def test_calls_pass_until_the_threshold_of_consecutive_failures() -> None:
    assert failed(2).allow(0.0)
    assert not failed(3).allow(0.0)


def test_a_success_resets_the_count_of_failures() -> None:
    breaker = failed(2)
    breaker.record_success()
    breaker.record_failure(0.0)

    assert breaker.state(0.0) is BreakerState.CLOSED


def test_after_the_pause_one_probe_goes_out_and_the_others_wait() -> None:
    breaker = failed(3)

    assert breaker.retry_after(1.0) == 4.0
    assert breaker.allow(5.0)
    assert not breaker.allow(5.1)


def test_a_successful_probe_closes_the_breaker() -> None:
    breaker = failed(3)
    breaker.allow(5.0)
    breaker.record_success()

    assert breaker.allow(5.1)
    assert breaker.state(5.1) is BreakerState.CLOSED


def test_a_failed_probe_opens_the_breaker_again_at_once() -> None:
    breaker = failed(3)
    breaker.allow(5.0)
    breaker.record_failure(5.2)

    assert not breaker.allow(5.3)
    assert breaker.retry_after(5.3) == 4.9


def test_a_probe_that_never_reports_is_replaced_after_the_pause() -> None:
    breaker = failed(3)
    breaker.allow(5.0)

    assert not breaker.allow(9.0)
    assert breaker.allow(10.0)
