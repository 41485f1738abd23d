"""Masking personal data: enough left to tell borrowers apart, not to reach or identify them."""

from __future__ import annotations

import pytest

from gateway.domain.masking import (
    Json,
    mask_document,
    mask_email,
    mask_name,
    mask_national_id,
    mask_phone,
)


@pytest.mark.parametrize(
    ("name", "masked"), [("张三", "张*"), ("欧阳娜娜", "欧*"), ("Zhang San", "Z*"), ("", "")]
)
def test_a_name_keeps_its_first_character(name: str, masked: str) -> None:
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("+8613800000000", "+86138****0000"),
        ("13912345678", "139****5678"),
        ("+86 139-1234-5678", "+86139****5678"),
        ("+12025550123", "+120****0123"),
        ("5550123", "***0123"),
        ("123", "***"),
    ],
)
def test_a_phone_number_keeps_its_prefix_and_last_four_digits(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    ("email", "masked"),
    [
        ("zhang@example.com", "z***@example.com"),
        ("a@b.cn", "a***@b.cn"),
        ("not-an-email", "***"),
        ("@example.com", "***"),
    ],
)
def test_an_email_keeps_the_first_letter_and_the_domain(email: str, masked: str) -> None:
    assert mask_email(email) == masked


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("110101199001011234", "110***********1234"),
        ("11010119900101123X", "110***********123X"),
        ("1234567", "*******"),
    ],
)
def test_a_national_id_keeps_its_first_three_and_last_four(number: str, masked: str) -> None:
    assert mask_national_id(number) == masked


def test_a_document_is_masked_by_field_name_at_any_depth_and_nothing_else_changes() -> None:
    document: dict[str, Json] = {
        "loan_id": "L-1",
        "principal": "12000.00",
        "borrower": {"name": "张三", "Phone": "+8613800000000", "email": None, "dpd": 3},
        "contacts": [{"full_name": "李四", "mobile": 13912345678}],
        "phones": ["+8613800000000"],
    }

    masked = mask_document(document)

    assert masked == {
        "loan_id": "L-1",
        "principal": "12000.00",
        "borrower": {"name": "张*", "Phone": "+86138****0000", "email": None, "dpd": 3},
        "contacts": [{"full_name": "李*", "mobile": "139****5678"}],
        "phones": ["+8613800000000"],
    }
    assert document["borrower"] == {
        "name": "张三",
        "Phone": "+8613800000000",
        "email": None,
        "dpd": 3,
    }


def test_a_list_under_a_personal_field_is_masked_item_by_item() -> None:
    assert mask_document({"email": ["zhang@example.com", "li@example.cn"]}) == {
        "email": ["z***@example.com", "l***@example.cn"]
    }


def test_a_document_that_is_not_an_object_is_walked_too() -> None:
    assert mask_document([{"name": "张三"}, "张三", 1]) == [{"name": "张*"}, "张三", 1]


def test_a_postal_address_keeps_its_country_and_the_first_character_of_each_part() -> None:
    address: Json = {
        "lines": ["北京市朝阳区", "建国路88号", "3单元1201"],
        "postal_code": "100022",
        "country": "CN",
    }

    masked = mask_document({"borrower": {"address": address}, "contacts": [{"address": address}]})

    expected = {"lines": ["北***", "建***", "3***"], "postal_code": "1***", "country": "CN"}
    assert masked == {"borrower": {"address": expected}, "contacts": [{"address": expected}]}


@pytest.mark.parametrize(
    ("address", "masked"),
    [("zhang@example.com", "z***"), ("+8613800000000", "+***"), (None, None)],
)
def test_a_one_line_address_keeps_only_its_first_character(address: Json, masked: Json) -> None:
    assert mask_document({"address": address}) == {"address": masked}
