"""Masking of identity and account numbers in every rendered message.

A message may be read by someone other than the borrower (a shared phone, a family inbox), so
no rendered text carries a full national ID or card/account number, whatever the variables
held: all but the last four digits become ``*`` (separators kept, so the shape stays readable).

* Chinese resident ID: 17 digits and a check character (digit or X) -> ``**************123X``;
* US SSN: ``123-45-6789`` or ``123 45 6789`` -> ``***-**-6789``, and a bare run of 9 digits;
* card or account numbers: 12 to 19 digits, written together or in groups (the first of four
  digits, the others of three to six, separated by one space or dash) -> ``**** **** **** 1234``.

A number that is part of a decimal amount (``123456789.00``) or of an international phone
number (``+8613800138000``) is left alone; dates and ordinary phone numbers are too short.
"""

from __future__ import annotations

import re

_BEFORE = r"(?<![\d+*])(?<!\d[.,])"
_AFTER = r"(?![\dXx*])(?![.,]\d)"
_RESIDENT_ID = re.compile(_BEFORE + r"\d{17}[\dXx]" + _AFTER)
_SSN = re.compile(_BEFORE + r"(?:\d{3}([- ])\d{2}\1\d{4}|\d{9})" + _AFTER)
_CARD = re.compile(_BEFORE + r"(?:\d{12,19}|\d{4}(?:[ -]\d{3,6}){2,4})" + _AFTER)
#: Nine digits with at most one space or dash between two: every number above has them.
_NINE_DIGITS = re.compile(r"\d(?:[ -]?\d){8}")
_KEEP = 4


def mask(text: str) -> str:
    """``text`` with every national ID, SSN and card or account number masked."""
    if _NINE_DIGITS.search(text) is None:  # nothing that long: the common case, kept cheap
        return text
    text = _RESIDENT_ID.sub(_masked, text)
    text = _SSN.sub(_masked, text)
    return _CARD.sub(_card, text)


def _masked(found: re.Match[str]) -> str:
    # The last four digits stay (a check character X counts as one); separators stay.
    chars = list(found.group(0))
    kept = 0
    for i in range(len(chars) - 1, -1, -1):
        if chars[i].isdigit() or chars[i] in "Xx":
            if kept >= _KEEP:
                chars[i] = "*"
            kept += 1
    return "".join(chars)


def _card(found: re.Match[str]) -> str:
    digits = sum(c.isdigit() for c in found.group(0))
    return _masked(found) if 12 <= digits <= 19 else found.group(0)
