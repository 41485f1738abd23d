"""Which security headers an answer carries, by what it is."""

from __future__ import annotations

from gateway.domain.security_headers import API_CSP, PAGE_CSP, security_headers


def test_an_api_answer_may_load_and_frame_nothing() -> None:
    headers = dict(security_headers("application/json", hsts_max_age_s=60))

    assert headers["content-security-policy"] == API_CSP
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["strict-transport-security"] == "max-age=60; includeSubDomains"


def test_a_page_may_load_only_from_the_gateway_itself() -> None:
    headers = dict(security_headers("text/html; charset=utf-8", hsts_max_age_s=60))
    policy = headers["content-security-policy"]

    assert policy == PAGE_CSP
    assert "script-src 'self';" in policy
    assert "style-src 'self';" in policy
    assert "frame-ancestors 'none'" in policy
    assert "http" not in policy  # no other origin, and no inline script
    assert "unsafe-inline" not in policy


def test_hsts_can_be_switched_off() -> None:
    names = {n for n, _ in security_headers("application/json", hsts_max_age_s=0)}

    assert "strict-transport-security" not in names
