"""Routes of strategy results in money and the HTML report: amount recovered and contact cost
per case with bootstrap 95% intervals, beside the rates of ``GET .../results``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from collections_service.domain.bootstrap import AmountInterval
from collections_service.domain.results import Rate
from collections_service.entrypoints.api.deps import ContextDep, PrincipalDep
from collections_service.entrypoints.api.report_html import Bar, Chart, page
from collections_service.service_layer import access, amounts, results
from shared.app import SessionDep
from shared.types import ExternalId

router = APIRouter(prefix="/api/v1/strategies", tags=["strategies"])


def _interval(found: AmountInterval) -> dict[str, Any]:
    return {
        "cases": found.cases, "mean": found.mean,
        "ci95": [found.low, found.high] if found.mean is not None else None,
        "method": found.method, "enough": found.enough, "warning": found.warning,
    }  # fmt: skip


def _arm(version: int, variant: str | None) -> str:
    return f"v{version} {variant or '(no variant)'}"


@router.get("/{strategy_id}/results/amounts")
async def strategy_amounts(
    strategy_id: ExternalId, session: SessionDep, ctx: ContextDep, principal: PrincipalDep
) -> dict[str, Any]:
    """Per version and variant: amount recovered and contact cost per case, with seeded
    bootstrap 95% intervals and a warning when the sample is too small to tell (portfolio
    roles)."""
    access.portfolio_wide(principal)
    arms = await amounts.amounts(session, strategy_id, ctx)
    return {"strategy_id": strategy_id, "arms": [
        {"version": a.version, "variant": a.variant,
         "recovered_per_case": _interval(a.recovered),
         "contact_cost_per_case": _interval(a.contact_cost)}
        for a in arms
    ]}  # fmt: skip


def _rate_bar(label: str, rate: Rate) -> Bar:
    text = "n/a" if rate.rate is None else f"{rate.rate:.1%} [{rate.low:.1%}, {rate.high:.1%}]"
    return Bar(label, rate.rate, rate.low, rate.high, text)


def _amount_bar(label: str, found: AmountInterval) -> Bar:
    if found.mean is None or found.low is None or found.high is None:
        return Bar(label, None, None, None, "n/a")
    text = f"{found.mean} [{found.low}, {found.high}]"
    return Bar(label, float(found.mean), float(found.low), float(found.high), text)


@router.get("/{strategy_id}/results/report", response_class=HTMLResponse)
async def strategy_report(
    strategy_id: ExternalId, session: SessionDep, ctx: ContextDep, principal: PrincipalDep
) -> HTMLResponse:
    """The results as one self-contained HTML page with charts (inline SVG; portfolio roles)."""
    access.portfolio_wide(principal)
    rates = {
        (a.counts.version, a.counts.variant): a for a in await results.results(session, strategy_id)
    }
    money = {(a.version, a.variant): a for a in await amounts.amounts(session, strategy_id, ctx)}
    keys = list(rates)
    table = [["arm", "cases", "cure rate", "roll-forward", "recovered / case", "cost / case",
              "cure uplift vs champion", "p-value"]]  # fmt: skip
    warnings: list[str] = []
    for key in keys:
        r, m, label = rates[key], money[key], _arm(*key)
        up = r.cure_uplift
        table.append([
            label, str(r.counts.cases), _rate_bar(label, r.cure).text,
            _rate_bar(label, r.roll_forward).text, _amount_bar(label, m.recovered).text,
            _amount_bar(label, m.contact_cost).text,
            "" if up is None or up.difference is None
            else f"{up.difference:+.1%} [{up.low:+.1%}, {up.high:+.1%}]",
            "" if up is None or up.p_value is None else f"{up.p_value:.3f}",
        ])  # fmt: skip
        if m.recovered.warning:
            warnings.append(f"{label}: {m.recovered.warning}")
        if up is not None and not up.enough:
            warnings.append(f"{label}: too small a sample to tell the uplift")
    charts = [
        Chart("Cure rate", [_rate_bar(_arm(*k), rates[k].cure) for k in keys], top=1.0),
        Chart("Roll-forward rate", [_rate_bar(_arm(*k), rates[k].roll_forward) for k in keys],
              top=1.0),
        Chart("Amount recovered per case",
              [_amount_bar(_arm(*k), money[k].recovered) for k in keys]),
        Chart("Contact cost per case",
              [_amount_bar(_arm(*k), money[k].contact_cost) for k in keys]),
    ]  # fmt: skip
    return HTMLResponse(page(f"Strategy {strategy_id}: results", charts, table, warnings))
