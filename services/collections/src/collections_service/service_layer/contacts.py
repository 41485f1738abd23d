"""Every contact decided before it happens, and every decision recorded (BRIEF decisions 1-3).

:func:`decide_and_record` reads what the guard needs from the contact ledger, preferences and
disputes, asks :func:`shared.compliance.guard.decide` under the loan's pack at its active
version, and records the answer. An allowed contact reserves its slot in the ledger (the one
counter of contacts) and, for a message, emits ``collections.contact.requested``; a deferred one
waits in the queue the deferral worker reads; nothing is ever edited, a re-decision is a new row.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from collections_service.adapters import cases_sql, documents_sql
from collections_service.adapters import contacts_sql as sql
from collections_service.adapters.cases_sql import TimelineEntry
from collections_service.service_layer import effects
from collections_service.service_layer.batch_cache import once, parsed
from shared.compliance.guard import decide
from shared.compliance.history import (
    Attempt,
    ContactHistory,
    ContactRequest,
    Conversation,
    Decision,
    PreferredHours,
)
from shared.compliance.pack import Pack
from shared.compliance.parse import parse_pack
from shared.compliance.standing import Standing, standing
from shared.compliance.vocabulary import CALLS, AttemptStatus, Channel, Purpose, Recipient
from shared.events import Channel as MessageChannel
from shared.events import ContactRequested, DeliveryUpdated

#: Every window a pack counts in is at most 7 x 24 h, plus a local day's offset.
LOOKBACK = timedelta(days=8)
MESSAGE_CHANNELS = frozenset(c.value for c in MessageChannel)
REQUESTS = uuid.UUID("6f1d3c64-5b0e-4f43-9a53-4a4d2b8f0c11")  # namespace of request ids


@dataclass(frozen=True, slots=True)
class Planned:
    """A contact to decide: a strategy step, a re-decision, or a collector's attempt."""

    loan_id: str
    borrower_id: str
    channel: str
    time_zone: str
    pack: str
    business_date: date
    request_key: str  # what makes the request the same after a crash (see request_id_for)
    case_id: uuid.UUID | None = None
    recipient: str = Recipient.BORROWER.value
    purpose: str = Purpose.REMINDER.value
    template_id: str | None = None
    to: str | None = None
    variables: dict[str, str] = field(default_factory=dict)
    borrower_requested: bool = False  # a call the borrower asked for (callback, consent)
    legal_escalation: bool = False  # the case's transfer to legal, not a message

    def as_json(self) -> dict[str, object]:
        return {
            **asdict(self),
            "business_date": self.business_date.isoformat(),
            "case_id": str(self.case_id) if self.case_id else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Planned:
        raw = dict(data)
        raw["business_date"] = date.fromisoformat(str(raw["business_date"]))
        raw["case_id"] = uuid.UUID(str(raw["case_id"])) if raw.get("case_id") else None
        return cls(**raw)  # type: ignore[arg-type]


def request_id_for(key: str) -> uuid.UUID:
    """notify's idempotency key: the same step (same case, segment entry, day, action,
    template and recipient) always gets the same id, so a re-run requests the same message."""
    return uuid.uuid5(REQUESTS, key)


@dataclass(frozen=True, slots=True)
class Recorded:
    decision_id: uuid.UUID
    decision: Decision
    pack: str
    pack_version: int
    request_id: uuid.UUID | None


async def active_pack(session: AsyncSession, pack: str) -> tuple[Pack, int]:
    """The pack's active version, parsed (once per transaction)."""
    return await once(session, ("active pack", pack), lambda: _load_pack(session, pack))


async def _load_pack(session: AsyncSession, pack: str) -> tuple[Pack, int]:
    stored = await documents_sql.active_pack(session, pack)
    if stored is None:
        raise LookupError(f"no active version of compliance pack {pack!r}")
    return parsed(parse_pack, stored.document), stored.version


_TOGETHER = "collections.deciding_together"


@dataclass
class _Together:
    """Decisions made together: their ledgers read at once, their reservations written at once
    (each with the request to announce if it is new)."""

    ledgers: dict[tuple[str, str], sql.Ledger]
    reserved: list[tuple[dict[str, object], ContactRequested | None]] = field(default_factory=list)


@asynccontextmanager
async def deciding_together(
    session: AsyncSession, debts: Sequence[tuple[str, str]], now: datetime
) -> AsyncIterator[None]:
    """Decide contacts about many (borrower, loan) debts, their borrowers distinct, with the
    guard's ledgers read in one query and the ledger slots reserved in one statement at the
    end. Each prefetched ledger is used once: a second decision about the same debt first
    writes the slots reserved so far, then reads its ledger again, as a lone decision would."""
    together = _Together(await sql.ledgers_of(session, list(dict.fromkeys(debts)), now - LOOKBACK))
    session.info[_TOGETHER] = together
    try:
        yield
        await _write_reserved(session, together, now)
    finally:
        session.info.pop(_TOGETHER, None)


async def _write_reserved(session: AsyncSession, together: _Together, now: datetime) -> None:
    rows, together.reserved = together.reserved, []
    fresh = await sql.reserve_many(session, [values for values, _ in rows])
    requests = [r for values, r in rows if r is not None and values["request_id"] in fresh]
    for requested in requests:
        await effects.announce(session, requested, subject=requested.loan_id, at=now)


async def history(
    session: AsyncSession, planned: Planned, now: datetime, *, case_open: bool | None = None
) -> ContactHistory:
    """What the guard knows of the borrower, in one query; ``case_open`` when the caller knows."""
    together: _Together | None = session.info.get(_TOGETHER)
    found = together.ledgers.pop((planned.borrower_id, planned.loan_id), None) if together else None
    if found is None:
        if together is not None:
            await _write_reserved(session, together, now)
        found = await sql.ledger_of(session, planned.borrower_id, planned.loan_id, now - LOOKBACK)
    attempts, prefs = found.attempts, found.preferences
    hours = None
    if prefs and prefs.preferred_from and prefs.preferred_to:
        hours = PreferredHours(prefs.preferred_from, prefs.preferred_to)
    outbound = [a for a in attempts if a.direction == "outbound"]
    return ContactHistory(
        attempts=tuple(
            Attempt(
                a.at,
                Channel(a.channel),
                a.loan_id,
                AttemptStatus(a.status),
                Recipient(a.recipient),
                a.to,
                a.borrower_requested,
            )
            for a in outbound
        ),
        conversations=tuple(
            Conversation(a.at, Channel(a.channel), a.loan_id)
            for a in attempts
            if a.direction == "inbound"
            or (a.status == AttemptStatus.CONNECTED and Channel(a.channel) in CALLS)
        ),
        invalid_numbers=found.reach.invalid_numbers,
        borrower_numbers=found.reach.borrower_numbers,
        attorney_known=found.reach.attorney_known,
        pending_promises=found.pending_promises,
        stopped_channels=frozenset(Channel(c) for c in prefs.stopped_channels)
        if prefs
        else frozenset(),
        preferred_hours=hours,
        preferred_hours_consent=bool(prefs and prefs.consent),
        open_disputes=found.open_disputes,
        first_contact_at=found.notices.first_contact_at,
        validation_notice_sent_at=found.notices.validation_notice_sent_at,
        legal_notice_sent_on=found.notices.legal_notice_sent_on,
        last_payment_on=found.notices.last_payment_on,
        time_barred_on=found.notices.time_barred_on,
        case_closed=await _closed(session, planned.case_id, case_open),
    )


async def _closed(
    session: AsyncSession, case_id: uuid.UUID | None, known_open: bool | None
) -> bool:
    if case_id is None or known_open:
        return False
    return not await sql.case_is_open(session, case_id)


def _request(planned: Planned) -> ContactRequest:
    return ContactRequest(
        channel=Channel(planned.channel),
        loan_id=planned.loan_id,
        borrower_id=planned.borrower_id,
        time_zone=planned.time_zone,
        recipient=Recipient(planned.recipient),
        purpose=Purpose(planned.purpose),
        case_id=str(planned.case_id) if planned.case_id else None,
        borrower_requested=planned.borrower_requested,
        to=planned.to,
        business_on=planned.business_date,
        legal_escalation=planned.legal_escalation,
    )


async def decide_and_record(
    session: AsyncSession, planned: Planned, now: datetime, *, case_open: bool | None = None
) -> Recorded:
    """Decide ``planned`` at ``now`` and record it (``case_open``: the caller knows the case is
    open, which spares a query)."""
    pack, version = await active_pack(session, planned.pack)
    known = await history(session, planned, now, case_open=case_open)
    decision = decide(_request(planned), pack, known, now)
    decision_id = uuid.uuid4()
    request_id = request_id_for(planned.request_key) if decision.allowed else None
    await effects.decision(
        session,
        {
            "decision_id": decision_id,
            "case_id": planned.case_id,
            "loan_id": planned.loan_id,
            "borrower_id": planned.borrower_id,
            "recipient": planned.recipient,
            "channel": planned.channel,
            "template_id": planned.template_id,
            "purpose": planned.purpose,
            "outcome": decision.outcome.value,
            "rule": decision.rule.value if decision.rule else None,
            "reason": decision.reason,
            "pack": planned.pack,
            "pack_version": version,
            "decided_at": now,
            "business_date": planned.business_date,
            "deferred_until": decision.until,
            "request_id": request_id,
            "step": planned.as_json(),
        },
    )
    if decision.until is not None:
        await effects.deferral(session, decision_id, decision.until)
    if request_id is not None:
        await _reserve_and_request(session, planned, decision_id, request_id, version, now)
    return Recorded(decision_id, decision, planned.pack, version, request_id)


async def _reserve_and_request(
    session: AsyncSession,
    planned: Planned,
    decision_id: uuid.UUID,
    request_id: uuid.UUID,
    version: int,
    now: datetime,
) -> None:
    """Hold the contact's slot in the ledger and, for a message, request it from notify —
    unless this request holds a slot already (a re-run asks for nothing twice)."""
    slot: dict[str, object] = {
        "request_id": request_id, "decision_id": decision_id, "loan_id": planned.loan_id,
        "borrower_id": planned.borrower_id, "channel": planned.channel,
        "recipient": planned.recipient, "to": planned.to, "at": now,
        "status": AttemptStatus.PENDING.value, "purpose": planned.purpose,
        "business_date": planned.business_date, "borrower_requested": planned.borrower_requested,
    }  # fmt: skip
    requested = None
    if planned.channel in MESSAGE_CHANNELS and planned.template_id is not None:
        requested = ContactRequested(
            request_id=request_id,
            case_id=planned.case_id,
            loan_id=planned.loan_id,
            borrower_id=planned.borrower_id,
            recipient=planned.recipient,  # type: ignore[arg-type]
            channel=MessageChannel(planned.channel),
            template_id=planned.template_id,
            variables=planned.variables,
            pack=planned.pack,
            pack_version=version,
        )
    together: _Together | None = session.info.get(_TOGETHER)
    if together is not None:
        together.reserved.append((slot, requested))
    elif await sql.reserve(session, slot) and requested is not None:
        await effects.announce(session, requested, subject=planned.loan_id, at=now)


async def redecide_due(session: AsyncSession, now: datetime, limit: int = 200) -> int:
    """Decide again every deferred contact now due (a new decision each, same request id when
    allowed); the deferral worker calls this in a loop. How many were decided."""
    rows = await sql.claim_due_deferrals(session, now, limit)
    for row in rows:
        await decide_and_record(session, Planned.from_json(row["step"]), now)
    return len(rows)


#: What a delivery update means for the ledger's slot (BRIEF decision 2).
DELIVERY_TO_ATTEMPT = {
    "sent": AttemptStatus.DELIVERED,
    "delivered": AttemptStatus.DELIVERED,
    "failed": AttemptStatus.FAILED,
    "blocked": AttemptStatus.BLOCKED,
}


async def apply_delivery(session: AsyncSession, update: DeliveryUpdated, now: datetime) -> None:
    """Confirm (sent, delivered) or release (failed, blocked) the request's slot, and write
    the delivery on its case's timeline (every status, queued and deferred included)."""
    if update.request_id is None:
        return  # a message notify sent on its own (POST /api/v1/messages): not in the ledger
    attempt = DELIVERY_TO_ATTEMPT.get(update.status)
    if attempt is not None:
        case_id = await sql.set_attempt_status(session, update.request_id, attempt.value)
    else:
        case_id = await sql.case_of_request(session, update.request_id)
    if case_id is not None:
        detail: dict[str, object] = {
            "request_id": str(update.request_id),
            "message_id": str(update.message_id),
            "channel": update.channel.value,
            "status": update.status,
            "reason": update.reason,
        }
        on = await cases_sql.business_date_of_case(session, case_id)
        await effects.timeline(session, case_id, [TimelineEntry(now, on, "delivery", detail)])


async def standing_of(session: AsyncSession, planned: Planned, at: datetime) -> Standing:
    """What the guard allows of ``planned`` at ``at`` (nothing recorded), with the contact
    window and the caps' use: what a collector's work queue shows of each call."""
    pack, _ = await active_pack(session, planned.pack)
    known = await history(session, planned, at, case_open=True)
    return standing(_request(planned), pack, known, at)


async def would_allow(session: AsyncSession, planned: Planned, at: datetime) -> Decision:
    """What the guard would have decided of ``planned`` at ``at`` (nothing recorded): an
    outcome reported without a decision is checked with it."""
    pack, _ = await active_pack(session, planned.pack)
    return decide(_request(planned), pack, await history(session, planned, at, case_open=True), at)


async def count_contact(
    session: AsyncSession,
    planned: Planned,
    at: datetime,
    status: AttemptStatus,
    *,
    direction: str = "outbound",
    decision_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """A contact that happened without a request through the guard (a collector's call it
    was told of afterwards, an inbound call): into the ledger, counted like any other."""
    request_id = request_id_for(planned.request_key)
    await sql.reserve(session, {
        "request_id": request_id, "decision_id": decision_id or request_id,
        "loan_id": planned.loan_id, "borrower_id": planned.borrower_id,
        "channel": planned.channel, "recipient": planned.recipient, "to": planned.to, "at": at,
        "status": status.value, "purpose": planned.purpose,
        "business_date": planned.business_date, "borrower_requested": planned.borrower_requested,
        "direction": direction,
    })  # fmt: skip
    return request_id
