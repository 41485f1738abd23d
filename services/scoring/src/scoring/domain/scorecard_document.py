"""The scorecard's JSON document (``format`` 1): writing it and reading it back with checks::

    {"kind": "scorecard", "format": 1, "version": "...",
     "scale": {"base_points", "base_odds", "pdo"}, "tiers": {"upper_pd": [4 PDs]},
     "intercept": int, "meta": {...},
     "features": [{"name", "description", "trend", "special_codes": [...],
                   "type": "numerical", "bins": [{"lower", "upper", "points"}, ...],
                   # or "type": "categorical", "bins": [{"categories", "labels"?, "points"}]
                   "special": [{"codes": [...], "points"}], "missing_points": int}]}

Edges are numbers, or the strings ``"-inf"``/``"inf"`` (JSON has no infinity). The header,
scale, tiers and each characteristic's feature fields are those of every model document
(:mod:`scoring.domain.documents`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scoring.domain.documents import (
    ObjectReader,
    as_number,
    feature_from_json,
    feature_to_json,
    header_to_json,
    read_header,
    scale_from_json,
    scale_to_json,
    tiers_from_json,
    tiers_to_json,
)
from scoring.domain.json_object import JsonObject
from scoring.domain.model import InvalidModel, ScoreScale, TierCutoffs
from scoring.domain.scorecard_bins import FORMAT, KIND, Characteristic, SpecialBin


@dataclass(frozen=True)
class ScorecardParts:
    """What a scorecard's document holds; ``ScorecardModel`` is made from it and back."""

    version: str
    characteristics: Sequence[Characteristic]
    scale: ScoreScale
    tiers: TierCutoffs
    intercept: int
    meta: Mapping[str, Any]


def scorecard_to_json(model: ScorecardParts) -> JsonObject:
    return {
        **header_to_json(KIND, FORMAT, model.version),
        "scale": scale_to_json(model.scale),
        "tiers": tiers_to_json(model.tiers),
        "intercept": model.intercept,
        "meta": dict(model.meta),
        "features": [_characteristic_json(c) for c in model.characteristics],
    }


def scorecard_from_json(doc: Mapping[str, Any]) -> ScorecardParts:
    """Read and check a points table; :class:`InvalidModel` says what is wrong."""
    top, version = read_header(doc, KIND, FORMAT)
    scale = scale_from_json(top.object("scale"))
    features = top.objects("features")
    if not features:
        raise InvalidModel(f"{top.path_of('features')} is empty: a scorecard needs characteristics")
    meta = top.object("meta", {}).fields
    return ScorecardParts(
        version=version,
        characteristics=[_characteristic_from_json(f) for f in features],
        scale=scale,
        tiers=tiers_from_json(top.object("tiers")),
        intercept=top.integer("intercept"),
        meta=meta,
    )


# --- writing -------------------------------------------------------------------------------


def _characteristic_json(ch: Characteristic) -> JsonObject:
    return {
        **feature_to_json(ch.feature),
        "type": "categorical" if ch.is_categorical else "numerical",
        "bins": _bins_json(ch),
        "special": [{"codes": list(s.codes), "points": s.points} for s in ch.special],
        "missing_points": ch.missing_points,
    }


def _bins_json(ch: Characteristic) -> list[JsonObject]:
    if ch.categories is not None:
        bins: list[JsonObject] = []
        for i, (group, points) in enumerate(zip(ch.categories, ch.points, strict=True)):
            entry: JsonObject = {"categories": list(group), "points": points}
            if ch.labels is not None:
                entry["labels"] = list(ch.labels[i])
            bins.append(entry)
        return bins
    bounds = (-math.inf, *ch.edges, math.inf)
    return [
        {"lower": _edge_json(lo), "upper": _edge_json(hi), "points": p}
        for lo, hi, p in zip(bounds, bounds[1:], ch.points, strict=False)
    ]


def _edge_json(value: float) -> float | str:
    return value if math.isfinite(value) else ("inf" if value > 0 else "-inf")


# --- reading -------------------------------------------------------------------------------


def _characteristic_from_json(item: ObjectReader) -> Characteristic:
    spec = feature_from_json(item)
    reader = ObjectReader(item.fields, f"{item.path} ({spec.name})")
    bins = reader.objects("bins")
    if not bins:
        raise InvalidModel(f"{reader.path_of('bins')} is empty")
    kind = reader.text("type")
    if kind not in ("numerical", "categorical"):
        raise InvalidModel(
            f"{reader.path_of('type')} must be 'numerical' or 'categorical', not {kind!r}"
        )
    categorical = kind == "categorical"
    labels = [_labels_from_json(b) for b in bins] if categorical else []
    return Characteristic(
        feature=spec,
        points=tuple(b.integer("points") for b in bins),
        edges=() if categorical else _edges_from_json(bins, reader.path),
        categories=tuple(b.numbers("categories") for b in bins) if categorical else None,
        labels=_all_labels(labels),
        special=tuple(
            SpecialBin(codes=s.numbers("codes"), points=s.integer("points"))
            for s in reader.objects("special")
        ),
        missing_points=reader.integer("missing_points"),
    )


def _edges_from_json(bins: list[ObjectReader], where: str) -> tuple[float, ...]:
    lowers = [_edge(b.get("lower"), b.path_of("lower")) for b in bins]
    uppers = [_edge(b.get("upper"), b.path_of("upper")) for b in bins]
    if lowers[0] != -math.inf or uppers[-1] != math.inf:
        raise InvalidModel(f"{where}: numerical bins must run from '-inf' to 'inf'")
    for i in range(len(bins)):
        if not lowers[i] < uppers[i]:
            raise InvalidModel(f"{where}: bin {i} is empty or reversed ({lowers[i]}, {uppers[i]})")
        if i and lowers[i] != uppers[i - 1]:
            raise InvalidModel(
                f"{where}: bin {i} starts at {lowers[i]}, not where bin {i - 1} ends "
                f"({uppers[i - 1]}); bins must be contiguous and increasing"
            )
    return tuple(uppers[:-1])


def _edge(value: Any, path: str) -> float:
    if value in ("-inf", "inf"):
        return float(value)
    return as_number(value, path)


def _all_labels(
    labels: list[tuple[str, ...] | None],
) -> tuple[tuple[str, ...], ...] | None:
    """Labels are all or nothing: kept only when every categorical bin has them."""
    present = [lb for lb in labels if lb is not None]
    return tuple(present) if labels and len(present) == len(labels) else None


def _labels_from_json(reader: ObjectReader) -> tuple[str, ...] | None:
    if "labels" not in reader.fields:
        return None
    labels = reader.get("labels")
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        raise InvalidModel(f"{reader.path_of('labels')} must be a list of strings")
    return tuple(labels)
