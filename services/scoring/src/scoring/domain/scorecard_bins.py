"""A scorecard's characteristics: the bins of each feature and the integer points they award,
checked when made (what :mod:`scoring.domain.scorecard` scores with and
:mod:`scoring.domain.scorecard_document` reads and writes)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from scoring.domain.model import FeatureSpec, InvalidModel

KIND = "scorecard"
FORMAT = 1


@dataclass(frozen=True)
class SpecialBin:
    """The bin of one or more special codes of a characteristic."""

    codes: tuple[float, ...]
    points: int


@dataclass(frozen=True)
class Characteristic:
    """One feature's bins and their points.

    Numerical: ``edges`` are the inner cut points and bin ``i`` is ``[edges[i-1], edges[i])``
    (so ``len(points) == len(edges) + 1``). Categorical: ``categories[i]`` are the (numeric)
    category codes of bin ``i``, with optional human-readable ``labels``.
    """

    feature: FeatureSpec
    points: tuple[int, ...]
    edges: tuple[float, ...] = ()
    categories: tuple[tuple[float, ...], ...] | None = None
    labels: tuple[tuple[str, ...], ...] | None = None
    special: tuple[SpecialBin, ...] = ()
    missing_points: int = 0

    def __post_init__(self) -> None:
        where = f"feature {self.feature.name!r}"
        every = (*self.points, *(s.points for s in self.special), self.missing_points)
        if any(type(p) is not int for p in every):
            raise InvalidModel(f"{where}: points must be integers")
        if self.categories is None:
            self._check_numerical(where)
        else:
            self._check_categorical(where, self.categories)
        self._check_special(where)

    def _check_numerical(self, where: str) -> None:
        if not all(math.isfinite(e) for e in self.edges):
            raise InvalidModel(f"{where}: inner bin edges must be finite")
        if any(b <= a for a, b in zip(self.edges, self.edges[1:], strict=False)):
            raise InvalidModel(f"{where}: bin edges must be strictly increasing")
        if len(self.points) != len(self.edges) + 1:
            raise InvalidModel(f"{where}: {len(self.edges) + 1} bins need as many points")

    def _check_categorical(self, where: str, categories: tuple[tuple[float, ...], ...]) -> None:
        if not categories or len(self.points) != len(categories):
            raise InvalidModel(f"{where}: every categorical bin needs categories and points")
        values = [v for group in categories for v in group]
        if not all(group for group in categories) or not all(math.isfinite(v) for v in values):
            raise InvalidModel(f"{where}: a categorical bin needs finite category codes")
        if len(set(values)) != len(values):
            raise InvalidModel(f"{where}: a category code appears in more than one bin")
        if self.labels is not None and [len(g) for g in self.labels] != [
            len(g) for g in categories
        ]:
            raise InvalidModel(f"{where}: labels must match the categories one to one")

    def _check_special(self, where: str) -> None:
        codes = [c for s in self.special for c in s.codes]
        if len(set(codes)) != len(codes) or not all(s.codes for s in self.special):
            raise InvalidModel(f"{where}: each special bin needs codes, each code in one bin")
        if set(codes) != set(self.feature.special_codes):
            raise InvalidModel(
                f"{where}: special bins cover codes {sorted(codes)} but the feature declares "
                f"{sorted(self.feature.special_codes)}"
            )

    @property
    def is_categorical(self) -> bool:
        return self.categories is not None

    @property
    def max_points(self) -> int:
        """The most points this characteristic can award (the Reg B reference)."""
        return max((*self.points, *(s.points for s in self.special), self.missing_points))
