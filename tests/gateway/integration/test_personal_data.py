"""Personal data in proxied answers: masked for callers without ``pii:read``, nowhere else."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from gateway.domain.scopes import Role

Bearer = Callable[..., dict[str, str]]
PROBLEM = "application/problem+json"


async def test_an_auditor_sees_the_borrower_of_a_collections_loan_masked(
    api: httpx.AsyncClient, bearer: Bearer
) -> None:
    response = await api.get("/api/v1/collections/loans/L-0001", headers=bearer(Role.AUDITOR))

    assert response.status_code == 200
    borrower = response.json()["borrower"]
    assert borrower["name"] == "张*"
    assert borrower["phone"] == "+86138****0000"
    assert borrower["email"] == "z***@example.com"
    assert borrower["national_id"] == "110***********1234"
    assert borrower["borrower_id"] == "B-0001"
    assert response.json()["loan_id"] == "L-0001"
    assert int(response.headers["content-length"]) == len(response.content)


async def test_a_collector_with_pii_read_sees_the_borrower_unmasked(
    api: httpx.AsyncClient, bearer: Bearer
) -> None:
    response = await api.get("/api/v1/collections/loans/L-0001", headers=bearer(Role.COLLECTOR))

    borrower = response.json()["borrower"]
    assert (borrower["name"], borrower["phone"]) == ("张三", "+8613800000000")
    assert borrower["national_id"] == "110101199001011234"


async def test_a_notify_recipient_is_masked_for_an_auditor(
    full_api: httpx.AsyncClient, bearer: Bearer
) -> None:
    response = await full_api.get("/api/v1/notify/recipients/B-0002", headers=bearer(Role.AUDITOR))

    assert response.status_code == 200
    assert response.json() == {
        "borrower_id": "B-0002",
        "name": "L*",
        "phone": "+86139****2222",
        "email": None,
        "locale": "en",
        "time_zone": "Asia/Shanghai",
        "channels": ["sms"],
    }


async def test_a_masked_route_asks_its_upstream_for_an_uncompressed_answer(
    api: httpx.AsyncClient, bearer: Bearer
) -> None:
    gzip = {"Accept-Encoding": "gzip"}

    masked = await api.get("/api/v1/collections/loans/L-1", headers=bearer(Role.AUDITOR) | gzip)
    clear = await api.get("/api/v1/collections/loans/L-1", headers=bearer(Role.COLLECTOR) | gzip)

    assert masked.json()["accept_encoding"] is None
    assert clear.json()["accept_encoding"] == "gzip"


async def test_an_answer_that_cannot_be_masked_is_withheld(
    api: httpx.AsyncClient, bearer: Bearer
) -> None:
    refused = await api.get("/api/v1/collections/loans/as-csv", headers=bearer(Role.AUDITOR))
    allowed = await api.get("/api/v1/collections/loans/as-csv", headers=bearer(Role.COLLECTOR))

    assert refused.status_code == 502
    assert refused.headers["content-type"] == PROBLEM
    assert "张三" not in refused.text
    assert allowed.status_code == 200
    assert "张三" in allowed.text


async def test_a_route_not_marked_personal_passes_its_answer_untouched(
    api: httpx.AsyncClient, bearer: Bearer
) -> None:
    # The echo upstream returns the request's headers: personal-looking fields, not masked.
    personal_looking = {"Phone": "+8613800000000", "Email": "zhang@example.com"}

    response = await api.get("/api/v1/loans/L-1", headers=bearer(Role.AUDITOR) | personal_looking)

    received = response.json()["headers"]
    assert (received["phone"], received["email"]) == ("+8613800000000", "zhang@example.com")
