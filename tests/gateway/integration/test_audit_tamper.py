"""Tampering with the audit table in PostgreSQL: every edit, deletion, insertion and reordering
is found, at the first broken entry; the database refuses the application's changes."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

import gateway.main
from gateway.domain.audit import EMPTY, Head, Reason, Record, chain, entry_hash
from gateway.domain.scopes import Role
from gateway.entrypoints.cli import main as audit_cli
from gateway.service_layer.audit import AuditWriter, append, verify_log
from gateway.service_layer.audit_export import export_head, exported_heads
from gateway.settings import GatewaySettings
from postloan_testing.servers import running
from shared.db import Database, asyncpg_dsn, migrate

Bearer = Callable[..., dict[str, str]]
MIGRATIONS = Path(gateway.main.__file__).parent / "migrations"
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ENTRIES = 8


def make_record(*, n: int, subject: str = "alice") -> Record:
    return Record(
        recorded_at=T0 + timedelta(seconds=n), subject=subject, roles=("admin",),
        principal_kind="user", method="POST", route="/api/v1/offers/{id}/approve",
        path=f"/api/v1/offers/O-{n}/approve", resource_ids=(f"O-{n}",), client="10.1.2.3",
        status=200, request_id=f"req-{n}", trace_id=None,
    )  # fmt: skip


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """A migrated gateway database holding a chain of ``ENTRIES`` entries."""
    await migrate(database_url, MIGRATIONS)
    database = Database(database_url, pool_size=2)
    await append(database, [make_record(n=n) for n in range(ENTRIES)])
    yield database
    await database.dispose()


@pytest.fixture
async def sql(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A superuser's connection, the way someone tampering would come in."""
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    yield conn
    await conn.close()


async def tamper(sql: asyncpg.Connection, *statements: str) -> None:
    """Run statements with the append-only trigger disabled (only the owner can do that)."""
    async with sql.transaction():
        await sql.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        for statement in statements:
            await sql.execute(statement)
        await sql.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")


async def first_break(db: Database) -> tuple[int, Reason] | None:
    verdict = await verify_log(db)
    return None if verdict.broken is None else (verdict.broken.sequence, verdict.broken.reason)


async def test_an_untouched_chain_verifies(db: Database) -> None:
    verdict = await verify_log(db)

    assert verdict.ok
    assert (verdict.checked, verdict.head.sequence) == (ENTRIES, ENTRIES)


async def test_an_edited_row_is_found(db: Database, sql: asyncpg.Connection) -> None:
    await tamper(sql, "UPDATE audit_log SET subject = 'mallory' WHERE sequence = 4")

    assert await first_break(db) == (4, Reason.HASH_MISMATCH)


async def test_an_edited_row_with_a_recomputed_hash_is_found_at_the_next(
    db: Database, sql: asyncpg.Connection
) -> None:
    [third] = await sql.fetch("SELECT hash FROM audit_log WHERE sequence = 3")
    edited = dataclasses.replace(make_record(n=3), subject="mallory")
    recomputed = entry_hash(4, edited, third["hash"])
    await tamper(
        sql, f"UPDATE audit_log SET subject = 'mallory', hash = '{recomputed}' WHERE sequence = 4"
    )

    assert await first_break(db) == (5, Reason.OUT_OF_ORDER)


async def test_a_deleted_row_is_found(db: Database, sql: asyncpg.Connection) -> None:
    await tamper(sql, "DELETE FROM audit_log WHERE sequence = 3")

    assert await first_break(db) == (3, Reason.MISSING)


async def test_deleted_last_rows_are_found_by_the_head(
    db: Database, sql: asyncpg.Connection
) -> None:
    await tamper(sql, f"DELETE FROM audit_log WHERE sequence > {ENTRIES - 2}")

    assert await first_break(db) == (ENTRIES - 1, Reason.MISSING)


async def test_an_inserted_row_is_found(db: Database, sql: asyncpg.Connection) -> None:
    # Make room after entry 2 and put a row there that links to entry 2 properly.
    [second] = await sql.fetch("SELECT hash FROM audit_log WHERE sequence = 2")
    await tamper(
        sql,
        "UPDATE audit_log SET sequence = -sequence WHERE sequence > 2",
        "UPDATE audit_log SET sequence = 1 - sequence WHERE sequence < 0",
        f"""INSERT INTO audit_log SELECT 3, recorded_at, 'mallory', roles, principal_kind, method,
            route, path, resource_ids, client, status, request_id, trace_id,
            '{second["hash"]}', hash FROM audit_log WHERE sequence = 1""",
    )

    assert await first_break(db) == (3, Reason.HASH_MISMATCH)


