"""Pre-due reminders (BRIEF decision 4): a strategy's ``pre_due`` entries remind the borrowers of
loans in no case, N days before an instalment falls due, when the entry's conditions hold (a
high-risk tier, say). They open no case and are decided by the same guard (``case_id`` null)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters import documents_sql, predue_sql
from collections_service.adapters.predue_sql import DueLoan
from collections_service.domain.strategy import PreDue
from collections_service.service_layer import contacts
from collections_service.service_layer.clock import Context
from collections_service.service_layer.treatment import load_strategy


async def run_pre_due(session: AsyncSession, business_date: date, ctx: Context) -> int:
    """Decide the reminders due on ``business_date`` of every active strategy; how many."""
    decided = 0
    for strategy_id, version in await documents_sql.active_strategy_versions(session):
        strategy = await load_strategy(session, strategy_id, version)
        if strategy is None:
            continue
        for reminder in strategy.pre_due:
            due_on = business_date + timedelta(days=reminder.days_before)
            loans = await predue_sql.loans_due(session, strategy.products, due_on, reminder.when)
            for loan in loans:
                planned = _planned(loan, reminder, business_date, due_on, ctx.contact_line)
                await contacts.decide_and_record(session, planned, ctx.now())
                decided += 1
    return decided


def _planned(
    loan: DueLoan, reminder: PreDue, on: date, due_on: date, line: str
) -> contacts.Planned:
    action, template = reminder.action.value, reminder.template_id
    return contacts.Planned(
        loan_id=loan.loan_id,
        borrower_id=loan.borrower_id,
        channel=action,
        time_zone=loan.time_zone,
        pack=loan.pack,
        business_date=on,
        template_id=template,
        to=loan.email if action == "email" else loan.phone,
        request_key=f"pre_due|{loan.loan_id}|{due_on}|{reminder.days_before}|{action}|{template}",
        variables={
            "name": loan.name,
            "amount_due": str(loan.amount_due),
            "dpd": "0",
            "due_date": due_on.isoformat(),
            "loan_id": loan.loan_id,
            "contact_line": line,
        },
    )
