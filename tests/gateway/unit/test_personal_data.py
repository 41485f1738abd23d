"""Masking an upstream's answer: JSON only, and what cannot be masked is withheld."""

from __future__ import annotations

import json

import pytest

from gateway.adapters.upstream import UpstreamResponse
from gateway.service_layer.personal_data import Unmaskable, is_json, masked

JSON = ("content-type", "application/json")


def answer(body: bytes, *headers: tuple[str, str]) -> UpstreamResponse:
    return UpstreamResponse(200, list(headers), body)


def test_a_json_answer_is_masked_and_headers_describing_the_old_bytes_are_dropped() -> None:
    body = json.dumps({"name": "张三", "loan_id": "L-1"}).encode()

    result = masked(answer(body, JSON, ("ETag", '"abc"'), ("x-echo", "1")))

    assert json.loads(result.body) == {"name": "张*", "loan_id": "L-1"}
    assert result.headers == [JSON, ("x-echo", "1")]
    assert result.status == 200


def test_an_empty_answer_passes_as_it_is() -> None:
    empty = UpstreamResponse(204, [], b"")

    assert masked(empty) is empty


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (b"loan_id,name\nL-1,x\n", [("content-type", "text/csv")]),
        (b"\x1f\x8b...", [JSON, ("content-encoding", "gzip")]),
        (b"{not json", [JSON]),
        (b'{"name": "x"}', []),
    ],
    ids=["csv", "gzip", "broken json", "no content type"],
)
def test_an_answer_that_is_not_plain_json_cannot_be_masked(
    body: bytes, headers: list[tuple[str, str]]
) -> None:
    with pytest.raises(Unmaskable):
        masked(answer(body, *headers))


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("application/json", True),
        ("application/json; charset=utf-8", True),
        ("application/problem+json", True),
        ("text/json", False),
        ("text/html", False),
    ],
)
def test_json_media_types_are_recognised(content_type: str, expected: bool) -> None:
    assert is_json(content_type) is expected
