from typing import Any

import httpx
import pytest

from factories import make_registration


def make_product(*, product_id: str = "consumer-12m", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "product_id": product_id,
        "name": "Consumer loan, 12 months",
        "currency": "CNY",
        "penalty_multiplier": "1.5",
        "cost_cap_apr": "0.24",
        "grace_days": 3,
        "waterfall": ["penalty", "fees", "interest", "principal"],
        "jurisdiction": "cn",
    }
    return body | overrides


async def test_a_product_is_created_at_version_1_and_readable(
    monitoring: httpx.AsyncClient,
) -> None:
    created = await monitoring.post("/api/v1/products", json=make_product())
    assert created.status_code == 201, created.text
    body = created.json()
    assert body | {"updated_at": None} == make_product() | {"version": 1, "updated_at": None}
    assert (await monitoring.get("/api/v1/products/consumer-12m")).json() == body


async def test_the_same_product_twice_is_200_and_other_terms_under_its_id_are_409(
    monitoring: httpx.AsyncClient,
) -> None:
    first = await monitoring.post("/api/v1/products", json=make_product())
    again = await monitoring.post("/api/v1/products", json=make_product(cost_cap_apr="0.240"))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    clash = await monitoring.post("/api/v1/products", json=make_product(grace_days=5))
    assert clash.status_code == 409
    assert clash.headers["content-type"] == "application/problem+json"
    assert (await monitoring.get("/api/v1/products/consumer-12m")).json() == first.json()


async def test_changing_a_product_bumps_its_version_and_an_unchanged_put_does_not(
    monitoring: httpx.AsyncClient,
) -> None:
    await monitoring.post("/api/v1/products", json=make_product())
    terms = make_product(grace_days=5, jurisdiction="us")
    del terms["product_id"]
    changed = await monitoring.put("/api/v1/products/consumer-12m", json=terms)
    assert changed.status_code == 200, changed.text
    assert (changed.json()["version"], changed.json()["grace_days"]) == (2, 5)
    same = await monitoring.put("/api/v1/products/consumer-12m", json=terms)
    assert same.json() == changed.json()
    unknown = await monitoring.put("/api/v1/products/nope", json=terms)
    assert unknown.status_code == 404


async def test_products_are_listed_by_id_with_the_default_one(
    monitoring: httpx.AsyncClient,
) -> None:
    for n in range(3):
        await monitoring.post("/api/v1/products", json=make_product(product_id=f"p-{n}"))
    first = (await monitoring.get("/api/v1/products", params={"limit": 2})).json()
    second = (
        await monitoring.get(
            "/api/v1/products", params={"limit": 2, "cursor": first["next_cursor"]}
        )
    ).json()
    ids = [p["product_id"] for p in first["items"] + second["items"]]
    assert ids == ["default", "p-0", "p-1", "p-2"]
    assert second["next_cursor"] is None
    default = first["items"][0]
    assert default["waterfall"] == ["penalty", "fees", "interest", "principal"]
    assert (default["penalty_multiplier"], default["cost_cap_apr"]) == ("1.5", "0.24")


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"waterfall": ["penalty", "fees", "interest"]}, "waterfall"),
        ({"waterfall": ["penalty", "fees", "interest", "interest"]}, "waterfall"),
        ({"waterfall": ["penalty", "fees", "interest", "principal", "tip"]}, "waterfall"),
        ({"cost_cap_apr": "0"}, "cost_cap_apr"),
        ({"cost_cap_apr": "-0.1"}, "cost_cap_apr"),
        ({"penalty_multiplier": "-1"}, "penalty_multiplier"),
        ({"penalty_multiplier": "1.23456"}, "penalty_multiplier"),
        ({"jurisdiction": "uk"}, "jurisdiction"),
        ({"grace_days": -1}, "grace_days"),
        ({"currency": "yuan"}, "currency"),
        ({"name": ""}, "name"),
        ({"product_id": "a b"}, "product_id"),
        ({"unexpected": True}, "unexpected"),
    ],
)
async def test_a_bad_product_is_a_422_problem_naming_the_field_and_stores_nothing(
    monitoring: httpx.AsyncClient, override: dict[str, Any], field: str
) -> None:
    response = await monitoring.post("/api/v1/products", json=make_product() | override)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json()["errors"]]
    items = (await monitoring.get("/api/v1/products")).json()["items"]
    assert [p["product_id"] for p in items] == ["default"]


async def test_a_loan_is_paid_in_its_products_waterfall_order(
    monitoring: httpx.AsyncClient,
) -> None:
    order = ["principal", "interest", "fees", "penalty"]
    await monitoring.post("/api/v1/products", json=make_product(waterfall=order))
    registration = make_registration(product="consumer-12m")
    assert (await monitoring.post("/api/v1/loans", json=registration)).status_code == 201
    payment = {
        "payment_id": "P-1",
        "loan_id": "L-0001",
        "amount": "1000.00",
        "paid_at": "2026-02-14T10:00:00+08:00",
        "channel": "app",
    }
    body = (await monitoring.post("/api/v1/payments", json=payment)).json()
    assert body["allocation"] == [
        {"seq": 1, "penalty": "0.00", "fees": "0.00", "interest": "53.81", "principal": "946.19"}
    ]


async def test_a_products_currency_is_fixed_once_loans_use_it(
    monitoring: httpx.AsyncClient,
) -> None:
    await monitoring.post("/api/v1/products", json=make_product())
    await monitoring.post("/api/v1/loans", json=make_registration(product="consumer-12m"))
    terms = make_product(currency="USD")
    del terms["product_id"]
    response = await monitoring.put("/api/v1/products/consumer-12m", json=terms)
    assert response.status_code == 409
    assert (await monitoring.get("/api/v1/products/consumer-12m")).json()["currency"] == "CNY"
