"""The audit chain: hashes over a canonical form, and the first break of a tampered chain."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from gateway.domain.audit import (
    EMPTY,
    GENESIS,
    Anchor,
    Entry,
    Head,
    Reason,
    Record,
    canonical,
    chain,
    entry_hash,
    parse_anchor,
    verify,
)

T0 = datetime(2026, 3, 1, 9, 30, 0, 123456, tzinfo=UTC)


def make_record(*, n: int = 0, subject: str | None = "alice", status: int = 200) -> Record:
    return Record(
        recorded_at=T0 + timedelta(seconds=n),
        subject=subject,
        roles=("collector",),
        principal_kind="user",
        method="POST",
        route="/api/v1/cases/{id}/outcomes",
        path=f"/api/v1/cases/C-{n}/outcomes",
        resource_ids=(f"C-{n}",),
        client="10.0.0.7",
        status=status,
        request_id=f"req-{n}",
        trace_id=None,
    )


def make_chain(length: int) -> list[Entry]:
    return chain(EMPTY, [make_record(n=n) for n in range(length)])


def rehashed(entry: Entry, **changes: Any) -> Entry:
    """The entry with its record changed and its own hash recomputed (a careful forger)."""
    record = dataclasses.replace(entry.record, **changes)
    return Entry(
        entry.sequence, record, entry.prev_hash, entry_hash(entry.sequence, record, entry.prev_hash)
    )


def test_an_untouched_chain_verifies() -> None:
    entries = make_chain(5)

    assert verify(entries, head=Head(5, entries[-1].hash)) is None


def test_the_first_entry_follows_genesis_and_each_next_one_its_predecessor() -> None:
    entries = make_chain(3)

    assert [e.sequence for e in entries] == [1, 2, 3]
    assert entries[0].prev_hash == GENESIS
    assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:2]]


def test_the_canonical_form_does_not_depend_on_the_time_zone_or_the_roles_order() -> None:
    record = make_record()
    shanghai = dataclasses.replace(
        record, recorded_at=T0.astimezone(timezone(timedelta(hours=8))), roles=("b", "a")
    )
    sorted_roles = dataclasses.replace(record, roles=("a", "b"))

    assert canonical(1, shanghai, GENESIS) == canonical(1, sorted_roles, GENESIS)


def test_every_field_is_under_the_hash() -> None:
    record = make_record()
    changes: dict[str, Any] = {
        "recorded_at": T0 + timedelta(microseconds=1), "subject": "mallory", "roles": ("admin",),
        "principal_kind": "api_key", "method": "PUT", "route": "/api/v1/x", "path": "/api/v1/x",
        "resource_ids": ("C-9",), "client": "10.0.0.8", "status": 403, "request_id": "other",
        "trace_id": "0" * 32,
    }  # fmt: skip
    assert set(changes) == {f.name for f in dataclasses.fields(Record)}
    original = entry_hash(1, record, GENESIS)

    for name, value in changes.items():
        changed = dataclasses.replace(record, **{name: value})
        assert entry_hash(1, changed, GENESIS) != original, name
    assert entry_hash(2, record, GENESIS) != original
    assert entry_hash(1, record, "1" * 64) != original


def test_an_edited_entry_is_named_for_its_hash() -> None:
    entries = make_chain(6)
    entries[3] = dataclasses.replace(
        entries[3], record=dataclasses.replace(entries[3].record, status=200 + 1)
    )

    broken = verify(entries)

    assert broken is not None
    assert (broken.sequence, broken.reason) == (4, Reason.HASH_MISMATCH)


def test_an_edit_whose_hash_was_recomputed_breaks_the_link_to_the_next_entry() -> None:
    entries = make_chain(6)
    entries[3] = rehashed(entries[3], subject="nobody")

    broken = verify(entries)

    assert broken is not None
    assert (broken.sequence, broken.reason) == (5, Reason.OUT_OF_ORDER)


def test_a_deleted_entry_is_named_as_missing() -> None:
    entries = make_chain(6)
    del entries[2]

    broken = verify(entries)

    assert broken is not None
    assert (broken.sequence, broken.reason) == (3, Reason.MISSING)
    assert "3 are missing" in broken.detail


def test_deleted_last_entries_are_caught_by_the_head() -> None:
    entries = make_chain(6)
    head = Head(6, entries[-1].hash)

    broken = verify(entries[:4], head=head)

    assert broken is not None
    assert (broken.sequence, broken.reason) == (5, Reason.MISSING)


def test_an_entry_after_the_head_was_appended_beside_the_application() -> None:
    entries = make_chain(6)

    broken = verify(entries, head=Head(5, entries[4].hash))

    assert broken is not None
    assert (broken.sequence, broken.reason) == (6, Reason.OUT_OF_ORDER)


def test_a_rehashed_last_entry_is_caught_by_the_head() -> None:
    entries = make_chain(6)
    head = Head(6, entries[-1].hash)
    entries[-1] = rehashed(entries[-1], status=500)

    broken = verify(entries, head=head)

    assert broken is not None
    assert (broken.sequence, broken.reason) == (6, Reason.HASH_MISMATCH)


def test_an_inserted_entry_with_a_forged_hash_breaks_the_chain_after_it() -> None:
    entries = make_chain(6)
    forged_record = make_record(n=99, subject="mallory")
    forged = Entry(3, forged_record, entries[1].hash, entry_hash(3, forged_record, entries[1].hash))
    renumbered = [
        rehashed_sequence(e, e.sequence + 1) for e in entries[2:]
    ]  # the later entries moved up one, each hash recomputed for its new number
    tampered = [*entries[:2], forged, *renumbered]

    broken = verify(tampered)

    assert broken is not None
    assert (broken.sequence, broken.reason) == (4, Reason.OUT_OF_ORDER)


def rehashed_sequence(entry: Entry, sequence: int) -> Entry:
    digest = entry_hash(sequence, entry.record, entry.prev_hash)
    return Entry(sequence, entry.record, entry.prev_hash, digest)


def test_two_swapped_entries_are_named_at_the_first_of_them() -> None:
    entries = make_chain(6)
    a, b = entries[2], entries[3]
    entries[2], entries[3] = dataclasses.replace(b, sequence=3), dataclasses.replace(a, sequence=4)

    broken = verify(entries)

    assert broken is not None
    assert (broken.sequence, broken.reason) == (3, Reason.HASH_MISMATCH)


def test_an_entry_seen_twice_is_out_of_order() -> None:
    entries = make_chain(4)

    broken = verify([*entries[:3], entries[1], entries[3]])

    assert broken is not None
    assert (broken.sequence, broken.reason) == (2, Reason.OUT_OF_ORDER)


def test_a_whole_rewritten_chain_verifies_alone_but_not_against_an_exported_head() -> None:
    original = make_chain(6)
    rewritten = chain(EMPTY, [make_record(n=n, subject="someone else") for n in range(6)])
    exported = Anchor(4, original[3].hash)

    assert verify(rewritten, head=Head(6, rewritten[-1].hash)) is None
    broken = verify(rewritten, anchors=[exported])
    assert broken is not None
    assert (broken.sequence, broken.reason) == (4, Reason.NOT_EXPORTED_HASH)
    assert verify(original, anchors=[exported]) is None


def test_an_exported_head_beyond_the_chain_means_entries_are_missing() -> None:
    entries = make_chain(3)

    broken = verify(entries, anchors=[Anchor(5, "a" * 64)])

    assert broken is not None
    assert (broken.sequence, broken.reason) == (4, Reason.MISSING)


def test_anchors_are_read_from_the_query_form_and_from_a_heads_file_line() -> None:
    digest = "ab" * 32

    assert parse_anchor(f"12:{digest}") == Anchor(12, digest)
    line = f'{{"sequence": 12, "hash": "{digest.upper()}", "time": "2026-03-01T00:00:00+00:00"}}'
    assert parse_anchor(line) == Anchor(12, digest)


@pytest.mark.parametrize(
    "text", ["", "12", "x:" + "a" * 64, "0:" + "a" * 64, "3:abc", "3:" + "g" * 64, '{"hash": 1}',
             "3:0x" + "a" * 62],
)  # fmt: skip
def test_anything_else_is_not_an_anchor(text: str) -> None:
    with pytest.raises(ValueError, match="not an exported head"):
        parse_anchor(text)
