"""The one name for a free-form JSON object in scoring."""

from __future__ import annotations

from typing import Any

#: A JSON object as stored and served whole: a model's document, its training report, the
#: reference distributions and a drift report's result. Free-form by nature (each kind of
#: model reads its own keys, with the checks of ``documents.py``), so it stays a dict of
#: ``Any`` instead of a typed model; everything else crosses the layers as typed values.
JsonObject = dict[str, Any]
