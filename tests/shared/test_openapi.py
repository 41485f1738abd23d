"""Every error in a service's OpenAPI document is the one problem schema, as problem+json."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from shared.openapi import PROBLEM_SCHEMA, install_openapi, problem_schema
from shared.principal import PrincipalDep
from shared.problems import PROBLEM_JSON

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def make_app() -> FastAPI:
    app = FastAPI()

    @app.get("/things/{thing_id}")
    async def thing(thing_id: int) -> dict[str, int]:
        return {"thing_id": thing_id}

    @app.post("/things", responses={409: {"description": "The thing exists with other terms"}})
    async def add_thing(name: str) -> dict[str, str]:
        return {"name": name}

    @app.get("/version")
    async def version() -> dict[str, str]:
        return {"version": "1"}

    @app.get("/mine")
    async def mine(principal: PrincipalDep) -> dict[str, str]:
        return {"subject": principal.subject}

    install_openapi(app)
    return app


def responses(doc: dict[str, Any], path: str, method: str = "get") -> dict[str, Any]:
    found: dict[str, Any] = doc["paths"][path][method]["responses"]
    return found


def test_validation_errors_are_problems_and_fastapis_own_schemas_are_gone() -> None:
    doc = make_app().openapi()

    unprocessable = responses(doc, "/things/{thing_id}")["422"]
    assert unprocessable["content"] == {PROBLEM_JSON: {"schema": PROBLEM_REF}}
    assert "errors" in unprocessable["description"]
    assert doc["components"]["schemas"][PROBLEM_SCHEMA] == problem_schema()
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    assert "ValidationError" not in doc["components"]["schemas"]


def test_a_path_with_parameters_can_answer_404_and_one_without_input_neither_404_nor_422() -> None:
    doc = make_app().openapi()

    assert responses(doc, "/things/{thing_id}")["404"]["content"][PROBLEM_JSON]
    assert set(responses(doc, "/version")) == {"200"}


def test_a_status_the_route_declares_keeps_its_description_and_becomes_a_problem() -> None:
    conflict = responses(make_app().openapi(), "/things", "post")["409"]

    assert conflict == {
        "description": "The thing exists with other terms",
        "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}},
    }


def test_a_route_that_checks_the_principal_requires_it_and_documents_401_and_403() -> None:
    doc = make_app().openapi()

    assert doc["paths"]["/mine"]["get"]["security"] == [{"principal": []}]
    assert {"401", "403"} <= set(responses(doc, "/mine"))
    scheme = doc["components"]["securitySchemes"]["principal"]
    assert scheme["in"] == "header"
    assert scheme["name"] == "X-PostLoan-Principal"
    assert "security" not in doc["paths"]["/version"]["get"]


def test_the_document_is_made_once_per_version_of_the_routes() -> None:
    app = make_app()
    first = app.openapi()

    assert app.openapi() is first

    @app.get("/later")
    async def later() -> dict[str, str]:
        return {}

    assert "/later" in app.openapi()["paths"]
