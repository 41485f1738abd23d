"""An alert: what an early-warning rule fired on a loan, once stored, and its workflow.

A rule (``rules.py``) fires; the alert it fires is stored open, then acknowledged and resolved
by people: open → acknowledged → resolved, or open → resolved. Once resolved, the rule may fire
on the loan again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from monitoring.domain.rules import Evidence, Severity

AlertStatus = Literal["open", "acknowledged", "resolved"]
#: The moves people make, each with the statuses it starts from.
Move = Literal["acknowledged", "resolved"]
ALLOWED_FROM: dict[Move, tuple[AlertStatus, ...]] = {
    "acknowledged": ("open",),
    "resolved": ("open", "acknowledged"),
}


@dataclass(frozen=True)
class Alert:
    """A stored alert with the evidence its rule fired on and its workflow so far."""

    alert_id: str
    loan_id: str
    rule: str
    rule_version: int
    severity: Severity
    status: AlertStatus
    evidence: Evidence
    raised_on: date
    raised_at: datetime
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    resolved_by: str | None
    resolved_at: datetime | None
