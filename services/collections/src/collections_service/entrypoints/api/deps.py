"""What collections' routes are given besides a session: the injected clock and settings, the
verified caller, and the objects of a path checked against what the caller may see."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request

from collections_service.service_layer import access
from collections_service.service_layer.clock import Context
from shared.app import SessionDep
from shared.principal import PrincipalDep
from shared.types import ExternalId

__all__ = [
    "ContextDep",
    "PrincipalDep",
    "VisibleBorrowerId",
    "VisibleCaseId",
    "VisibleDisputeId",
    "VisibleLegalFileId",
    "VisibleLoanId",
    "VisibleOfferId",
    "VisiblePlacementId",
    "VisibleTaskId",
]


def context(request: Request) -> Context:
    ctx: Context = request.app.state.context
    return ctx


ContextDep = Annotated[Context, Depends(context)]


async def visible_case_id(
    case_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> uuid.UUID:
    """The path's ``case_id``, once the caller is known to see it (else 404, as unknown)."""
    await access.visible_case(session, principal, case_id)
    return case_id


async def visible_task_id(
    task_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> uuid.UUID:
    await access.visible_task(session, principal, task_id)
    return task_id


async def visible_loan_id(loan_id: ExternalId, session: SessionDep, principal: PrincipalDep) -> str:
    await access.visible_loan(session, principal, loan_id)
    return loan_id


async def visible_borrower_id(
    borrower_id: ExternalId, session: SessionDep, principal: PrincipalDep
) -> str:
    await access.visible_borrower(session, principal, borrower_id)
    return borrower_id


async def visible_dispute_id(
    dispute_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> uuid.UUID:
    await access.visible_dispute(session, principal, dispute_id)
    return dispute_id


async def visible_offer_id(
    offer_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> uuid.UUID:
    await access.visible_of_case(session, principal, "offer", offer_id)
    return offer_id


async def visible_placement_id(
    placement_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> uuid.UUID:
    await access.visible_of_case(session, principal, "placement", placement_id)
    return placement_id


async def visible_legal_file_id(
    legal_file_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> uuid.UUID:
    await access.visible_of_case(session, principal, "legal file", legal_file_id)
    return legal_file_id


#: ``case_id: VisibleCaseId`` in a route under ``/{case_id}``: checked before the body is read.
VisibleCaseId = Annotated[uuid.UUID, Depends(visible_case_id)]
VisibleTaskId = Annotated[uuid.UUID, Depends(visible_task_id)]
VisibleLoanId = Annotated[str, Depends(visible_loan_id)]
VisibleBorrowerId = Annotated[str, Depends(visible_borrower_id)]
VisibleDisputeId = Annotated[uuid.UUID, Depends(visible_dispute_id)]
VisibleOfferId = Annotated[uuid.UUID, Depends(visible_offer_id)]
VisiblePlacementId = Annotated[uuid.UUID, Depends(visible_placement_id)]
VisibleLegalFileId = Annotated[uuid.UUID, Depends(visible_legal_file_id)]
