"""Bulk import over HTTP and the CLI, against real PostgreSQL and NATS."""

from __future__ import annotations

import asyncio
import csv
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import nats
import orjson
import pytest

from factories import make_registration
from monitoring.entrypoints import cli
from monitoring.service_layer.bulk_import import import_portfolio
from monitoring.service_layer.import_files import Format
from monitoring.service_layer.import_report import ImportRejected
from monitoring.settings import MonitoringSettings
from postloan_testing.plugin import NatsUnderTest
from shared.db import Database, asyncpg_dsn
from shared.events import PaymentApplied


def ndjson(*bodies: Any) -> bytes:
    return b"".join(orjson.dumps(b) + b"\n" for b in bodies)


async def upload(
    client: httpx.AsyncClient, data: bytes, name: str = "loans.ndjson", **files: Any
) -> httpx.Response:
    return await client.post("/api/v1/imports", files={"loans": (name, data), **files})


async def loan_ids(client: httpx.AsyncClient) -> list[str]:
    items = (await client.get("/api/v1/loans", params={"limit": 500})).json()["items"]
    return [i["loan_id"] for i in items]


def payment(pid: str, amount: str, paid_at: str) -> dict[str, str]:
    return {"payment_id": pid, "amount": amount, "paid_at": paid_at, "channel": "bank_transfer"}


async def test_an_ndjson_portfolio_is_imported_with_schedules_and_payment_history(
    monitoring: httpx.AsyncClient,
) -> None:
    paid = make_registration(
        loan_id="L-1", payments=[payment("P-1", "1066.19", "2026-02-14T10:00:00+08:00")]
    )
    data = ndjson(paid, make_registration(loan_id="L-2", borrower_id="B-2"))
    response = await upload(monitoring, data)
    assert response.status_code == 201, response.text
    report = response.json()
    assert (report["loans"], report["instalments"], report["payments"]) == (2, 24, 1)
    loan = (await monitoring.get("/api/v1/loans/L-1")).json()
    assert loan["schedule"][0]["status"] == "paid"
    assert loan["schedule"][0]["paid"] == "1066.19"
    assert loan["outstanding"]["principal"] == "11053.81"
    got = (await monitoring.get("/api/v1/payments/P-1")).json()
    assert (got["allocation"][0]["interest"], got["allocation"][0]["principal"]) == (
        "120.00",
        "946.19",
    )


async def test_an_imported_loan_posted_again_with_the_same_body_is_the_same_loan(
    monitoring: httpx.AsyncClient,
) -> None:
    assert (await upload(monitoring, ndjson(make_registration()))).status_code == 201
    again = await monitoring.post("/api/v1/loans", json=make_registration())
    assert again.status_code == 200, again.text


async def test_a_csv_portfolio_with_a_payments_file_is_imported(
    monitoring: httpx.AsyncClient,
) -> None:
    loans = io.StringIO()
    out = csv.writer(loans)
    borrower = ["B-1", "李四", "+8613900000000", "Asia/Shanghai"]
    out.writerow(
        [
            "loan_id",
            "borrower_id",
            "borrower_name",
            "borrower_phone",
            "borrower_time_zone",
            "principal",
            "annual_rate",
            "term_months",
            "repayment_method",
            "disbursed_on",
            "schedule",
        ]
    )
    schedule = '[{"seq": 1, "due_on": "2026-02-15", "principal": "600.00", "interest": "6.00"}]'
    out.writerow(["C-1", *borrower, "600.00", "0.12", "1", "annuity", "2026-01-15", schedule])
    out.writerow(["C-2", *borrower, "1200.00", "0.12", "12", "equal_principal", "2026-01-10", ""])
    payments = (
        "payment_id,loan_id,amount,paid_at,channel\nCP-1,C-1,606.00,2026-02-15T09:00:00+08:00,app\n"
    )
    response = await upload(
        monitoring, loans.getvalue().encode(), "loans.csv", payments=("p.csv", payments.encode())
    )
    assert response.status_code == 201, response.text
    assert response.json()["borrowers"] == 1
    assert await loan_ids(monitoring) == ["C-1", "C-2"]
    c1 = (await monitoring.get("/api/v1/loans/C-1")).json()
    assert c1["status"] == "settled"
    assert c1["schedule"][0]["interest"] == "6.00"


async def test_row_errors_are_reported_with_row_field_and_reason_and_nothing_is_imported(
    monitoring: httpx.AsyncClient,
) -> None:
    data = b"".join(
        [
            ndjson(make_registration(loan_id="OK-1")),
            ndjson(make_registration(loan_id="BAD-2", principal="-5.00")),
            ndjson(make_registration(loan_id="BAD-3", principal="100.001")),
            ndjson(make_registration(loan_id="BAD-4", disbursed_on="2026-13-01")),
            ndjson(make_registration(loan_id="OK-1", borrower_id="B-9")),
            b'{"loan_id": "L-6", oops\n',
            ndjson(make_registration(loan_id="BAD-7", payments=[payment("P", "-1", "x")])),
        ]
    )
    response = await upload(monitoring, data)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    found = {(e["row"], e["field"]) for e in problem["errors"]}
    assert {(2, "principal"), (3, "principal"), (4, "disbursed_on"), (5, "loan_id")} <= found
    assert (6, "row") in found
    assert (7, "payments.0.amount") in found
    assert (7, "payments.0.paid_at") in found
    assert all(e["reason"] for e in problem["errors"])
    assert problem["error_count"] == len(problem["errors"])
    assert await loan_ids(monitoring) == []


