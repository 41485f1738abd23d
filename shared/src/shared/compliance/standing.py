"""What the guard allows right now, told to a collector: the decision, until when the contact
window stays open today, and how much of each cap is used — "call allowed until 22:00
Asia/Shanghai; daily connected calls: 1 of 3 today" (issue 15's work queue)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from shared.compliance.guard import decide
from shared.compliance.history import ContactHistory, ContactRequest, Decision
from shared.compliance.pack import Pack
from shared.compliance.timing import Ask, applicable_caps, counted, window


@dataclass(frozen=True, slots=True)
class CapUse:
    name: str
    used: int
    limit: int
    window: str  # "today" (the borrower's calendar day) or "<n> hours"


@dataclass(frozen=True, slots=True)
class Standing:
    decision: Decision
    #: when an allowed contact's window closes today (in the borrower's zone); None when the
    #: channel keeps no hours or the contact is not allowed now
    allowed_until: datetime | None
    caps: tuple[CapUse, ...]

    @property
    def summary(self) -> str:
        d = self.decision
        if d.allowed:
            head = "allowed"
            if self.allowed_until is not None:
                zone = self.allowed_until.tzinfo
                head += f" until {self.allowed_until:%H:%M} {getattr(zone, 'key', zone)}"
        elif d.until is not None:
            head = f"not now ({d.rule}: {d.reason}); allowed from {d.until.isoformat()}"
        else:
            head = f"refused ({d.rule}: {d.reason})"
        used = [f"{c.name}: {c.used} of {c.limit} {c.window}" for c in self.caps]
        return "; ".join([head, *used])


def standing(
    request: ContactRequest, pack: Pack, history: ContactHistory, now: datetime
) -> Standing:
    """The guard's decision of ``request`` at ``now`` (aware), with the window and the caps."""
    decision = decide(request, pack, history, now)
    zone = ZoneInfo(request.time_zone)
    ask = Ask(request, pack, history, zone, now)
    t = now.astimezone(UTC)
    uses = tuple(
        CapUse(
            cap.name,
            len(counted(cap, ask, t)),
            cap.limit,
            "today" if cap.window_hours is None else f"in {cap.window_hours} hours",
        )
        for cap in applicable_caps(ask)
    )
    until = None
    if decision.allowed and request.channel not in pack.contact_hours.exempt:
        start, end = window(request, pack, history)
        if start < end:
            local = now.astimezone(zone)
            until = datetime.combine(local.date(), end, tzinfo=zone)
    return Standing(decision, until, uses)
