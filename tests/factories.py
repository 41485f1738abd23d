"""Keyword-only factories of request bodies and events shared by the tests."""

from __future__ import annotations

from typing import Any


def make_registration(
    *, loan_id: str = "L-0001", borrower_id: str = "B-0001", **overrides: Any
) -> dict[str, Any]:
    """A valid ``POST /api/v1/loans`` body (BRIEF section 5), with fields overridden."""
    body: dict[str, Any] = {
        "loan_id": loan_id,
        "product": "default",
        "borrower": {
            "borrower_id": borrower_id,
            "name": "张三",
            "phone": "+8613800000000",
            "email": "zhang@example.com",
            "national_id": "110101199001011234",
            "time_zone": "Asia/Shanghai",
            "locale": "zh-CN",
        },
        "principal": "12000.00",
        "currency": "CNY",
        "annual_rate": "0.12",
        "term_months": 12,
        "repayment_method": "annuity",
        "disbursed_on": "2026-01-15",
        "first_due_on": "2026-02-15",
    }
    body.update(overrides)
    return body
