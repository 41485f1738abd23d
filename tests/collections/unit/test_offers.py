"""Offers' rules: the transition table, approval limits, and what an offer must say."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from collections_service.domain.offers import (
    DEFAULT_LIMITS,
    TRANSITIONS,
    Event,
    OfferPolicy,
    Proposal,
    Status,
    check,
    limits_from,
    may_grant,
    next_status,
    quick_cure,
)
from shared.events import OfferKind

D = date.fromisoformat
TODAY = D("2026-02-16")
S, E = Status, Event


@pytest.mark.parametrize(
    ("status", "event", "after"),
    [
        (S.PENDING_APPROVAL, E.APPROVE, S.APPROVED),
        (S.PENDING_APPROVAL, E.ACCEPT, None),
        (S.APPROVED, E.ACCEPT, S.ACCEPTED),
        (S.APPROVED, E.APPROVE, None),
        (S.APPROVED, E.REFUSE, S.REFUSED),
        (S.APPROVED, E.EXPIRE, S.EXPIRED),
        (S.ACCEPTED, E.BOOKED, S.BOOKED),
        (S.ACCEPTED, E.REJECTED, S.REJECTED),
        (S.ACCEPTED, E.REFUSE, None),
        (S.BOOKED, E.BOOKED, None),
    ],
)
def test_an_offer_moves_only_as_its_table_says(
    status: Status, event: Event, after: Status | None
) -> None:
    assert next_status(status, event) == after


def test_no_ending_status_moves_on() -> None:
    ends = {S.BOOKED, S.REFUSED, S.EXPIRED, S.REJECTED}
    assert not [key for key in TRANSITIONS if key[0] in ends]


@pytest.mark.parametrize(
    ("roles", "amount", "outstanding", "granted"),
    [
        (["collector"], "200.00", "1000.00", "collector"),
        (["collector"], "200.01", "1000.00", None),
        (["supervisor"], "3000.00", "10000.00", "supervisor"),
        (["supervisor"], "3000.01", "10000.00", None),  # above 30% of what is owed
        (["supervisor"], "5000.01", "90000.00", None),
        (["supervisor"], "100.00", None, None),  # a share of an unknown balance is not judged
        (["admin"], "1000000.00", None, "admin"),
        (["auditor"], "1.00", "10.00", None),
        (["collector", "supervisor"], "1000.00", "10000.00", "supervisor"),
    ],
)
def test_approval_limits_are_the_briefs_by_default(
    roles: list[str], amount: str, outstanding: str | None, granted: str | None
) -> None:
    owed = Decimal(outstanding) if outstanding else None
    assert may_grant(DEFAULT_LIMITS, roles, Decimal(amount), owed) == granted


def test_limits_are_data_and_every_mistake_is_named() -> None:
    limits = limits_from({"collector": {"max_amount": "50"}, "team_lead": {"max_share": "0.1"}})
    assert may_grant(limits, ["collector"], Decimal("60"), None) is None
    assert may_grant(limits, ["team_lead"], Decimal("60"), Decimal("600")) == "team_lead"
    with pytest.raises(ValueError, match=r"collector.*unknown keys.*supervisor.*decimal"):
        limits_from({"collector": {"max": "1"}, "supervisor": {"max_amount": "lots"}})


def proposal(kind: OfferKind, **kw: object) -> Proposal:
    values: dict[str, object] = {"amount": Decimal("10.00"), "expires_on": D("2026-03-01")} | kw
    return Proposal(kind=kind, **values)  # type: ignore[arg-type]


def fields(p: Proposal) -> list[str]:
    return [f for f, _ in check(p, TODAY, OfferPolicy())]


def test_each_kind_says_what_it_needs() -> None:
    assert fields(proposal(OfferKind.PENALTY_WAIVER)) == []
    assert fields(proposal(OfferKind.SETTLEMENT)) == ["pay_amount"]
    assert fields(proposal(OfferKind.SETTLEMENT, pay_amount=Decimal("90.00"))) == []
    assert fields(proposal(OfferKind.INSTALMENT_PLAN)) == ["schedule"]
    plan = ((Decimal("5.00"), D("2026-03-01")), (Decimal("0.00"), D("2026-02-01")))
    assert fields(proposal(OfferKind.INSTALMENT_PLAN, amount=Decimal("0"), schedule=plan)) == [
        "schedule[1].amount",
        "schedule[1].due_on",
    ]
    assert fields(proposal(OfferKind.POINTS_REDEMPTION, amount=None)) == ["points"]
    assert fields(proposal(OfferKind.POINTS_REDEMPTION, amount=Decimal("1.00"), points=4)) == [
        "amount"
    ]
    assert fields(proposal(OfferKind.INTEREST_DISCOUNT, amount=Decimal("0"),
                           expires_on=D("2026-02-15"))) == ["expires_on", "amount"]  # fmt: skip


def test_a_cure_is_quick_within_the_policys_days() -> None:
    policy = OfferPolicy(quick_cure_days=7)
    assert quick_cure(D("2026-02-16"), D("2026-02-23"), policy)
    assert not quick_cure(D("2026-02-16"), D("2026-02-24"), policy)
