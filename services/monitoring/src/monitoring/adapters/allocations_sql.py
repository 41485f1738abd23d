"""SQL of payments' allocations to instalments, written set-based.

An allocation changes as one ``DELETE`` and one ``INSERT … ON CONFLICT`` of the rows that
differ; arrays rather than ``VALUES`` lists keep each statement's text fixed, so that it is
prepared once per connection.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from monitoring.domain.payoff import Part, Parts
from shared.db import driver_connection

#: Allocations by payment id, then by instalment ``seq``.
Allocations = dict[str, dict[int, Parts]]


async def allocations(session: AsyncSession, payment_ids: Sequence[str]) -> Allocations:
    """The stored allocation of each payment (payments without lines map to ``{}``)."""
    found: Allocations = {pid: {} for pid in payment_ids}
    if not payment_ids:
        return found
    conn = await driver_connection(session)
    query = "SELECT * FROM allocation WHERE payment_id = ANY($1::text[])"
    for r in await conn.fetch(query, list(payment_ids)):
        found[r["payment_id"]][r["seq"]] = Parts(
            r["penalty"], r["fees"], r["interest"], r["principal"]
        )
    return found


DELETE_ALLOCATIONS_SQL = """
    DELETE FROM allocation a USING unnest($1::text[], $2::int[]) AS g(payment_id, seq)
    WHERE a.payment_id = g.payment_id AND a.seq = g.seq
"""
UPSERT_ALLOCATIONS_SQL = """
    INSERT INTO allocation (payment_id, seq, loan_id, penalty, fees, interest, principal)
    SELECT c.payment_id, c.seq, $1, c.penalty, c.fees, c.interest, c.principal
    FROM unnest($2::text[], $3::int[], $4::numeric[], $5::numeric[], $6::numeric[],
                $7::numeric[]) AS c(payment_id, seq, penalty, fees, interest, principal)
    ON CONFLICT (payment_id, seq) DO UPDATE SET penalty = excluded.penalty,
        fees = excluded.fees, interest = excluded.interest, principal = excluded.principal
"""


async def save_allocations(
    session: AsyncSession, loan_id: str, *, before: Allocations, after: Allocations
) -> None:
    """Make the stored allocations of ``after``'s payments what it says, touching only changes."""
    conn = await driver_connection(session)
    gone = [(pid, seq) for pid in after for seq in before.get(pid, {}) if seq not in after[pid]]
    if gone:
        await conn.execute(DELETE_ALLOCATIONS_SQL, *map(list, zip(*gone, strict=True)))
    changed = [
        (pid, seq, parts)
        for pid, lines in after.items()
        for seq, parts in lines.items()
        if before.get(pid, {}).get(seq) != parts
    ]
    if changed:
        ids = [pid for pid, _, _ in changed]
        seqs = [seq for _, seq, _ in changed]
        parts = [[amounts[p] for _, _, amounts in changed] for p in Part]
        await conn.execute(UPSERT_ALLOCATIONS_SQL, loan_id, ids, seqs, *parts)
