"""``parse_pack``: an uploaded pack document into a :class:`Pack`, or every mistake in it."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from importlib import resources
from typing import Any

from shared.compliance import documents as d
from shared.compliance.documents import Errors, FieldError, at
from shared.compliance.pack import (
    Cap,
    ContactHours,
    ContactPersonRules,
    ConversationGap,
    OptOutLine,
    Pack,
    RecipientRules,
)
from shared.compliance.vocabulary import CapCounts, CapScope, Channel, Purpose, Recipient

_CHANNELS = frozenset(Channel)
_LOCALE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_PACK_ID = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_ROLLING = re.compile(r"^([1-9][0-9]{0,4})h$")
_TOP_REQUIRED = (
    "pack",
    "version",
    "contact_hours",
    "caps",
    "recipients",
    "failed_attempts_in_a_row",
    "required_notices",
    "records_retention_years",
)
_TOP_OPTIONAL = (
    "sources",
    "after_conversation",
    "legal_notice_waiting_days",
    "validation_notice_days",
    "limitation_years",
    "opt_out_channels",
    "opt_out_lines",
    "agency_notice_required",
    "field_visit_collectors",
)


def parse_pack(document: object) -> Pack | list[FieldError]:
    """The pack a JSON document describes, or every mistake in it (never only the first)."""
    errors = Errors()
    top = d.mapping(document, "", errors, required=_TOP_REQUIRED, optional=_TOP_OPTIONAL)
    if top is None:
        return errors.items
    pack_id = d.text(top.get("pack"), "pack", errors) if "pack" in top else None
    if pack_id is not None and not _PACK_ID.match(pack_id):
        errors.add("pack", "must be lower-case letters, digits, '-' or '_' (at most 32)")
    opt_out = _channels(top.get("opt_out_channels", []), "opt_out_channels", errors)
    pack = Pack(
        pack_id=pack_id or "",
        version=_req(top, "version", lambda v, p: d.integer(v, p, errors, minimum=1)),
        sources=_sources(top.get("sources", []), errors),
        contact_hours=_req(top, "contact_hours", lambda v, p: _hours(v, p, errors)),
        caps=_req(top, "caps", lambda v, p: _caps(v, p, errors)),
        after_conversation=_gap(top.get("after_conversation"), "after_conversation", errors),
        recipients=_req(top, "recipients", lambda v, p: _recipients(v, p, errors)),
        failed_attempts_in_a_row=_req(
            top, "failed_attempts_in_a_row", lambda v, p: d.integer(v, p, errors, minimum=1)
        ),
        required_notices=_req(
            top, "required_notices", lambda v, p: _purposes(v, p, errors, non_empty=False)
        ),
        legal_notice_waiting_days=_days(top, "legal_notice_waiting_days", errors),
        validation_notice_days=_days(top, "validation_notice_days", errors),
        limitation_years=_days(top, "limitation_years", errors),
        opt_out_channels=opt_out,
        opt_out_lines=_opt_out_lines(top.get("opt_out_lines", {}), opt_out, errors),
        records_retention_years=_req(
            top, "records_retention_years", lambda v, p: d.integer(v, p, errors, minimum=1)
        ),
        agency_notice_required=bool(
            d.boolean(top.get("agency_notice_required", False), "agency_notice_required", errors)
        ),
        field_visit_collectors=d.integer(
            top.get("field_visit_collectors", 1), "field_visit_collectors", errors, minimum=1
        )
        or 1,
    )
    return errors.items if errors else pack


def default_pack(pack_id: str) -> Pack:
    """One of the packs shipped with PostLoan (``cn``, ``us``), parsed."""
    text = resources.files("shared.compliance").joinpath(f"packs/{pack_id}.json").read_text("utf-8")
    parsed = parse_pack(json.loads(text))
    if isinstance(parsed, list):  # a shipped pack is tested valid; this is a packaging fault
        raise ValueError(f"shipped pack {pack_id!r} is invalid: {parsed}")
    return parsed


def _req(top: Mapping[str, Any], key: str, read: Any) -> Any:
    # A missing required key was already reported by ``mapping``; the placeholder never leaves
    # this module because any mistake returns the error list instead of the pack.
    return read(top[key], key) if key in top else None


def _days(top: Mapping[str, Any], key: str, errors: Errors) -> int | None:
    value = top.get(key)
    return None if value is None else d.integer(value, key, errors, minimum=1)


def _sources(value: object, errors: Errors) -> tuple[str, ...]:
    listed = d.items(value, "sources", errors) or []
    read = [d.text(item, at("sources", i), errors, max_length=500) for i, item in enumerate(listed)]
    return tuple(s for s in read if s is not None)


def _channels(value: object, path: str, errors: Errors) -> frozenset[Channel]:
    picked = d.choices(value, path, errors, _CHANNELS, non_empty=False) or frozenset()
    return frozenset(Channel(c) for c in picked)


def _purposes(value: object, path: str, errors: Errors, *, non_empty: bool) -> frozenset[Purpose]:
    picked = d.choices(value, path, errors, frozenset(Purpose), non_empty=non_empty) or frozenset()
    return frozenset(Purpose(p) for p in picked)


def _hours(value: object, path: str, errors: Errors) -> ContactHours | None:
    hours = d.mapping(value, path, errors, required=("from", "to"), optional=("exempt_channels",))
    if hours is None:
        return None
    start = d.clock(hours.get("from"), at(path, "from"), errors)
    end = d.clock(hours.get("to"), at(path, "to"), errors)
    if start is not None and end is not None and start >= end:
        errors.add(at(path, "to"), "must be later than from (a window within one day)")
    exempt = _channels(hours.get("exempt_channels", []), at(path, "exempt_channels"), errors)
    if start is None or end is None:
        return None
    return ContactHours(start=start, end=end, exempt=exempt)


_CAP_REQUIRED = ("channels", "per", "counts", "window", "limit")


def _caps(value: object, path: str, errors: Errors) -> tuple[Cap, ...]:
    caps = d.mapping(value, path, errors, optional=value if isinstance(value, Mapping) else ())
    if caps is None:
        return ()
    read = [_cap(name, body, at(path, str(name)), errors) for name, body in caps.items()]
    return tuple(c for c in read if c is not None)


def _cap(name: str, value: object, path: str, errors: Errors) -> Cap | None:
    cap = d.mapping(
        value, path, errors, required=_CAP_REQUIRED, optional=("exclude_borrower_requested",)
    )
    if cap is None:
        return None
    channels = (
        _channels(cap.get("channels"), at(path, "channels"), errors) if "channels" in cap else None
    )
    scope = d.choice(cap.get("per"), at(path, "per"), errors, frozenset(CapScope))
    counts = d.choice(cap.get("counts"), at(path, "counts"), errors, frozenset(CapCounts))
    limit = d.integer(cap.get("limit"), at(path, "limit"), errors, minimum=1)
    window = _window(cap.get("window"), at(path, "window"), errors)
    exclude = d.boolean(
        cap.get("exclude_borrower_requested", False), at(path, "exclude_borrower_requested"), errors
    )
    if channels is not None and not channels:
        errors.add(at(path, "channels"), "must not be empty")
    if not channels or scope is None or counts is None or limit is None or window is False:
        return None
    if exclude is None:
        return None
    return Cap(name, channels, CapScope(scope), CapCounts(counts), limit, window, exclude)


def _window(value: object, path: str, errors: Errors) -> int | bool | None:
    """None for the local calendar day, hours for a rolling window, False when wrong."""
    if value == "local_day":
        return None
    match = _ROLLING.match(value) if isinstance(value, str) else None
    if match is None:
        errors.add(path, 'must be "local_day" or a rolling window in hours such as "168h"')
        return False
    return int(match[1])


def _gap(value: object, path: str, errors: Errors) -> ConversationGap | None:
    if value is None:
        return None
    gap = d.mapping(value, path, errors, required=("hours", "channels"))
    if gap is None:
        return None
    hours = d.integer(gap.get("hours"), at(path, "hours"), errors, minimum=1)
    channels = _channels(gap.get("channels"), at(path, "channels"), errors)
    return None if hours is None else ConversationGap(hours, channels)


def _recipients(value: object, path: str, errors: Errors) -> RecipientRules | None:
    body = d.mapping(
        value,
        path,
        errors,
        required=("allowed",),
        optional=("contact_person", "attorney_exclusive"),
    )
    if body is None:
        return None
    picked = d.choices(body.get("allowed"), at(path, "allowed"), errors, frozenset(Recipient))
    if picked is not None and Recipient.BORROWER not in picked:
        errors.add(at(path, "allowed"), "must include borrower")
    if picked is not None and Recipient.CONTACT_PERSON in picked:
        errors.add(at(path, "allowed"), "must not list contact_person (it has its own rules)")
    person = _contact_person(body.get("contact_person"), at(path, "contact_person"), errors)
    exclusive = d.boolean(
        body.get("attorney_exclusive", False), at(path, "attorney_exclusive"), errors
    )
    allowed = frozenset(Recipient(r) for r in picked or ())
    return RecipientRules(
        allowed=allowed, contact_person=person, attorney_exclusive=bool(exclusive)
    )


def _contact_person(value: object, path: str, errors: Errors) -> ContactPersonRules | None:
    if value is None:
        return None
    body = d.mapping(
        value,
        path,
        errors,
        required=("purposes",),
        optional=("requires_unreachable", "max_contacts"),
    )
    if body is None:
        return None
    purposes = _purposes(body.get("purposes"), at(path, "purposes"), errors, non_empty=True)
    unreachable = d.boolean(
        body.get("requires_unreachable", True), at(path, "requires_unreachable"), errors
    )
    limit = body.get("max_contacts")
    max_contacts = (
        None if limit is None else d.integer(limit, at(path, "max_contacts"), errors, minimum=1)
    )
    return ContactPersonRules(purposes, unreachable is not False, max_contacts)


def _opt_out_lines(
    value: object, channels: frozenset[Channel], errors: Errors
) -> tuple[OptOutLine, ...]:
    """Reg F §1006.6(e): every e-mail and text names a simple way to opt out; the pack says
    which channels need the line and what it says, per locale. Every channel of
    ``opt_out_channels`` needs at least one line, and a line for any other channel is a
    mistake (it would never be sent)."""
    path = "opt_out_lines"
    body = d.mapping(value, path, errors, optional=value if isinstance(value, Mapping) else ())
    if body is None:
        return ()
    for channel in sorted(channels - set(body)):
        errors.add(at(path, channel), "is required: opt_out_channels names this channel")
    lines: list[OptOutLine] = []
    for name, by_locale in body.items():
        if name in channels:
            lines += _lines_of(Channel(name), by_locale, at(path, str(name)), errors)
        else:
            errors.add(at(path, str(name)), "must be one of opt_out_channels")
    return tuple(lines)


def _lines_of(channel: Channel, value: object, path: str, errors: Errors) -> list[OptOutLine]:
    texts = d.mapping(value, path, errors, optional=value if isinstance(value, Mapping) else ())
    if texts is None:
        return []
    if not texts:
        errors.add(path, "must give the line in at least one locale")
    lines = []
    for locale, text in texts.items():
        where = at(path, str(locale))
        if not _LOCALE.match(str(locale)):
            errors.add(where, 'must be a locale such as "en" or "zh-CN"')
        line = d.text(text, where, errors, max_length=300)
        if line is not None:
            lines.append(OptOutLine(channel, str(locale), line))
    return lines
