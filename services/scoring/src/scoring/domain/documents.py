"""Reading and writing the JSON documents of served models: what every kind has in common.

Every document starts with the same header (``kind``, ``format``, ``version``) and describes
its features, score scale and tiers the same way::

    {"kind": str, "format": int, "version": str, ...,
     "scale": {"base_points", "base_odds", "pdo"}, "tiers": {"upper_pd": [4 PDs]},
     "features": [{"name", "description", "trend", "special_codes": [...], ...}, ...]}

A feature's ``description`` (default ``""``), ``trend`` (default ``"auto"``) and
``special_codes`` (default ``[]``) may be left out. Each kind's own module reads the rest of
its document with the same checks. A value that fails one raises :class:`InvalidModel` naming
it by its path in the document, e.g. ``gbm.trees[3].threshold[7]`` or
``scorecard.features[0].special_codes[1]``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, get_args

from scoring.domain.json_object import JsonObject
from scoring.domain.model import (
    FeatureSpec,
    InvalidModel,
    MonotonicTrend,
    ScoreScale,
    TierCutoffs,
)

TRENDS: tuple[str, ...] = get_args(MonotonicTrend)
_REQUIRED: Final = object()


# --- single JSON values --------------------------------------------------------------------


def as_object(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidModel(f"{path} must be an object")
    return value


def as_list(value: Any, path: str) -> Sequence[Any]:
    if not isinstance(value, Sequence) or isinstance(value, str | bytes):
        raise InvalidModel(f"{path} must be a list")
    return value


def as_text(value: Any, path: str, *, empty: bool = False) -> str:
    """A string; unless ``empty``, one with more than white space in it."""
    if not isinstance(value, str):
        raise InvalidModel(f"{path} must be a string, got {value!r}")
    if not (empty or value.strip()):
        raise InvalidModel(f"{path} is empty")
    return value


def as_number(value: Any, path: str) -> float:
    # bool is an int to Python but never a number in a model document.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidModel(f"{path} must be a finite number, got {value!r}")
    return float(value)


def as_integer(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidModel(f"{path} must be an integer, got {value!r}")
    return value


def as_flag(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidModel(f"{path} must be true or false, got {value!r}")
    return value


@dataclass(frozen=True)
class ObjectReader:
    """One JSON object being read, with its path in the document for error messages.

    A key is required unless a ``default`` is given for it.
    """

    fields: Mapping[str, Any]
    path: str

    def path_of(self, key: str) -> str:
        return f"{self.path}.{key}"

    def get(self, key: str, default: Any = _REQUIRED) -> Any:
        if key in self.fields:
            return self.fields[key]
        if default is _REQUIRED:
            raise InvalidModel(f"{self.path}: {key!r} is missing")
        return default

    def object(self, key: str, default: Any = _REQUIRED) -> ObjectReader:
        path = self.path_of(key)
        return ObjectReader(as_object(self.get(key, default), path), path)

    def objects(self, key: str) -> list[ObjectReader]:
        path = self.path_of(key)
        return [
            ObjectReader(as_object(item, f"{path}[{i}]"), f"{path}[{i}]")
            for i, item in enumerate(as_list(self.get(key), path))
        ]

    def values(self, key: str) -> Sequence[Any]:
        return as_list(self.get(key), self.path_of(key))

    def text(self, key: str, *, empty: bool = False, default: Any = _REQUIRED) -> str:
        return as_text(self.get(key, default), self.path_of(key), empty=empty)

    def number(self, key: str) -> float:
        return as_number(self.get(key), self.path_of(key))

    def numbers(self, key: str, default: Any = _REQUIRED) -> tuple[float, ...]:
        path = self.path_of(key)
        items = as_list(self.get(key, default), path)
        return tuple(as_number(v, f"{path}[{i}]") for i, v in enumerate(items))

    def integer(self, key: str) -> int:
        return as_integer(self.get(key), self.path_of(key))


# --- the parts every model document shares ---------------------------------------------------


def header_to_json(kind: str, format_: int, version: str) -> JsonObject:
    return {"kind": kind, "format": format_, "version": version}


def read_header(doc: Any, kind: str, format_: int) -> tuple[ObjectReader, str]:
    """The document as an object named ``kind`` in messages, and its version, once its kind
    and format are checked."""
    top = ObjectReader(as_object(doc, f"the {kind} document"), kind)
    if top.fields.get("kind") != kind:
        raise InvalidModel(f"not a {kind}: kind is {top.fields.get('kind')!r}, expected {kind!r}")
    found = top.integer("format")
    if found != format_:
        raise InvalidModel(f"{top.path_of('format')} {found} is not supported (only {format_})")
    return top, top.text("version")


def feature_to_json(spec: FeatureSpec) -> JsonObject:
    return {
        "name": spec.name,
        "description": spec.description,
        "trend": spec.trend,
        "special_codes": list(spec.special_codes),
    }


def feature_from_json(item: ObjectReader) -> FeatureSpec:
    trend = item.get("trend", "auto")
    if trend not in TRENDS:
        raise InvalidModel(f"{item.path_of('trend')} must be one of {TRENDS}, got {trend!r}")
    return FeatureSpec(
        name=item.text("name"),
        description=item.text("description", empty=True, default=""),
        trend=trend,
        special_codes=item.numbers("special_codes", default=()),
    )


def scale_to_json(scale: ScoreScale) -> JsonObject:
    return {"base_points": scale.base_points, "base_odds": scale.base_odds, "pdo": scale.pdo}


def scale_from_json(item: ObjectReader) -> ScoreScale:
    scale = ScoreScale(
        base_points=item.number("base_points"),
        base_odds=item.number("base_odds"),
        pdo=item.number("pdo"),
    )
    if scale.base_odds <= 0 or scale.pdo <= 0:
        raise InvalidModel(f"{item.path}: base_odds and pdo must be positive")
    return scale


def tiers_to_json(tiers: TierCutoffs) -> JsonObject:
    return {"upper_pd": list(tiers.upper_pd)}


def tiers_from_json(item: ObjectReader) -> TierCutoffs:
    bounds = item.numbers("upper_pd")
    if len(bounds) != 4:
        raise InvalidModel(
            f"{item.path_of('upper_pd')} must hold four PDs (the upper bounds of tiers A–D), "
            f"got {len(bounds)}"
        )
    try:
        return TierCutoffs((bounds[0], bounds[1], bounds[2], bounds[3]))
    except ValueError as error:
        raise InvalidModel(f"{item.path}: {error}") from error
