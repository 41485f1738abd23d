"""The scorecard's modules import in one direction: bins <- document <- model (no cycle)."""

from __future__ import annotations

import grimp
import pytest

BINS = "scoring.domain.scorecard_bins"
DOCUMENT = "scoring.domain.scorecard_document"
MODEL = "scoring.domain.scorecard"


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("scoring")


@pytest.mark.parametrize(
    ("importer", "imported"), [(DOCUMENT, MODEL), (BINS, DOCUMENT), (BINS, MODEL)]
)
def test_a_lower_scorecard_module_never_reaches_a_higher_one(
    graph: grimp.ImportGraph, importer: str, imported: str
) -> None:
    assert graph.find_shortest_chain(importer=importer, imported=imported) is None


def test_the_model_builds_on_the_document_and_the_bins(graph: grimp.ImportGraph) -> None:
    assert graph.direct_import_exists(importer=MODEL, imported=DOCUMENT)
    assert graph.direct_import_exists(importer=DOCUMENT, imported=BINS)
