"""Ids an import repeats: found by the database in temporary tables of the import's transaction.

Each id's first row is kept in a temporary table rather than in the importing process, so that
memory does not grow with the file; that table's primary key finds the repeats. The tables
are made by :meth:`monitoring.adapters.copy_import.CopyLoader.prepare`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import asyncpg

Ids = Literal["loan", "payment"]


@dataclass(frozen=True, slots=True)
class Repeat:
    """An id of a chunk seen before: at ``first`` (a row), or in the ledger (None)."""

    index: int  # in the chunk's ids
    first: int | None


# The first row of each id is kept by the INSERT, in the order read (a later one conflicts);
# ``ord`` numbers the rows of the whole import. A row not kept repeats the id of a row kept
# from this chunk or, not visible to the INSERT's own statement, of an earlier chunk; a row
# kept may still name an id the ledger has. The lookups are correlated or LATERAL so that
# each is an index probe: the temporary table has no statistics, and a hash join over it (or
# over the ledger) would read it whole at every chunk.
_REPEATS_SQL = """
    WITH chunk AS (
        SELECT id, row, $3 + o AS ord
        FROM unnest($1::text[], $2::int[]) WITH ORDINALITY AS c(id, row, o)
    ), kept AS (
        INSERT INTO import_{kind}_row (id, row, ord) SELECT id, row, ord FROM chunk ORDER BY ord
        ON CONFLICT DO NOTHING RETURNING id, row, ord
    )
    SELECT c.ord - $3 AS ord, coalesce(
        (SELECT k.row FROM kept k WHERE k.id = c.id),
        (SELECT s.row FROM import_{kind}_row s WHERE s.id = c.id)
    ) AS first
    FROM chunk c
    WHERE c.ord NOT IN (SELECT ord FROM kept)
    UNION ALL
    SELECT k.ord - $3, NULL
    FROM kept k
    CROSS JOIN LATERAL (SELECT FROM {kind} t WHERE t.{kind}_id = k.id LIMIT 1) t
    ORDER BY 1
"""
_REPEATS: dict[Ids, str] = {kind: _REPEATS_SQL.format(kind=kind) for kind in ("loan", "payment")}


async def find_repeats(
    conn: asyncpg.Connection, kind: Ids, ids: list[str], rows: list[int], read_before: int
) -> list[Repeat]:
    """The ids of a chunk (``ids`` not empty, in the order read, at ``rows``) seen earlier in
    the files or in the ledger; ``read_before`` counts the ids of ``kind`` given before."""
    found = await conn.fetch(_REPEATS[kind], ids, rows, read_before)
    return [Repeat(r["ord"] - 1, r["first"]) for r in found]
