"""Personal data masked for callers without ``pii:read``: names, phones, e-mails, ID numbers
and postal addresses.

A JSON document is masked by the names of its fields, at any depth: ``张三`` becomes ``张*``,
``+8613800000000`` becomes ``+86138****0000``, ``zhang@example.com`` becomes ``z***@example.com``
and ``110101199001011234`` becomes ``110***********1234``. Enough is left for a person to tell
two borrowers apart on a screen, not enough to contact or identify them. An address keeps its
country and the first character of each line (``北京市朝阳区…`` becomes ``北***``) and of its
postal code: a street and a building find a person as surely as a phone number.
"""

from __future__ import annotations

from collections.abc import Callable

#: A JSON document as ``json.loads`` returns it.
Json = dict[str, "Json"] | list["Json"] | str | int | float | bool | None

PHONE_KEPT_END = 4
PHONE_MASKED = 4
#: Shorter numbers keep only their last digits: the prefix would be most of the number.
PHONE_MIN_FOR_PREFIX = 11
NATIONAL_ID_KEPT_START = 3
NATIONAL_ID_KEPT_END = 4


def mask_name(name: str) -> str:
    """The first character and one ``*``, however long the name."""
    return name[:1] + "*" if name else name


def mask_phone(phone: str) -> str:
    """``+8613800000000`` → ``+86138****0000``; separators are dropped first."""
    compact = "".join(c for c in phone if c.isdigit() or c == "+")
    if len(compact) >= PHONE_MIN_FOR_PREFIX:
        kept = len(compact) - PHONE_MASKED - PHONE_KEPT_END
        return compact[:kept] + "*" * PHONE_MASKED + compact[-PHONE_KEPT_END:]
    if len(compact) > PHONE_KEPT_END:
        return "*" * (len(compact) - PHONE_KEPT_END) + compact[-PHONE_KEPT_END:]
    return "*" * len(compact)


def mask_email(email: str) -> str:
    """``zhang@example.com`` → ``z***@example.com``."""
    local, at, domain = email.rpartition("@")
    if not at or not local:
        return "***"
    return f"{local[0]}***@{domain}"


def mask_national_id(number: str) -> str:
    """The first 3 and the last 4 characters (region code and check digits, for an 18-digit id)."""
    kept = NATIONAL_ID_KEPT_START + NATIONAL_ID_KEPT_END
    if len(number) <= kept:
        return "*" * len(number)
    hidden = len(number) - kept
    return number[:NATIONAL_ID_KEPT_START] + "*" * hidden + number[-NATIONAL_ID_KEPT_END:]


def mask_address_line(line: str) -> str:
    """The first character and ``***``, whatever the length of the line."""
    return line[:1] + "***" if line else line


def mask_address(address: Json) -> Json:
    """A postal address (``lines``, ``postal_code``, ``country``) or a one-line address, masked."""
    if isinstance(address, str):
        return mask_address_line(address)
    if not isinstance(address, dict):
        return mask_document(address)
    masked = dict(address)
    lines = address.get("lines")
    if isinstance(lines, list):
        masked["lines"] = [mask_address_line(x) if isinstance(x, str) else x for x in lines]
    code = address.get("postal_code")
    if isinstance(code, str):
        masked["postal_code"] = mask_address_line(code)
    return masked


#: Fields whose whole value (an object or a text) is one piece of personal data.
_WHOLE_MASKERS: dict[str, Callable[[Json], Json]] = dict.fromkeys(
    ("address", "postal_address", "mailing_address"), mask_address
)

_MASKERS: dict[str, Callable[[str], str]] = {
    **dict.fromkeys(("name", "full_name", "borrower_name", "contact_name"), mask_name),
    **dict.fromkeys(("phone", "mobile", "phone_number"), mask_phone),
    **dict.fromkeys(("email", "email_address"), mask_email),
    **dict.fromkeys(("national_id", "id_number"), mask_national_id),
}

#: The field names whose values are masked.
PERSONAL_FIELDS = frozenset(_MASKERS) | frozenset(_WHOLE_MASKERS)


def _masked_value(mask: Callable[[str], str], value: Json) -> Json:
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):  # a phone number sent as a number is still one
        return mask(str(value))
    if isinstance(value, list):
        return [_masked_value(mask, v) for v in value]
    return mask_document(value)


def mask_object(document: dict[str, Json]) -> dict[str, Json]:
    """A copy of a JSON object with the value of every personal field masked, at any depth."""
    masked: dict[str, Json] = {}
    for key, value in document.items():
        whole = _WHOLE_MASKERS.get(key.lower())
        if whole is not None:
            masked[key] = whole(value)
            continue
        mask = _MASKERS.get(key.lower())
        masked[key] = mask_document(value) if mask is None else _masked_value(mask, value)
    return masked


def mask_document(document: Json) -> Json:
    """A copy of ``document`` with the value of every personal field masked, at any depth."""
    if isinstance(document, dict):
        return mask_object(document)
    if isinstance(document, list):
        return [mask_document(item) for item in document]
    return document
