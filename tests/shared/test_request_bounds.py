"""shared.params, shared.pagination and shared.nul_guard: bad input is a 422 naming the field."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from shared.nul_guard import NulGuardMiddleware
from shared.pagination import decode_cursor, decode_time_cursor, encode_cursor, encode_time_cursor
from shared.params import CalendarDate, Cursor, Month, PageLimit, Text, Version
from shared.problems import Problem, install_problem_handlers


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.add_middleware(NulGuardMiddleware)

    @app.get("/things/{version}")
    async def things(
        version: Version,
        on: CalendarDate | None = None,
        month: Month | None = None,
        name: Text | None = None,
        cursor: Cursor | None = None,
        limit: PageLimit = 50,
    ) -> dict[str, Any]:
        return {"version": version, "limit": limit, "cursor": decode_cursor(cursor)}

    @app.post("/documents")
    async def documents(document: dict[str, Any]) -> dict[str, Any]:
        return document

    return app


@pytest.fixture
async def client() -> Any:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/things/0", "version"),
        ("/things/2147483648", "version"),  # past PostgreSQL's integer
        ("/things/1?on=9999-12-31", "on"),  # date + 1 day would overflow
        ("/things/1?on=0001-01-01", "on"),
        ("/things/1?month=0000-01", "month"),
        ("/things/1?month=2026-13", "month"),
        ("/things/1?name=a%00b", "name"),
        ("/things/1?name=" + "x" * 255, "name"),
        ("/things/1?limit=501", "limit"),
        ("/things/1?cursor=not%20base64", "cursor"),
        ("/things/1?cursor=" + "A" * 513, "cursor"),
        ("/things/1?cursor=AA", "cursor"),  # valid base64 of a NUL: not one of ours
    ],
)
async def test_an_out_of_bounds_parameter_is_a_422_problem_naming_it(
    client: httpx.AsyncClient, url: str, field: str
) -> None:
    response = await client.get(url)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == [field]


async def test_parameters_within_bounds_are_taken(client: httpx.AsyncClient) -> None:
    cursor = encode_cursor("L-0001")
    url = f"/things/2147483647?on=2999-12-31&month=1900-01&name=alice&limit=500&cursor={cursor}"
    response = await client.get(url)
    assert response.status_code == 200, response.text
    assert response.json() == {"version": 2147483647, "limit": 500, "cursor": "L-0001"}


async def test_a_nul_anywhere_in_a_json_body_is_a_422_naming_where(
    client: httpx.AsyncClient,
) -> None:
    body = b'{"segments": [{"name": "ok"}, {"name": "a\\u0000b"}], "k\\u0000": 1}'
    response = await client.post(
        "/documents", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"segments.1.name", "body"}


@pytest.mark.parametrize(
    "body",
    [
        b'{"text": "a backslash then u0000: \\\\u0000"}',  # escaped: no NUL in the text
        b'{"text": "plain"}',
    ],
)
async def test_a_body_without_nul_reaches_the_route_unchanged(
    client: httpx.AsyncClient, body: bytes
) -> None:
    response = await client.post(
        "/documents", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 200, response.text
    assert response.content.replace(b" ", b"") == body.replace(b" ", b"")


def test_a_time_cursor_round_trips_and_a_foreign_one_is_a_422_on_cursor() -> None:
    at = datetime(2026, 2, 16, 8, 30, tzinfo=UTC)
    assert decode_time_cursor(encode_time_cursor(at, "A-1")) == (at, "A-1")
    for foreign in [
        encode_cursor("2026-02-16T08:30:00"),  # naive
        encode_cursor("0001-01-01T00:00:00+14:00|x"),  # beyond the dates we keep
        encode_cursor("yesterday|x"),
    ]:
        with pytest.raises(Problem) as caught:
            decode_time_cursor(foreign)
        assert caught.value.status == 422
        assert caught.value.extensions["errors"][0]["field"] == "cursor"


async def test_a_json_body_that_is_not_utf8_is_a_422_on_body(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/documents", content=b'{"name": "\xff"}', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["body"]
