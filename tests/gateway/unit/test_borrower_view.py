"""The 360° view's rules: partial rather than failed, 404 only when nobody knows the borrower."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateway.adapters.upstream import UpstreamResponse, UpstreamTimeout, UpstreamUnreachable
from gateway.domain.breaker import CircuitBreaker
from gateway.domain.forwarding import HeaderList
from gateway.domain.routing import Upstream
from gateway.service_layer.borrowers import borrower_view
from gateway.service_layer.proxy import Proxy
from shared.problems import NotFound, Problem

CONTACT = {"borrower_id": "B-1", "name": "张三", "phone": "+8613800000000"}
LOANS = {"items": [{"loan_id": "L-1", "borrower_id": "B-1"}], "next_cursor": None}
REPORTS = {"items": [{"score": 640}], "next_cursor": None}

Answer = UpstreamResponse | Exception


def ok(body: Any) -> UpstreamResponse:
    return UpstreamResponse(200, [("content-type", "application/json")], json.dumps(body).encode())


def status(code: int) -> UpstreamResponse:
    return UpstreamResponse(code, [("content-type", "application/problem+json")], b"{}")


class FakeUpstream:
    """Answers by path prefix, or raises what it is given."""

    def __init__(self, answers: dict[str, Answer]) -> None:
        self.answers = answers
        self.targets: list[str] = []

    async def send(
        self, method: str, target: str, headers: HeaderList, body: bytes | None
    ) -> UpstreamResponse:
        self.targets.append(target)
        answer = next(a for prefix, a in self.answers.items() if target.startswith(prefix))
        if isinstance(answer, Exception):
            raise answer
        return answer


def make_proxy(*, contact: Answer, loans: Answer, reports: Answer) -> Proxy:
    monitoring = FakeUpstream({"/api/v1/loans": loans, "/api/v1/borrowers": reports})
    notify = FakeUpstream({"/api/v1/notify": contact})
    return Proxy(
        {Upstream.MONITORING: monitoring, Upstream.NOTIFY: notify},
        get_retries=0,
        breaker=CircuitBreaker,
    )


async def no_identity(method: str, path: str) -> HeaderList:
    return [("x-signed-for", f"{method} {path}")]


async def view(proxy: Proxy, *, unmasked: bool = True) -> dict[str, Any]:
    return await borrower_view(proxy, "B-1", headers=[], identity=no_identity, unmasked=unmasked)


async def test_every_part_is_read_and_noted_as_ok() -> None:
    result = await view(make_proxy(contact=ok(CONTACT), loans=ok(LOANS), reports=ok(REPORTS)))

    assert result["contact"] == CONTACT
    assert result["loans"] == LOANS["items"]
    assert result["bureau_reports"] == REPORTS["items"]
    assert {s["status"] for s in result["sources"].values()} == {"ok"}


async def test_the_view_is_masked_unless_the_caller_may_see_personal_data() -> None:
    proxy = make_proxy(contact=ok(CONTACT), loans=ok(LOANS), reports=ok(REPORTS))

    result = await view(proxy, unmasked=False)

    assert result["contact"]["name"] == "张*"
    assert result["contact"]["phone"] == "+86138****0000"


async def test_a_failed_upstream_leaves_its_part_null_and_says_why() -> None:
    down = UpstreamUnreachable("notify", "connection refused")

    result = await view(make_proxy(contact=down, loans=ok(LOANS), reports=ok(REPORTS)))

    assert result["contact"] is None
    assert result["sources"]["contact"] == {
        "service": "notify",
        "status": "failed",
        "detail": "notify: connection refused",
    }
    assert result["loans"] == LOANS["items"]


@pytest.mark.parametrize(
    "loans", [status(404), status(500), ok({"no": "items"})], ids=["404", "500", "malformed"]
)
async def test_loans_that_cannot_be_listed_are_a_failed_part(loans: UpstreamResponse) -> None:
    result = await view(make_proxy(contact=ok(CONTACT), loans=loans, reports=ok(REPORTS)))

    assert result["loans"] is None
    assert result["sources"]["loans"]["status"] == "failed"


async def test_no_bureau_history_is_an_empty_part_not_a_failure() -> None:
    result = await view(make_proxy(contact=ok(CONTACT), loans=ok(LOANS), reports=status(404)))

    assert result["bureau_reports"] == []
    assert result["sources"]["bureau_reports"]["status"] == "not_found"


async def test_a_borrower_no_upstream_knows_is_not_found() -> None:
    empty = ok({"items": [], "next_cursor": None})

    with pytest.raises(NotFound):
        await view(make_proxy(contact=status(404), loans=empty, reports=status(404)))


async def test_when_every_upstream_fails_the_view_is_a_502() -> None:
    timeout = UpstreamTimeout("monitoring", "no response in time")

    with pytest.raises(Problem) as failed:
        await view(make_proxy(contact=status(503), loans=timeout, reports=timeout))
    assert failed.value.status == 502


async def test_the_borrower_id_is_escaped_in_the_upstream_paths() -> None:
    proxy = make_proxy(contact=ok(CONTACT), loans=ok(LOANS), reports=ok(REPORTS))

    await borrower_view(proxy, "B/1?x", headers=[], identity=no_identity, unmasked=True)

    monitoring = proxy.clients[Upstream.MONITORING]
    assert isinstance(monitoring, FakeUpstream)
    assert sorted(monitoring.targets) == [
        "/api/v1/borrowers/B%2F1%3Fx/bureau-reports?limit=50",
        "/api/v1/loans?borrower_id=B%2F1%3Fx&limit=500",
    ]


class CasesUpstream(FakeUpstream):
    """Collections: answers the cases list with ``items``, and notes what it was sent."""

    def __init__(self, items: list[dict[str, str]]) -> None:
        super().__init__({"/api/v1/cases": ok({"items": items, "next_cursor": None})})
        self.signed_for: list[str] = []

    async def send(
        self, method: str, target: str, headers: HeaderList, body: bytes | None
    ) -> UpstreamResponse:
        self.signed_for += [v for n, v in headers if n == "x-signed-for"]
        return await super().send(method, target, headers, body)


async def test_a_caller_limited_to_their_cases_sees_only_their_borrowers() -> None:
    proxy = make_proxy(contact=ok(CONTACT), loans=ok(LOANS), reports=ok(REPORTS))
    proxy.clients[Upstream.COLLECTIONS] = CasesUpstream([])
    proxy.breakers[Upstream.COLLECTIONS] = CircuitBreaker()

    with pytest.raises(NotFound):
        await borrower_view(
            proxy, "B-1", headers=[], identity=no_identity, unmasked=True, own_cases_only=True
        )
    monitoring = proxy.clients[Upstream.MONITORING]
    assert isinstance(monitoring, FakeUpstream)
    assert monitoring.targets == []  # nothing else was read


async def test_each_read_is_signed_for_its_own_path() -> None:
    proxy = make_proxy(contact=ok(CONTACT), loans=ok(LOANS), reports=ok(REPORTS))
    cases = CasesUpstream([{"case_id": "C-1"}])
    proxy.clients[Upstream.COLLECTIONS] = cases
    proxy.breakers[Upstream.COLLECTIONS] = CircuitBreaker()

    result = await borrower_view(
        proxy, "B/1", headers=[], identity=no_identity, unmasked=True, own_cases_only=True
    )

    assert result["loans"] == LOANS["items"]
    assert cases.signed_for == ["GET /api/v1/cases"]
