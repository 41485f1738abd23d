"""Value types shared by the event catalogue and every service's API.

Money is ``Decimal`` with at most two decimals, serialised in JSON as a string ("1234.50").
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import AfterValidator, Field, PlainSerializer, WithJsonSchema

MONEY_PLACES = Decimal("0.01")


def _two_places(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("must be a finite amount")
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError("must have at most two decimal places")
    return value.quantize(MONEY_PLACES)


def _money_str(value: Decimal) -> str:
    return format(value.quantize(MONEY_PLACES), "f")


#: An exact amount with at most two decimals, e.g. ``Decimal("1066.19")``; JSON string.
Money = Annotated[
    Decimal,
    Field(max_digits=18),
    AfterValidator(_two_places),
    PlainSerializer(_money_str, return_type=str, when_used="json"),
    WithJsonSchema(
        {"type": "string", "pattern": r"^-?\d{1,16}(\.\d{1,2})?$", "examples": ["1066.19"]}
    ),
]
PositiveMoney = Annotated[Money, Field(gt=0)]
NonNegativeMoney = Annotated[Money, Field(ge=0)]

#: An annual interest rate as a fraction ("0.12" is 12%), at most six decimals.
Rate = Annotated[
    Decimal,
    Field(ge=0, le=Decimal("10"), max_digits=9, decimal_places=6),
    PlainSerializer(lambda v: format(v.normalize(), "f"), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^\d{1,3}(\.\d{1,6})?$", "examples": ["0.12"]}),
]

#: Identifiers chosen by the lender's own systems (loan, borrower, payment ids).
ExternalId = Annotated[
    str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:\-]*$")
]
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
PhoneNumber = Annotated[str, Field(pattern=r"^\+[1-9][0-9]{6,14}$", description="E.164")]
EmailAddress = Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Locale = Annotated[str, Field(pattern=r"^(zh-CN|en|en-US)$")]


def _known_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {name!r}") from exc
    if name not in _ZONES:
        raise ValueError(f"unknown IANA time zone {name!r}")
    return name


_ZONES = available_timezones()
TimeZoneName = Annotated[str, AfterValidator(_known_zone)]


class RepaymentMethod(StrEnum):
    ANNUITY = "annuity"  # 等额本息
    EQUAL_PRINCIPAL = "equal_principal"  # 等额本金
    INTEREST_ONLY = "interest_only"  # 先息后本
