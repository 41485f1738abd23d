"""Route of the bulk import: a portfolio file (and its payment history) in one request."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile, status
from pydantic import BaseModel

from monitoring.service_layer.bulk_import import import_portfolio
from monitoring.service_layer.import_files import Format, format_of
from shared.app import SessionDep
from shared.problems import Problem

router = APIRouter(prefix="/api/v1/imports", tags=["imports"])


class RowErrorPublic(BaseModel):
    file: str
    row: int
    field: str
    reason: str


class ImportReportPublic(BaseModel):
    status: str
    loans: int
    borrowers: int
    instalments: int
    payments: int
    error_count: int
    errors: list[RowErrorPublic]
    seconds: float


@router.post(
    "",
    response_model=ImportReportPublic,
    status_code=status.HTTP_201_CREATED,
    responses={422: {"description": "Rows refused (each with row, field, reason); none stored"}},
)
async def post_import(
    session: SessionDep,
    loans: Annotated[
        UploadFile, File(description="Loans: NDJSON (one registration a line) or CSV")
    ],
    payments: Annotated[UploadFile | None, File(description="CSV payment history")] = None,
    file_format: Annotated[Format | None, Form(alias="format")] = None,
) -> ImportReportPublic:
    """Import loans, schedules and payment history from a file: all rows or none."""
    fmt = file_format or format_of(loans.filename or "")
    if fmt is None:
        raise Problem(
            422,
            "Unknown file format",
            "name the file .ndjson, .jsonl or .csv, or pass format=ndjson|csv",
            errors=[{"field": "format", "message": "ndjson or csv"}],
        )
    # Starlette spools each upload to a temporary file past 1 MB: large files are not in memory.
    report = await import_portfolio(
        session, loans.file, fmt=fmt, payments=payments.file if payments else None
    )
    return ImportReportPublic.model_validate(report.as_dict())