async def test_a_loan_id_already_in_the_ledger_is_a_row_error(
    monitoring: httpx.AsyncClient,
) -> None:
    await monitoring.post("/api/v1/loans", json=make_registration(loan_id="L-0"))
    data = ndjson(make_registration(loan_id="L-new"), make_registration(loan_id="L-0"))
    response = await upload(monitoring, data)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"file": "loans", "row": 2, "field": "loan_id", "reason": "already registered"}
    ]
    assert await loan_ids(monitoring) == ["L-0"]


async def rejected(url: str, data: bytes, *, chunk_rows: int) -> list[tuple[str, int, str, str]]:
    """The errors of an import of ``data`` in chunks of ``chunk_rows`` loans (it must fail)."""
    db = Database(url)
    try:
        with pytest.raises(ImportRejected) as refused:
            async with db.unit_of_work() as session:
                await import_portfolio(
                    session, io.BytesIO(data), fmt=Format.NDJSON, chunk_rows=chunk_rows
                )
    finally:
        await db.dispose()
    return [(e.file, e.row, e.field, e.reason) for e in refused.value.report.errors]


@pytest.mark.parametrize("chunk_rows", [2, 100])
async def test_repeated_ids_name_their_first_row_within_a_chunk_and_across_chunks(
    monitoring: httpx.AsyncClient, monitoring_settings: MonitoringSettings, chunk_rows: int
) -> None:
    p1, p2 = payment("P-1", "10.00", "2026-02-01T10:00:00+08:00"), payment("P-2", "1", "x")
    data = ndjson(
        make_registration(loan_id="L-1", payments=[p1]),
        make_registration(loan_id="L-2"),
        make_registration(loan_id="L-3", payments=[p1, p1]),
        make_registration(loan_id="L-1"),
        make_registration(loan_id="L-2", principal="-1"),  # refused by its own checks first
        make_registration(loan_id="L-1", payments=[p2]),
    )
    errors = await rejected(monitoring_settings.database_url, data, chunk_rows=chunk_rows)
    assert [e for e in errors if e[2] in ("loan_id", "payment_id")] == [
        ("loans", 3, "payment_id", "duplicate of row 1"),
        ("loans", 3, "payment_id", "duplicate of row 1"),
        ("loans", 4, "loan_id", "duplicate of row 1"),
        ("loans", 6, "loan_id", "duplicate of row 1"),
    ]
    assert await loan_ids(monitoring) == []


async def test_ids_already_in_the_ledger_are_found_after_an_earlier_row_was_refused(
    monitoring: httpx.AsyncClient, monitoring_settings: MonitoringSettings
) -> None:
    await monitoring.post("/api/v1/loans", json=make_registration(loan_id="L-0"))
    paid = {"loan_id": "L-0", "currency": "CNY"} | payment("P-0", "10.00", "2026-02-01T10:00:00Z")
    assert (await monitoring.post("/api/v1/payments", json=paid)).status_code in (200, 201)
    data = ndjson(
        make_registration(loan_id="L-bad", currency="USD"),
        make_registration(loan_id="L-0"),
        make_registration(loan_id="L-new", payments=[payment("P-0", "5.00", paid["paid_at"])]),
    )
    errors = await rejected(monitoring_settings.database_url, data, chunk_rows=1)
    assert [e for e in errors if e[2] in ("loan_id", "payment_id")] == [
        ("loans", 2, "loan_id", "already registered"),
        ("loans", 3, "payment_id", "already received"),
    ]


async def test_a_repeated_payment_of_the_payments_file_is_reported_in_that_file(
    monitoring: httpx.AsyncClient,
) -> None:
    header = "loan_id,borrower_id,borrower_name,borrower_phone,borrower_time_zone,principal,"
    header += "annual_rate,term_months,repayment_method,disbursed_on\n"
    loans = header + "C-1,B-1,李四,+8613900000000,Asia/Shanghai,600.00,0.12,6,annuity,2026-01-15\n"
    row = "CP-1,C-1,10.00,2026-02-15T09:00:00+08:00,app\n"
    payments = "payment_id,loan_id,amount,paid_at,channel\n" + row + row
    response = await upload(
        monitoring, loans.encode(), "loans.csv", payments=("p.csv", payments.encode())
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"file": "payments", "row": 3, "field": "payment_id", "reason": "duplicate of row 2"}
    ]


