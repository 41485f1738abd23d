"""Reading an uploaded JSON document into typed values while collecting every mistake.

Packs and strategies are validated once, when they are uploaded: each reader below checks one
value, records a :class:`FieldError` at its bracket path (``segments[1].path[0].action``,
BRIEF decision 14) when it is wrong and returns ``None``, so a parser walks the whole document
and reports every mistake instead of stopping at the first one.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal, InvalidOperation
from typing import Any

_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")


@dataclass(frozen=True, slots=True)
class FieldError:
    """One mistake in a document: where it is (a bracket path) and what is wrong."""

    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


def at(path: str, key: str | int) -> str:
    """The path of ``key`` inside ``path``: ``a.b`` for names, ``a[0]`` for positions."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


@dataclass
class Errors:
    """The mistakes found so far in one document."""

    items: list[FieldError] = field(default_factory=list)

    def add(self, path: str, message: str) -> None:
        self.items.append(FieldError(path or "$", message))

    def __bool__(self) -> bool:
        return bool(self.items)


def mapping(
    value: object,
    path: str,
    errors: Errors,
    *,
    required: Collection[str] = (),
    optional: Collection[str] = (),
) -> Mapping[str, Any] | None:
    """An object with string keys: missing required keys and unknown keys are mistakes."""
    if not isinstance(value, Mapping):
        errors.add(path, "must be an object")
        return None
    for key in required:
        if key not in value:
            errors.add(at(path, key), "is required")
    for key in value:
        if key not in required and key not in optional:
            errors.add(at(path, str(key)), "is not a known field")
    return value


def items(value: object, path: str, errors: Errors, *, non_empty: bool = False) -> list[Any] | None:
    """A JSON array (optionally with at least one element)."""
    if not isinstance(value, list):
        errors.add(path, "must be a list")
        return None
    if non_empty and not value:
        errors.add(path, "must not be empty")
    return value


def text(value: object, path: str, errors: Errors, *, max_length: int = 200) -> str | None:
    """A non-blank string of at most ``max_length`` characters."""
    if not isinstance(value, str) or not value.strip():
        errors.add(path, "must be a non-empty string")
        return None
    if len(value) > max_length:
        errors.add(path, f"must be at most {max_length} characters")
        return None
    return value


def integer(
    value: object, path: str, errors: Errors, *, minimum: int = 0, maximum: int | None = None
) -> int | None:
    """A whole number within [minimum, maximum] (booleans are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int):
        errors.add(path, "must be a whole number")
        return None
    if value < minimum or (maximum is not None and value > maximum):
        upper = "" if maximum is None else f" and at most {maximum}"
        errors.add(path, f"must be at least {minimum}{upper}")
        return None
    return value


def decimal(
    value: object, path: str, errors: Errors, *, minimum: Decimal | None = None
) -> Decimal | None:
    """An exact decimal written as a string ("0.8", "1234.50") or a whole number, never a float."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        errors.add(path, 'must be a decimal string such as "0.8"')
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        errors.add(path, 'must be a decimal string such as "0.8"')
        return None
    if not number.is_finite():
        errors.add(path, "must be a finite number")
        return None
    if minimum is not None and number < minimum:
        errors.add(path, f"must be at least {minimum}")
        return None
    return number


def choice(value: object, path: str, errors: Errors, allowed: Collection[str]) -> str | None:
    """One of ``allowed``."""
    if not isinstance(value, str) or value not in allowed:
        errors.add(path, f"must be one of {', '.join(sorted(allowed))}")
        return None
    return value


def choices(
    value: object, path: str, errors: Errors, allowed: Collection[str], *, non_empty: bool = True
) -> frozenset[str] | None:
    """A list of distinct values, each one of ``allowed``."""
    listed = items(value, path, errors, non_empty=non_empty)
    if listed is None:
        return None
    picked = [choice(item, at(path, i), errors, allowed) for i, item in enumerate(listed)]
    if None in picked:
        return None
    if len(set(picked)) != len(picked):
        errors.add(path, "must not repeat a value")
        return None
    return frozenset(p for p in picked if p is not None)


def boolean(value: object, path: str, errors: Errors) -> bool | None:
    """``true`` or ``false``."""
    if not isinstance(value, bool):
        errors.add(path, "must be true or false")
        return None
    return value


def clock(value: object, path: str, errors: Errors) -> time | None:
    """A wall-clock time "HH:MM" (24-hour)."""
    match = _CLOCK.match(value) if isinstance(value, str) else None
    if match is None:
        errors.add(path, 'must be a time "HH:MM" from 00:00 to 23:59')
        return None
    return time(int(match[1]), int(match[2]))