async def test_an_appended_row_is_found(db: Database, sql: asyncpg.Connection) -> None:
    [last] = await sql.fetch(f"SELECT hash FROM audit_log WHERE sequence = {ENTRIES}")
    await tamper(
        sql,
        f"""INSERT INTO audit_log SELECT {ENTRIES + 1}, recorded_at, subject, roles,
            principal_kind, method, route, path, resource_ids, client, status, request_id,
            trace_id, '{last["hash"]}', hash FROM audit_log WHERE sequence = 1""",
    )

    assert await first_break(db) == (ENTRIES + 1, Reason.HASH_MISMATCH)


async def test_a_well_hashed_appended_row_is_found_beyond_the_head(
    db: Database, sql: asyncpg.Connection
) -> None:
    [last] = await sql.fetch(f"SELECT hash FROM audit_log WHERE sequence = {ENTRIES}")
    [forged] = chain(Head(ENTRIES, last["hash"]), [make_record(n=99, subject="mallory")])
    r = forged.record
    await sql.execute(
        "INSERT INTO audit_log (sequence, recorded_at, subject, roles, principal_kind, method,"
        " route, path, resource_ids, client, status, request_id, trace_id, prev_hash, hash)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        forged.sequence, r.recorded_at, r.subject, list(r.roles), r.principal_kind, r.method,
        r.route, r.path, list(r.resource_ids), r.client, r.status, r.request_id, r.trace_id,
        forged.prev_hash, forged.hash,
    )  # fmt: skip

    assert await first_break(db) == (ENTRIES + 1, Reason.OUT_OF_ORDER)


async def test_reordered_rows_are_found(db: Database, sql: asyncpg.Connection) -> None:
    await tamper(
        sql,
        "UPDATE audit_log SET sequence = 100 WHERE sequence = 5",
        "UPDATE audit_log SET sequence = 5 WHERE sequence = 6",
        "UPDATE audit_log SET sequence = 6 WHERE sequence = 100",
    )

    assert await first_break(db) == (5, Reason.HASH_MISMATCH)


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_log SET status = 200 WHERE sequence = 1",
     "DELETE FROM audit_log WHERE sequence = 1",
     "TRUNCATE audit_log",
     "UPDATE audit_head SET sequence = 1",
     "DELETE FROM audit_head",
     "TRUNCATE audit_head"],
)  # fmt: skip
async def test_the_database_refuses_to_change_or_remove_entries_and_to_move_the_head_back(
    db: Database, sql: asyncpg.Connection, statement: str
) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="refused"):
        await sql.execute(statement)

    assert await first_break(db) is None


async def test_replicas_appending_together_make_one_unbroken_chain(
    db: Database, database_url: str
) -> None:
    replicas = [Database(database_url, pool_size=4) for _ in range(3)]
    writers = [AuditWriter(r, max_batch=7) for r in replicas]
    for writer in writers:
        writer.start()
    try:
        await asyncio.gather(
            *(
                w.record(make_record(n=100 + 40 * i + n))
                for i, w in enumerate(writers)
                for n in range(40)
            )
        )
    finally:
        for writer, replica in zip(writers, replicas, strict=True):
            await writer.close()
            await replica.dispose()

    verdict = await verify_log(db)
    assert verdict.ok
    assert verdict.checked == verdict.head.sequence == ENTRIES + 120


async def test_an_exported_head_catches_a_rewrite_of_the_whole_table(
    db: Database, sql: asyncpg.Connection, tmp_path: Path
) -> None:
    exported = await export_head(db, tmp_path, since=None)
    lines = (tmp_path / "audit-heads.jsonl").read_text().splitlines()
    [event] = await sql.fetch("SELECT subject, body FROM outbox")
    # The whole chain replaced by a consistent one, head included.
    rewritten = chain(EMPTY, [make_record(n=n, subject="nobody") for n in range(ENTRIES)])
    await tamper(sql, "DELETE FROM audit_log")
    await sql.execute("ALTER TABLE audit_head DISABLE TRIGGER audit_head_moves_forward")
    await sql.execute("UPDATE audit_head SET sequence = 0, hash = repeat('0', 64)")
    await sql.execute("ALTER TABLE audit_head ENABLE TRIGGER audit_head_moves_forward")
    await append(db, [e.record for e in rewritten])

    assert [json.loads(line)["sequence"] for line in lines] == [ENTRIES]
    assert json.loads(lines[0])["hash"] == exported.hash
    assert event["subject"] == "postloan.gateway.audit.exported"
    assert json.loads(event["body"])["data"]["hash"] == exported.hash
    assert await first_break(db) is None  # alone, the rewritten chain holds
    verdict = await verify_log(db, exported_heads(tmp_path / "audit-heads.jsonl"))
    assert verdict.broken is not None
    assert (verdict.broken.sequence, verdict.broken.reason) == (ENTRIES, Reason.NOT_EXPORTED_HASH)


