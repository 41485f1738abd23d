"""Bounded kinds of request input, one definition each, for every service and the gateway.

Each is a plain ``Annotated`` pydantic type, so the same name serves as a path parameter, a
query parameter (``Annotated[Version | None, Query(alias=...)]`` where an alias is needed) and a
body field: FastAPI validates it before the route runs, answers a 422 problem naming the field
when it does not hold, and publishes its bounds in the OpenAPI document. The bounds are those
of what stores the value: PostgreSQL's ``integer`` for versions, a date range that leaves room
for date arithmetic (a schedule's months, a notice period) inside Python's ``date``, and no
control characters in text (PostgreSQL's ``text`` refuses NUL). See docs/architecture.md.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Final

from pydantic import AfterValidator, AwareDatetime, Field

from shared.types import ExternalId

#: PostgreSQL's ``integer`` and ``bigint``: a larger number can name no row.
INT4_MAX: Final = 2**31 - 1
INT8_MAX: Final = 2**63 - 1

#: A version number of a versioned document (rule, strategy, pack, template): 1, 2, ...
Version = Annotated[
    int, Field(ge=1, le=INT4_MAX, description="version number, from 1", examples=[1])
]
#: A count or number of days given by a caller (e.g. a sample size), within ``integer``.
Count = Annotated[int, Field(ge=0, le=INT4_MAX)]

#: The page size of a list; every list takes ``limit`` (default 50) and ``cursor``.
PageLimit = Annotated[int, Field(ge=1, le=500, description="items per page, 1 to 500")]
#: An opaque cursor: the ``next_cursor`` of a previous page (unpadded or padded base64url).
Cursor = Annotated[
    str,
    Field(
        min_length=1,
        max_length=512,
        pattern=r"^[A-Za-z0-9_-]+={0,2}$",
        description="the next_cursor of a previous page",
    ),
]

#: The dates a caller may name: beyond them lies no loan, and ``date`` arithmetic overflows.
EARLIEST_DATE: Final = date(1900, 1, 1)
LATEST_DATE: Final = date(2999, 12, 31)
CalendarDate = Annotated[
    date,
    Field(
        ge=EARLIEST_DATE,
        le=LATEST_DATE,
        description=f"a date (YYYY-MM-DD) from {EARLIEST_DATE} to {LATEST_DATE}",
        # JSON Schema has no bounds for formats; these keywords (as ajv-formats reads them)
        # publish ours, for generators and for tests/e2e/test_api_fuzz.py.
        json_schema_extra={
            "formatMinimum": EARLIEST_DATE.isoformat(),
            "formatMaximum": LATEST_DATE.isoformat(),
        },
    ),
]


def within_dates(at: datetime) -> bool:
    """Whether ``at`` falls in :data:`CalendarDate`'s years, in its own offset and in UTC."""
    offset = at.utcoffset()
    try:
        in_utc = at if offset is None else at - offset
    except OverflowError:  # before year 1 or after 9999 in UTC
        return False
    years = range(EARLIEST_DATE.year, LATEST_DATE.year + 1)
    return at.year in years and in_utc.year in years


def _instant(at: datetime) -> datetime:
    if not within_dates(at):
        raise ValueError(f"must be from {EARLIEST_DATE} to {LATEST_DATE}")
    return at


#: A moment with its UTC offset, in the same years as :data:`CalendarDate`.
Instant = Annotated[
    AwareDatetime,
    AfterValidator(_instant),
    Field(
        description=f"a time with its offset (ISO 8601), from {EARLIEST_DATE} to {LATEST_DATE}",
        json_schema_extra={  # as for CalendarDate
            "formatMinimum": f"{EARLIEST_DATE.isoformat()}T00:00:00Z",
            "formatMaximum": f"{LATEST_DATE.isoformat()}T23:59:59Z",
        },
    ),
]
#: A calendar month, ``YYYY-MM``, in the same years as :data:`CalendarDate`.
Month = Annotated[
    str,
    Field(
        pattern=r"^(19\d\d|2\d\d\d)-(0[1-9]|1[0-2])$",
        description="a month, YYYY-MM, from 1900-01 to 2999-12",
        examples=["2026-02"],
    ),
]

#: The name of a document the platform keeps (strategy, template, pack, product, agency,
#: model version, queue): the same alphabet and length as the lender's ids.
Key = ExternalId
#: A short free text to match (an assignee, an address): bounded, no control characters.
Text = Annotated[str, Field(min_length=1, max_length=254, pattern=r"^[^\x00-\x1f\x7f]+$")]
