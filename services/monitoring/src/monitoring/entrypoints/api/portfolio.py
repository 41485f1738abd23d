"""Routes of portfolio analytics, computed from the end-of-day snapshots."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import IntEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from monitoring.domain.analytics import Cure, Tally, parse_month
from monitoring.domain.buckets import BucketScale
from monitoring.entrypoints.api.eod import bucket_scale
from monitoring.service_layer import analytics
from shared.app import SessionDep
from shared.params import CalendarDate, Month
from shared.types import Money

router = APIRouter(prefix="/api/v1/portfolio", tags=["portfolio"])
ScaleDep = Annotated[BucketScale, Depends(bucket_scale)]


class TallyPublic(BaseModel):
    count: int
    #: Outstanding principal.
    outstanding: Money
    #: Principal, plus interest and fees fallen due and unpaid, plus unpaid penalty.
    outstanding_total: Money


class BucketTally(TallyPublic):
    bucket: str


class ProductTally(TallyPublic):
    product: str
    buckets: list[BucketTally]


class SummaryPublic(BaseModel):
    as_of: date
    buckets: list[BucketTally]
    products: list[ProductTally]
    total: TallyPublic


def _tally(t: Tally) -> dict[str, object]:
    return {
        "count": t.count,
        "outstanding": t.outstanding,
        "outstanding_total": t.outstanding_total,
    }


def _buckets(items: list[tuple[str, Tally]]) -> list[BucketTally]:
    return [BucketTally.model_validate({"bucket": b, **_tally(t)}) for b, t in items]


@router.get(
    "/summary",
    response_model=SummaryPublic,
    responses={404: {"description": "No business date yet: no loan registered"}},
)
async def summary(
    session: SessionDep, scale: ScaleDep, as_of: CalendarDate | None = None
) -> SummaryPublic:
    """Loans and outstanding per bucket and per product at a date's close (default: latest)."""
    d = await analytics.distribution(session, as_of, scale)
    return SummaryPublic(
        as_of=d.as_of,
        buckets=_buckets(d.buckets),
        products=[
            ProductTally.model_validate(
                {"product": p.product, **_tally(p.tally), "buckets": _buckets(p.buckets)}
            )
            for p in d.products
        ],
        total=TallyPublic.model_validate(_tally(d.total)),
    )


class RollCellPublic(BaseModel):
    to_bucket: str
    count: int
    balance: Money
    count_rate: Decimal | None
    balance_rate: Decimal | None


class RollRowPublic(BaseModel):
    from_bucket: str
    count: int
    balance: Money
    to: list[RollCellPublic]


class RollRatesPublic(BaseModel):
    from_on: date
    to_on: date
    matrix: list[RollRowPublic]


FromMonth = Annotated[Month, Query(alias="from")]
ToMonth = Annotated[Month | None, Query(alias="to")]


@router.get(
    "/roll-rates",
    response_model=RollRatesPublic,
    responses={404: {"description": "No month-end snapshot for that month"}},
)
async def roll_rates(
    session: SessionDep, scale: ScaleDep, from_month: FromMonth, to_month: ToMonth = None
) -> RollRatesPublic:
    """Bucket-to-bucket roll rates, by count and by balance, between two month-ends."""
    second = parse_month(to_month) if to_month else None
    rates = await analytics.roll_rates(session, parse_month(from_month), second, scale)
    return RollRatesPublic.model_validate(
        {"from_on": rates.from_on, "to_on": rates.to_on, "matrix": rates.rows}, from_attributes=True
    )


class CurePublic(BaseModel):
    from_bucket: str
    count: int
    cured: int
    exited: int
    rate: Decimal | None
    balance: Money
    cured_balance: Money
    balance_rate: Decimal | None


class CurePeriodPublic(BaseModel):
    from_on: date
    to_on: date
    buckets: list[CurePublic]
    total: CurePublic


class CureRatesPublic(BaseModel):
    periods: list[CurePeriodPublic]


def _cure(c: Cure) -> CurePublic:
    return CurePublic.model_validate(c, from_attributes=True)


@router.get("/cure-rates", response_model=CureRatesPublic)
async def cure_rates(
    session: SessionDep,
    scale: ScaleDep,
    from_month: Annotated[Month | None, Query(alias="from")] = None,
    to_month: ToMonth = None,
) -> CureRatesPublic:
    """Share of delinquent loans at each month-end back in the current bucket at the next."""
    first = parse_month(from_month) if from_month else None
    last = parse_month(to_month) if to_month else None
    periods = await analytics.cure_rates(session, first, last, scale)
    return CureRatesPublic(
        periods=[
            CurePeriodPublic(
                from_on=p.from_on,
                to_on=p.to_on,
                buckets=[_cure(c) for c in p.buckets],
                total=_cure(p.total),
            )
            for p in periods
        ]
    )


class VintageMetric(IntEnum):
    DPD_30 = 30
    DPD_90 = 90


class VintagePointPublic(BaseModel):
    months_on_book: int
    as_of: date
    bad: int
    rate: Decimal | None
    bad_principal: Money
    principal_rate: Decimal | None


class VintagePublic(BaseModel):
    vintage: str  # YYYY-MM
    loans: int
    principal: Money
    points: list[VintagePointPublic]


class VintagesPublic(BaseModel):
    metric: int
    vintages: list[VintagePublic]


@router.get("/vintages", response_model=VintagesPublic)
async def vintages(
    session: SessionDep, metric: VintageMetric = VintageMetric.DPD_30
) -> VintagesPublic:
    """Cumulative 30+ or 90+ DPD rate by months on book for each disbursement month."""
    curves = await analytics.vintages(session, int(metric))
    return VintagesPublic(
        metric=int(metric),
        vintages=[
            VintagePublic(
                vintage=f"{v.vintage:%Y-%m}",
                loans=v.loans,
                principal=v.principal,
                points=[
                    VintagePointPublic.model_validate(p, from_attributes=True) for p in v.points
                ],
            )
            for v in curves
        ],
    )