async def test_a_head_that_has_not_moved_is_not_exported_again(
    db: Database, tmp_path: Path
) -> None:
    first = await export_head(db, tmp_path, since=None)
    again = await export_head(db, tmp_path, since=first)
    await append(db, [make_record(n=50)])
    moved = await export_head(db, tmp_path, since=again)

    sequences = [
        json.loads(line)["sequence"]
        for line in (tmp_path / "audit-heads.jsonl").read_text().splitlines()
    ]
    assert sequences == [ENTRIES, ENTRIES + 1]
    assert moved.sequence == ENTRIES + 1


def run_cli(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code = audit_cli(["verify", *args])
    out = capsys.readouterr().out
    return code, json.loads(out) if out else {}


async def test_the_command_verifies_a_database_and_names_the_first_break(
    db: Database, sql: asyncpg.Connection, database_url: str, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    plain_url = asyncpg_dsn(database_url)  # a postgresql:// URL, as a user would type it
    await export_head(db, tmp_path, since=None)
    heads = str(tmp_path / "audit-heads.jsonl")

    ok = await asyncio.to_thread(
        run_cli, "--database-url", plain_url, "--heads", heads, capsys=capsys
    )
    await tamper(sql, "DELETE FROM audit_log WHERE sequence = 2")
    broken = await asyncio.to_thread(run_cli, "--database-url", plain_url, capsys=capsys)

    assert ok[0] == 0
    assert (ok[1]["ok"], ok[1]["checked"], ok[1]["anchors"]) == (True, ENTRIES, 1)
    assert broken[0] == 1
    assert broken[1]["broken"] | {"detail": None} == {
        "sequence": 2,
        "reason": "missing",
        "detail": None,
    }


def test_the_command_refuses_a_file_that_is_not_heads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    heads = tmp_path / "heads.jsonl"
    heads.write_text('{"sequence": 1, "hash": "' + "a" * 64 + '"}\nnonsense\n')

    code = audit_cli(["verify", "--database-url", "postgresql://nowhere/x", "--heads", str(heads)])

    assert code == 2
    assert "heads.jsonl:2" in capsys.readouterr().err


async def test_the_verify_endpoint_names_the_first_break_and_checks_anchors(
    fresh_settings: Callable[..., GatewaySettings], bearer: Bearer, sql: asyncpg.Connection,
    tmp_path: Path,
) -> None:  # fmt: skip
    app = create_gateway(fresh_settings(audit_head_dir=tmp_path / "heads"))
    async with running(app) as api:
        admin = bearer(Role.ADMIN)
        for n in range(4):
            await api.put(f"/api/v1/strategies/s-{n}", json={}, headers=admin)
        good = (await api.get("/api/v1/audit/verify", headers=admin)).json()
        anchor = f"{good['head']['sequence']}:{good['head']['hash']}"
        await tamper(sql, "UPDATE audit_log SET status = 500 WHERE sequence = 2")
        broken = (
            await api.get("/api/v1/audit/verify", params={"anchor": anchor}, headers=admin)
        ).json()
        bad_anchor = await api.get(
            "/api/v1/audit/verify", params={"anchor": "7:xyz"}, headers=admin
        )

    assert (good["ok"], good["checked"]) == (True, 4)
    assert broken["ok"] is False
    assert broken["broken"] | {"detail": None} == {
        "sequence": 2,
        "reason": "hash_mismatch",
        "detail": None,
    }
    assert bad_anchor.status_code == 422
    assert bad_anchor.json()["errors"][0]["field"] == "anchor[0]"


def create_gateway(settings: GatewaySettings) -> Any:
    return gateway.main.create_app(settings)


async def test_the_running_gateway_exports_its_head_to_the_configured_folder(
    fresh_settings: Callable[..., GatewaySettings], bearer: Bearer, tmp_path: Path
) -> None:
    folder = tmp_path / "kept-elsewhere"
    app = create_gateway(fresh_settings(audit_head_dir=folder, audit_head_interval_s=0.05))
    async with running(app) as api:
        await api.put("/api/v1/strategies/s-1", json={}, headers=bearer(Role.ADMIN))
        for _ in range(100):
            if (folder / "audit-heads.jsonl").exists():
                break
            await asyncio.sleep(0.05)
    line = json.loads((folder / "audit-heads.jsonl").read_text().splitlines()[0])

    assert line["sequence"] >= 1
    assert set(line) == {"sequence", "hash", "time"}