async def test_text_that_copy_would_read_as_a_separator_or_an_escape_is_stored_as_given(
    monitoring: httpx.AsyncClient, monitoring_settings: MonitoringSettings
) -> None:
    body = make_registration(loan_id="L-esc")
    body["borrower"] |= {"name": "a\tb\\N\nc", "email": None, "national_id": "x\\y\r12345"}
    assert (await upload(monitoring, ndjson(body))).status_code == 201
    conn = await asyncpg.connect(asyncpg_dsn(monitoring_settings.database_url))
    try:
        stored = await conn.fetchrow("SELECT name, email, national_id FROM borrower")
    finally:
        await conn.close()
    assert stored is not None
    assert tuple(stored) == ("a\tb\\N\nc", None, "x\\y\r12345")


async def test_a_csv_file_with_unknown_columns_is_refused_at_its_header(
    monitoring: httpx.AsyncClient,
) -> None:
    response = await upload(monitoring, b"loan_id,colour\nL-1,red\n", "loans.csv")
    assert response.status_code == 422
    fields = {(e["row"], e["field"], e["reason"]) for e in response.json()["errors"]}
    assert (1, "colour", "unknown column") in fields
    assert (1, "principal", "missing column") in fields


async def test_a_file_of_unknown_format_is_a_422_problem(monitoring: httpx.AsyncClient) -> None:
    response = await upload(monitoring, b"{}", "loans.txt")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "format"


async def test_imported_loans_are_announced_on_the_bus_once_each(
    monitoring: httpx.AsyncClient, nats_server: NatsUnderTest
) -> None:
    nc = await nats.connect(nats_server.url)
    try:
        sub = await nc.subscribe("postloan.monitoring.loan.registered")
        bodies = [make_registration(loan_id=f"L-{n}", borrower_id=f"B-{n}") for n in range(30)]
        assert (await upload(monitoring, ndjson(*bodies))).status_code == 201
        seen = set()
        for _ in range(30):
            msg = await sub.next_msg(timeout=10)
            assert msg.headers is not None
            assert "Nats-Msg-Id" in msg.headers
            seen.add(orjson.loads(msg.data)["data"]["loan_id"])
        assert seen == {f"L-{n}" for n in range(30)}
        with pytest.raises(nats.errors.TimeoutError):
            await sub.next_msg(timeout=0.5)
    finally:
        await nc.close()


async def test_imported_payments_are_announced_after_their_loan_as_applied(
    monitoring: httpx.AsyncClient, nats_server: NatsUnderTest
) -> None:
    """Consumers (scoring) learn an imported loan's history as they learn a live one's."""
    nc = await nats.connect(nats_server.url)
    try:
        sub = await nc.subscribe("postloan.monitoring.>")
        paid = make_registration(
            loan_id="L-H",
            payments=[
                payment("P-H1", "1066.19", "2026-02-14T10:00:00+08:00"),
                payment("P-H2", "500.00", "2026-03-20T10:00:00+08:00"),
            ],
        )
        assert (await upload(monitoring, ndjson(paid))).status_code == 201
        seen = [orjson.loads((await sub.next_msg(timeout=10)).data) for _ in range(3)]
    finally:
        await nc.close()
    assert [e["type"].split(".")[-3:-1] for e in seen] == [
        ["loan", "registered"],
        ["payment", "applied"],
        ["payment", "applied"],
    ]
    first, second = (PaymentApplied.model_validate(e["data"]) for e in seen[1:])
    assert (first.payment_id, first.booked_on.isoformat()) == ("P-H1", "2026-02-14")
    line = first.allocation[0]
    assert (line.seq, line.interest, line.principal) == (1, Decimal("120.00"), Decimal("946.19"))
    assert first.outstanding_total == Decimal("11053.81")  # interest of later months not due
    # The second pays the interest of March (due on the 15th) first, then principal.
    assert second.allocation[0].seq == 2
    assert second.outstanding_total == Decimal("11053.81") - second.allocation[0].principal
    loan = (await monitoring.get("/api/v1/loans/L-H")).json()
    assert Decimal(loan["outstanding"]["principal"]) == second.outstanding_total


async def test_the_cli_imports_a_file_and_refuses_a_bad_one_with_exit_status_1(
    monitoring: httpx.AsyncClient, monitoring_settings: MonitoringSettings, tmp_path: Path
) -> None:
    url = monitoring_settings.database_url
    good, bad = tmp_path / "good.ndjson", tmp_path / "bad.jsonl"
    good.write_bytes(ndjson(make_registration(loan_id="CLI-1")))
    bad.write_bytes(ndjson(make_registration(loan_id="CLI-2", currency="USD")))
    assert await asyncio.to_thread(cli.main, ["import", "--database-url", url, str(good)]) == 0
    assert await asyncio.to_thread(cli.main, ["import", "--database-url", url, str(bad)]) == 1
    assert await loan_ids(monitoring) == ["CLI-1"]
