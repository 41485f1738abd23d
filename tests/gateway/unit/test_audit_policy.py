"""What the audit log records, and how it names a forwarded call's route and resources."""

from __future__ import annotations

import pytest

from gateway.domain.audit_policy import RECORDED_READS, describe_path, is_recorded
from gateway.domain.routing import READ, ROUTES, Route, example_path


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_every_mutating_api_call_is_recorded(method: str) -> None:
    assert is_recorded(method, "/api/v1/loans", {}, "alice")
    assert is_recorded(method, "/api/v1/auth/token", {}, None)


@pytest.mark.parametrize(
    "path",
    ["/api/v1/borrowers/B-1", "/api/v1/cases", "/api/v1/cases/C-1", "/api/v1/messages/M-1",
     "/api/v1/contact-decisions", "/api/v1/users/bob", "/api/v1/audit"],
)  # fmt: skip
def test_reads_of_personal_data_and_of_others_work_are_recorded(path: str) -> None:
    assert is_recorded("GET", path, {}, "alice")


@pytest.mark.parametrize(
    "path",
    ["/api/v1/loans/L-1", "/api/v1/scores/L-1", "/api/v1/portfolio/summary",
     "/api/v1/business-date", "/api/v1/casesx", "/healthz", "/docs"],
)  # fmt: skip
def test_plain_reads_are_not_recorded(path: str) -> None:
    assert not is_recorded("GET", path, {}, "alice")


def test_nothing_outside_the_api_is_recorded_even_a_post() -> None:
    assert not is_recorded("POST", "/docs", {}, None)


def test_the_work_queue_is_recorded_only_when_it_is_someone_elses() -> None:
    assert not is_recorded("GET", "/api/v1/work-queue", {}, "alice")
    assert not is_recorded("GET", "/api/v1/work-queue", {"assignee": "alice"}, "alice")
    assert is_recorded("GET", "/api/v1/work-queue", {"assignee": "bob"}, "alice")


@pytest.mark.parametrize("route", [r for r in ROUTES if r.personal], ids=lambda r: r.pattern)
def test_every_read_the_routing_table_marks_personal_is_recorded(route: Route) -> None:
    assert route.methods & READ
    assert is_recorded("GET", example_path(route), {}, "alice")
    assert any(route.pattern.startswith(p) for p in RECORDED_READS)


@pytest.mark.parametrize(
    ("path", "template", "ids"),
    [
        ("/api/v1/cases", "/api/v1/cases", ()),
        ("/api/v1/cases/C-1/assign", "/api/v1/cases/{id}/assign", ("C-1",)),
        ("/api/v1/strategies/standard/versions/2/activate",
         "/api/v1/strategies/{id}/versions/{id}/activate", ("standard", "2")),
        ("/api/v1/scoring/models/bscore-3/promote", "/api/v1/scoring/models/{id}/promote",
         ("bscore-3",)),
        ("/api/v1/notify/loans/L-1/recipient", "/api/v1/notify/loans/{id}/recipient", ("L-1",)),
        ("/api/v1/auth/token", "/api/v1/auth/token", ()),
        ("/api/v1/offers/O-7/approve", "/api/v1/offers/{id}/approve", ("O-7",)),
    ],
)  # fmt: skip
def test_a_forwarded_path_is_described_by_its_template_and_ids(
    path: str, template: str, ids: tuple[str, ...]
) -> None:
    assert describe_path(path) == (template, ids)
