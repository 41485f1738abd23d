"""Parse an uploaded strategy document (BRIEF section 5) into a :class:`Strategy`, listing every
mistake with its bracket path (``segments[1].path[0].action``) instead of stopping at the first."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from collections_service.domain.strategy import (
    MESSAGES,
    QUADRANTS,
    TASKS,
    TIERS,
    Action,
    Escalation,
    PreDue,
    Segment,
    Step,
    Strategy,
    Variant,
    When,
)
from shared.compliance import documents as d
from shared.compliance.documents import Errors, FieldError, at
from shared.compliance.vocabulary import Purpose

BUCKETS = ("C", "M1", "M2", "M3", "M4", "M5", "M6", "M7+")
_WHEN_KEYS = ("buckets", "tiers", "quadrants", "min_outstanding", "max_outstanding",
              "min_dpd", "max_dpd")  # fmt: skip
_MAX_DAY = 3650


def parse_strategy(document: object) -> Strategy | list[FieldError]:
    """A valid strategy, or every mistake in the document."""
    errors = Errors()
    top = d.mapping(
        document,
        "",
        errors,
        required=("name", "products", "segments"),
        optional=("escalation", "pre_due"),
    )
    if top is None:
        return errors.items
    name = d.text(top.get("name"), "name", errors) if "name" in top else None
    products = (
        d.choices(top.get("products"), "products", errors, _AnyText())
        if "products" in top
        else None
    )
    segments = _segments(top.get("segments"), errors) if "segments" in top else None
    escalation = _list(top.get("escalation", []), "escalation", errors, _escalation)
    pre_due = _list(top.get("pre_due", []), "pre_due", errors, _pre_due)
    if errors or name is None or products is None or segments is None:
        return errors.items or [FieldError("$", "is not a valid strategy")]
    return Strategy(name, products, segments, tuple(escalation), tuple(pre_due))


class _AnyText(frozenset[str]):
    """Any non-blank product id is allowed (membership test for :func:`documents.choice`)."""

    def __contains__(self, value: object) -> bool:
        return isinstance(value, str) and bool(value.strip()) and len(value) <= 100


def _list(value: object, path: str, errors: Errors, read: Any) -> list[Any]:
    listed = d.items(value, path, errors)
    if listed is None:
        return []
    parsed = [read(item, at(path, i), errors) for i, item in enumerate(listed)]
    return [p for p in parsed if p is not None]


def _segments(value: object, errors: Errors) -> tuple[Segment, ...] | None:
    listed = d.items(value, "segments", errors, non_empty=True)
    if listed is None:
        return None
    parsed = [_segment(item, at("segments", i), errors) for i, item in enumerate(listed)]
    names = [s.name for s in parsed if s is not None]
    if len(set(names)) != len(names):
        errors.add("segments", "segment names must be unique")
    return tuple(s for s in parsed if s is not None)


def _segment(value: object, path: str, errors: Errors) -> Segment | None:
    seg = d.mapping(
        value, path, errors, required=("segment",), optional=("when", "path", "variants")
    )
    if seg is None:
        return None
    name = d.text(seg.get("segment"), at(path, "segment"), errors) if "segment" in seg else None
    when = _when(seg.get("when", {}), at(path, "when"), errors)
    if ("path" in seg) == ("variants" in seg):
        errors.add(path, "needs either a path or variants, not both")
        return None
    variants: tuple[Variant, ...] | None
    if "path" in seg:
        steps = _path(seg["path"], at(path, "path"), errors)
        variants = None if steps is None else (Variant(None, Decimal(1), steps),)
    else:
        variants = _variants(seg["variants"], at(path, "variants"), errors)
    if name is None or when is None or variants is None:
        return None
    return Segment(name, when, variants)


def _variants(value: object, path: str, errors: Errors) -> tuple[Variant, ...] | None:
    listed = d.items(value, path, errors, non_empty=True)
    if listed is None:
        return None
    parsed = [_variant(item, at(path, i), errors) for i, item in enumerate(listed)]
    if None in parsed:
        return None
    variants = tuple(v for v in parsed if v is not None)
    if sum(v.share for v in variants) != 1:
        errors.add(path, "variant shares must sum to 1")
    if len({v.name for v in variants}) != len(variants):
        errors.add(path, "variant names must be unique")
    return variants


def _variant(value: object, path: str, errors: Errors) -> Variant | None:
    var = d.mapping(value, path, errors, required=("variant", "share", "path"))
    if var is None:
        return None
    name = d.text(var.get("variant"), at(path, "variant"), errors) if "variant" in var else None
    share = (
        d.decimal(var.get("share"), at(path, "share"), errors, minimum=Decimal(0))
        if "share" in var
        else None
    )
    if share is not None and share > 1:
        errors.add(at(path, "share"), "must be at most 1")
        share = None
    steps = _path(var.get("path"), at(path, "path"), errors) if "path" in var else None
    if name is None or share is None or steps is None:
        return None
    return Variant(name, share, steps)


def _path(value: object, path: str, errors: Errors) -> tuple[Step, ...] | None:
    listed = d.items(value, path, errors, non_empty=True)
    if listed is None:
        return None
    parsed = [_step(item, at(path, i), errors) for i, item in enumerate(listed)]
    if None in parsed:
        return None
    return tuple(sorted((s for s in parsed if s is not None), key=lambda s: s.day))


def _step(value: object, path: str, errors: Errors) -> Step | None:
    step = d.mapping(
        value, path, errors, required=("day", "action"),
        optional=("template_id", "queue", "purpose"),
    )  # fmt: skip
    if step is None:
        return None
    day = (
        d.integer(step.get("day"), at(path, "day"), errors, maximum=_MAX_DAY)
        if "day" in step
        else None
    )
    action = _action(step, path, errors)
    if action is None or day is None:
        return None
    template_id = _needs(step, "template_id", action in MESSAGES, path, errors)
    queue = _needs(step, "queue", action in TASKS, path, errors)
    return Step(day, action, template_id, queue, _purpose(step, action, path, errors))


def _purpose(item: Mapping[str, Any], action: Action, path: str, errors: Errors) -> str:
    """What a message is for (BRIEF decision 6): the guard exempts required notices from
    stop-contact, disputes and pending promises, and tracks validation and legal notices."""
    if "purpose" not in item:
        return Purpose.REMINDER.value
    if action not in MESSAGES:
        errors.add(at(path, "purpose"), f"is not used by action {action.value}")
        return Purpose.REMINDER.value
    picked = d.choice(item["purpose"], at(path, "purpose"), errors, [p.value for p in Purpose])
    return picked or Purpose.REMINDER.value


def _action(item: Mapping[str, Any], path: str, errors: Errors) -> Action | None:
    if "action" not in item:
        return None
    picked = d.choice(item["action"], at(path, "action"), errors, [a.value for a in Action])
    return None if picked is None else Action(picked)


def _needs(
    item: Mapping[str, Any], key: str, needed: bool, path: str, errors: Errors
) -> str | None:
    """``template_id`` for messages, ``queue`` for tasks; refused where it means nothing."""
    if not needed:
        if key in item:
            errors.add(at(path, key), f"is not used by action {item['action']}")
        return None
    if key not in item:
        errors.add(at(path, key), f"is required for action {item['action']}")
        return None
    return d.text(item[key], at(path, key), errors, max_length=100)


def _when(value: object, path: str, errors: Errors) -> When | None:
    cond = d.mapping(value, path, errors, optional=_WHEN_KEYS)
    if cond is None:
        return None
    count = len(errors.items)
    sets = {
        key: d.choices(cond[key], at(path, key), errors, allowed)
        for key, allowed in (("buckets", BUCKETS), ("tiers", TIERS), ("quadrants", QUADRANTS))
        if key in cond
    }
    money = {
        key: d.decimal(cond[key], at(path, key), errors, minimum=Decimal(0))
        for key in ("min_outstanding", "max_outstanding")
        if key in cond
    }
    days = {
        key: d.integer(cond[key], at(path, key), errors)
        for key in ("min_dpd", "max_dpd")
        if key in cond
    }
    if len(errors.items) > count:
        return None
    return When(**sets, **money, **days)  # type: ignore[arg-type]


def _escalation(value: object, path: str, errors: Errors) -> Escalation | None:
    item = d.mapping(value, path, errors, required=("bucket", "action"))
    if item is None:
        return None
    bucket = (
        d.choice(item.get("bucket"), at(path, "bucket"), errors, BUCKETS)
        if "bucket" in item
        else None
    )
    action = _action(item, path, errors)
    if bucket is None or action is None:
        return None
    return Escalation(bucket, action)


def _pre_due(value: object, path: str, errors: Errors) -> PreDue | None:
    item = d.mapping(
        value, path, errors, required=("days_before", "action", "template_id"), optional=("when",)
    )
    if item is None:
        return None
    days = (
        d.integer(item.get("days_before"), at(path, "days_before"), errors, minimum=1, maximum=60)
        if "days_before" in item
        else None
    )
    when = _when(item.get("when", {}), at(path, "when"), errors)
    action = _action(item, path, errors)
    if action is not None and action not in MESSAGES:
        errors.add(at(path, "action"), "must be a message: sms, email, push, voice or letter")
        action = None
    template = (
        d.text(item.get("template_id"), at(path, "template_id"), errors, max_length=100)
        if "template_id" in item
        else None
    )
    if days is None or when is None or action is None or template is None:
        return None
    return PreDue(days, when, action, template)
