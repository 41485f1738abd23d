"""Model documents: reading a served model of any kind from its JSON document."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from scoring.domain.gbm import GbmModel
from scoring.domain.model import InvalidModel, ServedModel
from scoring.domain.scorecard import ScorecardModel

KINDS: dict[str, Callable[[Mapping[str, Any]], ServedModel]] = {
    "scorecard": ScorecardModel.from_json,
    "gbm": GbmModel.from_json,
}


def load_model(document: Mapping[str, Any]) -> ServedModel:
    """The served model of a document; :class:`InvalidModel` says what is wrong with it."""
    if not isinstance(document, Mapping):
        raise InvalidModel("a model document is a JSON object")
    kind = document.get("kind")
    if kind not in KINDS:
        raise InvalidModel(f"unknown model kind {kind!r}; expected one of {sorted(KINDS)}")
    model: ServedModel = KINDS[kind](document)
    return model


def check_features(model: ServedModel, available: Sequence[str]) -> None:
    """Refuse a model whose inputs scoring does not compute from live events."""
    unknown = [f.name for f in model.features if f.name not in available]
    if unknown:
        raise InvalidModel(
            f"model {model.version} uses features scoring does not compute: {', '.join(unknown)}; "
            f"live features are: {', '.join(available)}"
        )
