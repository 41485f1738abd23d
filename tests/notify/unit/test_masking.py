"""Masking: no rendered text carries a full national ID, SSN or card/account number."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notify.domain.masking import mask

EXAMPLES = [
    ("身份证110101199001011234。", "身份证**************1234。"),
    ("ID 11010119900101123X.", "ID **************123X."),
    ("SSN 123-45-6789", "SSN ***-**-6789"),
    ("SSN 123 45 6789", "SSN *** ** 6789"),
    ("SSN 123456789", "SSN *****6789"),
    ("card 4111 1111 1111 1111", "card **** **** **** 1111"),
    ("card 4111-1111-1111-1111", "card ****-****-****-1111"),
    ("Amex 378282246310005", "Amex ***********0005"),
    ("卡号6222021234567890123", "卡号***************0123"),
    ("account 6222 0212 3456 7890 123", "account **** **** **** ***0 123"),
    ("account 123456789012", "account ********9012"),
]
UNCHANGED = [
    "您本期应还1066.19元，已逾期3天。",
    "amount 123456789.00 and 1,234,567,890,123.45",
    "call +8613800138000 or 13800138000, 400-800-1234, 1-800-555-0199",
    "due 2026-02-15 2026-03-15 2026-04-15",
    "loan L-0001, payment P-0001, case C-123",
    "12345678",
]


@pytest.mark.parametrize(("text", "masked"), EXAMPLES, ids=[t for t, _ in EXAMPLES])
def test_identity_and_account_numbers_keep_only_their_last_four_digits(
    text: str, masked: str
) -> None:
    assert mask(text) == masked


@pytest.mark.parametrize("text", UNCHANGED)
def test_amounts_phone_numbers_dates_and_ids_of_ours_are_left_alone(text: str) -> None:
    assert mask(text) == text


_AROUND = st.text(alphabet="您好，请核对证件号码。 abc:", max_size=12)


@given(
    before=_AROUND,
    after=_AROUND,
    digits=st.text(alphabet="0123456789", min_size=17, max_size=17),
    check=st.sampled_from("0123456789X"),
)
def test_any_resident_id_anywhere_is_masked(
    before: str, after: str, digits: str, check: str
) -> None:
    number = digits + check
    text = before + number + after

    masked = mask(text)

    assert number not in masked
    assert masked == before + "*" * 14 + number[-4:] + after


@given(
    before=_AROUND,
    after=_AROUND,
    number=st.text(alphabet="0123456789", min_size=12, max_size=19),
)
def test_any_run_of_12_to_19_digits_is_masked(before: str, after: str, number: str) -> None:
    masked = mask(before + number + after)

    assert number not in masked
    assert masked.endswith(number[-4:] + after)
    assert len(masked) == len(before + number + after)
