"""The audit chain: each entry carries the hash of the one before it.

An entry's hash is SHA-256 over a canonical serialisation of its fields, its sequence number
and its predecessor's hash, so that editing, deleting, inserting or reordering an entry breaks
the chain at that entry (or, for an edit whose hash was recomputed too, at the next one).
A rewrite of the whole table recomputes a consistent chain: only a head kept elsewhere
(:class:`Anchor`, exported at intervals) catches it. No I/O here.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum

#: The "previous hash" of the first entry.
GENESIS = "0" * 64
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")


@dataclass(frozen=True)
class Record:
    """What the gateway knows of one call: who, what, when, from where, with what outcome."""

    recorded_at: datetime
    subject: str | None  # None: the caller showed no valid credential
    roles: tuple[str, ...]
    principal_kind: str | None  # user | api_key (the subject is then the key's name)
    method: str
    route: str  # the path's template, e.g. /api/v1/cases/{id}/assign
    path: str
    resource_ids: tuple[str, ...]
    client: str | None
    status: int
    request_id: str
    trace_id: str | None


@dataclass(frozen=True)
class Entry:
    """A record in the chain."""

    sequence: int
    record: Record
    prev_hash: str
    hash: str


def canonical(sequence: int, record: Record, prev_hash: str) -> bytes:
    """The bytes an entry's hash is taken over: sorted-key compact JSON, times in UTC."""
    fields = asdict(record)
    fields["recorded_at"] = record.recorded_at.astimezone(UTC).isoformat(timespec="microseconds")
    fields["roles"] = sorted(record.roles)
    fields["resource_ids"] = list(record.resource_ids)
    fields |= {"sequence": sequence, "prev_hash": prev_hash}
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode()


def entry_hash(sequence: int, record: Record, prev_hash: str) -> str:
    return hashlib.sha256(canonical(sequence, record, prev_hash)).hexdigest()


@dataclass(frozen=True)
class Head:
    """The last entry of a chain (sequence 0 and :data:`GENESIS` when it is empty)."""

    sequence: int
    hash: str


EMPTY = Head(0, GENESIS)


def chain(head: Head, records: Iterable[Record]) -> list[Entry]:
    """Append ``records`` after ``head``, in order."""
    entries = []
    for record in records:
        sequence = head.sequence + 1
        digest = entry_hash(sequence, record, head.hash)
        entries.append(Entry(sequence, record, head.hash, digest))
        head = Head(sequence, digest)
    return entries


class Reason(StrEnum):
    HASH_MISMATCH = "hash_mismatch"  # the entry's content is not what was hashed: edited
    MISSING = "missing"  # a sequence number is absent: deleted
    OUT_OF_ORDER = "out_of_order"  # the entry does not follow its predecessor: inserted, moved
    NOT_EXPORTED_HASH = "not_exported_hash"  # an exported head no longer matches: rewritten


@dataclass(frozen=True)
class Break:
    """The first entry where the chain does not hold, and why."""

    sequence: int
    reason: Reason
    detail: str


@dataclass(frozen=True)
class Anchor:
    """An exported head: entry ``sequence`` had hash ``hash`` when it was exported."""

    sequence: int
    hash: str


class ChainVerifier:
    """Fed the entries in sequence order, remembers the first break.

    ``anchors`` are exported heads; ``start`` is where a partial verification begins.
    """

    def __init__(self, anchors: Iterable[Anchor] = (), start: Head = EMPTY) -> None:
        self._anchors: Mapping[int, str] = {a.sequence: a.hash for a in anchors}
        self._last = start
        self.checked = 0
        self.broken: Break | None = None

    @property
    def last(self) -> Head:
        return self._last

    def feed(self, entry: Entry) -> Break | None:
        """Check one entry; after a break, later entries are not looked at."""
        if self.broken is None:
            self.broken = self._check(entry)
            self.checked += 1
            self._last = Head(entry.sequence, entry.hash)
        return self.broken

    def _check(self, entry: Entry) -> Break | None:
        expected = self._last.sequence + 1
        if entry.sequence > expected:
            gap = (
                f"{expected}"
                if entry.sequence == expected + 1
                else f"{expected}-{entry.sequence - 1}"
            )
            detail = (
                f"entries {gap} are missing: {self._last.sequence} is followed by {entry.sequence}"
            )
            return Break(expected, Reason.MISSING, detail)
        if entry.sequence < expected:
            detail = f"entry {entry.sequence} appears again after {self._last.sequence}"
            return Break(entry.sequence, Reason.OUT_OF_ORDER, detail)
        if entry.hash != entry_hash(entry.sequence, entry.record, entry.prev_hash):
            detail = f"entry {entry.sequence} does not match its hash: its content was changed"
            return Break(entry.sequence, Reason.HASH_MISMATCH, detail)
        if entry.prev_hash != self._last.hash:
            detail = f"entry {entry.sequence} does not follow entry {self._last.sequence}"
            return Break(entry.sequence, Reason.OUT_OF_ORDER, detail)
        exported = self._anchors.get(entry.sequence)
        if exported is not None and exported != entry.hash:
            detail = f"entry {entry.sequence} no longer has the hash exported for it"
            return Break(entry.sequence, Reason.NOT_EXPORTED_HASH, detail)
        return None

    def finish(self, head: Head | None) -> Break | None:
        """After the last entry: the stored head and the exported heads must be reached."""
        if self.broken is not None:
            return self.broken
        last = self._last.sequence
        beyond = sorted(s for s in self._anchors if s > last)
        if head is not None and head.sequence > last:
            self.broken = Break(
                last + 1, Reason.MISSING, f"the head is entry {head.sequence}; the last is {last}"
            )
        elif head is not None and last > head.sequence:
            detail = f"entry {head.sequence + 1} is after the head the log recorded"
            self.broken = Break(head.sequence + 1, Reason.OUT_OF_ORDER, detail)
        elif head is not None and head.hash != self._last.hash:
            detail = f"entry {last} does not have the hash the log recorded as its head"
            self.broken = Break(last, Reason.HASH_MISMATCH, detail)
        elif beyond:
            self.broken = Break(
                last + 1, Reason.MISSING, f"entry {beyond[0]} was exported; the last is {last}"
            )
        return self.broken


def verify(
    entries: Iterable[Entry], *, head: Head | None = None, anchors: Iterable[Anchor] = ()
) -> Break | None:
    """The first break of a whole chain, or ``None`` when it holds."""
    verifier = ChainVerifier(anchors)
    for entry in entries:
        if verifier.feed(entry) is not None:
            break
    return verifier.finish(head)


def parse_anchor(text: str) -> Anchor:
    """``SEQUENCE:HASH`` (the form the verify endpoint takes) or one JSON line of a head file."""
    text = text.strip()
    try:
        if text.startswith("{"):
            fields = json.loads(text)
            sequence, digest = fields["sequence"], fields["hash"]
        else:
            raw, _, digest = text.partition(":")
            sequence = int(raw)
    except (ValueError, KeyError, TypeError):
        raise ValueError(f"not an exported head (SEQUENCE:HASH): {text[:80]!r}") from None
    if not isinstance(sequence, int) or sequence < 1 or not _HEX64.fullmatch(str(digest)):
        raise ValueError(f"not an exported head (SEQUENCE:HASH): {text[:80]!r}")
    return Anchor(sequence, digest.lower())
