"""What an import reports: what it stored, or the row errors for which it stored nothing."""

from __future__ import annotations

from dataclasses import dataclass

from monitoring.adapters.copy_import import Loaded
from monitoring.domain.imports import RowError
from monitoring.domain.json_object import JsonObject
from shared.problems import Problem


@dataclass
class ImportReport:
    """What an import stored, or why it stored nothing."""

    status: str  # "imported" | "rejected"
    loaded: Loaded
    error_count: int
    errors: list[RowError]
    seconds: float
    skipped_triggers: bool = False

    def as_dict(self) -> JsonObject:
        n = self.loaded
        return {
            "status": self.status,
            "loans": n.loans,
            "borrowers": n.borrowers,
            "instalments": n.instalments,
            "payments": n.payments,
            "error_count": self.error_count,
            "errors": [
                {"file": e.file, "row": e.row, "field": e.field, "reason": e.reason}
                for e in self.errors
            ],
            "seconds": round(self.seconds, 3),
        }


class ImportRejected(Problem):
    """Rows were refused: nothing was imported (the caller's transaction rolls back)."""

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        body = report.as_dict()
        detail = f"{report.error_count} row errors; nothing was imported"
        super().__init__(
            422,
            "Import rejected",
            detail,
            errors=body["errors"],
            error_count=report.error_count,
        )
