"""A compliance pack: the rules of one jurisdiction as frozen data (BRIEF section 7).

Packs are versioned documents (``cn`` and ``us`` ship in :mod:`shared.compliance.packs`); the
guard (:func:`shared.compliance.guard.decide`) only ever sees a parsed, valid :class:`Pack`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from shared.compliance.vocabulary import CapCounts, CapScope, Channel, Purpose, Recipient, Rule


@dataclass(frozen=True, slots=True)
class ContactHours:
    """Contacts may start in [start, end) of the borrower's local time; ``exempt`` channels
    (letters) are not bound to hours."""

    start: time
    end: time
    exempt: frozenset[Channel]


@dataclass(frozen=True, slots=True)
class Cap:
    """At most ``limit`` counted contacts on ``channels`` per ``scope`` within the window.

    ``window_hours`` None is the borrower's local calendar day (rule ``daily_attempts``),
    otherwise a rolling window of that many hours (rule ``period_attempts``).
    ``exclude_borrower_requested`` leaves out calls the borrower asked for (Reg F
    §1006.14(b)(3)).
    """

    name: str
    channels: frozenset[Channel]
    scope: CapScope
    counts: CapCounts
    limit: int
    window_hours: int | None
    exclude_borrower_requested: bool

    @property
    def rule(self) -> Rule:
        return Rule.DAILY_ATTEMPTS if self.window_hours is None else Rule.PERIOD_ATTEMPTS


@dataclass(frozen=True, slots=True)
class ConversationGap:
    """No contact on ``channels`` for ``hours`` after a telephone conversation about the debt."""

    hours: int
    channels: frozenset[Channel]


@dataclass(frozen=True, slots=True)
class ContactPersonRules:
    """When a contact person (a third party) may be contacted, and with what."""

    purposes: frozenset[Purpose]
    requires_unreachable: bool
    max_contacts: int | None  # per contact person; None: no limit beyond the caps


@dataclass(frozen=True, slots=True)
class RecipientRules:
    """Who may be contacted: ``allowed`` always, a contact person under its own rules, and
    (``attorney_exclusive``) only the attorney once one is known."""

    allowed: frozenset[Recipient]
    contact_person: ContactPersonRules | None
    attorney_exclusive: bool


@dataclass(frozen=True, slots=True)
class OptOutLine:
    """The sentence that tells the recipient how to opt out of a channel, in one locale."""

    channel: Channel
    locale: str
    text: str


@dataclass(frozen=True, slots=True)
class Pack:
    """One version of a jurisdiction's contact rules; every field is data, see the JSON packs."""

    pack_id: str
    version: int
    sources: tuple[str, ...]
    contact_hours: ContactHours
    caps: tuple[Cap, ...]
    after_conversation: ConversationGap | None
    recipients: RecipientRules
    failed_attempts_in_a_row: int
    required_notices: frozenset[Purpose]
    legal_notice_waiting_days: int | None
    validation_notice_days: int | None
    limitation_years: int | None
    opt_out_channels: frozenset[Channel]
    records_retention_years: int
    agency_notice_required: bool
    field_visit_collectors: int
    #: For every channel of ``opt_out_channels``, its line in one or more locales.
    opt_out_lines: tuple[OptOutLine, ...] = ()

    def opt_out_line(self, channel: Channel | str, locale: str) -> str | None:
        """The opt-out line a message on ``channel`` must end with, or None when the pack asks
        for none: the line in ``locale``, else in English, else the first one listed (a
        required line is never dropped for want of a translation)."""
        if channel not in self.opt_out_channels:
            return None
        lines = [line for line in self.opt_out_lines if line.channel == channel]
        for wanted in (locale, "en"):
            for line in lines:
                if line.locale == wanted:
                    return line.text
        if not lines:  # parse_pack refuses such a pack; a hand-built one must not send bare
            raise ValueError(f"pack {self.pack_id} requires an opt-out line on {channel}: none")
        return lines[0].text
