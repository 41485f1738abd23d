"""Registering a trained version with a running platform: ``postloan-scoring publish DIR``.

A version folder written by ``postloan-scoring train`` holds each model's document, the report
and the development sample's bin counts (``reference.json``: what drift is measured against).
Publishing posts one upload per model to ``POST /api/v1/scoring/models`` (the champion of the
training as the first, the challenger after it) and, when asked, promotes the first.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pandas as pd

from scoring.domain.drift import reference_of
from scoring.domain.json_object import JsonObject
from scoring.domain.model import ServedModel, feature_matrix

ROLES = ("champion", "challenger")
REFERENCE_FILE = "reference.json"


def references(models: dict[str, ServedModel], development: pd.DataFrame) -> JsonObject:
    """Each model's reference bins, counted on the development sample it was trained on."""
    result = {}
    for role, model in models.items():
        names = [f.name for f in model.features]
        rows = development[names].astype("float64").to_dict("records")
        result[role] = reference_of(model, feature_matrix(rows, model.features))
    return result


def upload_body(directory: Path, role: str) -> JsonObject:
    """The body of ``POST /api/v1/scoring/models`` for one model of a version folder."""
    document = _read(directory / f"{role}.json")
    report = _read(directory / "report.json")
    reference = _read(directory / REFERENCE_FILE)[role]
    dataset = report.get("dataset", {})
    summary = {
        "fingerprint": dataset.get("fingerprint", ""),
        "dataset": dataset,
        "trained_as": role,
        "validation": report.get("validation"),
        "metrics": report.get("models", {}).get(role),
    }
    return {"document": document, "report": summary, "reference": reference}


def publish(
    directory: Path,
    client: httpx.Client,
    *,
    promote: bool,
    say: Callable[[str], None],
) -> list[str]:
    """Register both models of ``directory`` (idempotent); promote the champion if asked."""
    versions = []
    for role in ROLES:
        body = upload_body(directory, role)
        r = client.post("/api/v1/scoring/models", json=body)
        _check(r, f"registering the {role}")
        version = body["document"]["version"]
        say(f"{role} {version}: {'registered' if r.status_code == 201 else 'already registered'}")
        versions.append(version)
    if promote:
        r = client.post(
            f"/api/v1/scoring/models/{versions[0]}/promote",
            json={"reason": f"published from {directory.name}"},
        )
        if r.status_code == 409 and "already the champion" in r.text:
            say(f"{versions[0]} is already the champion")
        else:
            _check(r, "promoting the champion")
            say(f"{versions[0]} is the champion; every open loan is being rescored")
    return versions


def _read(path: Path) -> JsonObject:
    if not path.exists():
        raise SystemExit(f"{path} is missing: publish a folder written by postloan-scoring train")
    document: JsonObject = json.loads(path.read_text(encoding="utf-8"))
    return document


def _check(response: httpx.Response, what: str) -> None:
    if response.status_code >= 400:
        detail = response.text[:500]
        raise SystemExit(f"{what} failed: HTTP {response.status_code}: {detail}")
