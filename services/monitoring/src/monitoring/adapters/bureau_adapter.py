"""Credit bureau adapters: the interface monitoring asks for reports through, and a simulation.

A real adapter calls a bureau (PBOC credit reference, Baihang, a US bureau ...) and returns
what it answers as :class:`BureauReported` payloads. The default, :class:`SimulatedBureau`,
answers deterministically for a seed: each borrower has a latent risk drawn from the seed and
their id, drifting month by month (mean-reverting), and every figure of a report follows from
that risk and the business date, never from the wall clock, so a replayed portfolio gets the
same reports.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Protocol

from shared.events import BureauReported

#: How many months of drift a borrower's latent risk remembers.
DRIFT_MONTHS = 24
#: Pull of the latent risk back towards the borrower's own level each month, and its noise.
REVERSION = 0.2
VOLATILITY = 0.12


class BureauAdapter(Protocol):
    async def fetch(self, borrower_ids: Sequence[str]) -> list[BureauReported]:
        """Current reports on these borrowers (a bureau may leave some out)."""
        ...


#: Builds the adapter for a business date (a real bureau ignores the date: it answers now).
AdapterFactory = Callable[[date], BureauAdapter]


class SimulatedBureau:
    """A bureau that answers from each borrower's simulated latent risk on ``as_of``."""

    def __init__(self, *, seed: int, as_of: date) -> None:
        self.seed = seed
        self.as_of = as_of

    async def fetch(self, borrower_ids: Sequence[str]) -> list[BureauReported]:
        return [self.report(b) for b in borrower_ids]

    def report(self, borrower_id: str) -> BureauReported:
        risk = self.latent_risk(borrower_id)
        month = self.as_of.strftime("%Y-%m")
        draw = _Draws(self.seed, borrower_id)
        open_loans = 1 + int(risk * 4 + draw("loans", month) * 2)
        noise = (draw("score", self.as_of.isoformat()) - 0.5) * 20
        delinquent = int(max(0.0, risk - 0.6) * 10 * draw("delinquent", month))
        return BureauReported(
            borrower_id=borrower_id,
            reported_at=datetime.combine(self.as_of, time(12), tzinfo=UTC),
            score=max(300, min(850, round(850 - 500 * risk + noise))),
            inquiries_30d=int(risk * 8 + draw("inquiries", self.as_of.isoformat()) * 3),
            open_loans=open_loans,
            total_debt=Decimal(int(open_loans * 10_000 * (0.5 + draw("debt")))).quantize(
                Decimal("0.01")
            ),
            delinquent_accounts=delinquent,
        )

    def latent_risk(self, borrower_id: str) -> float:
        """The borrower's probability-like risk in [0, 1] on ``as_of``."""
        draw = _Draws(self.seed, borrower_id)
        level = draw("level") ** 2  # most borrowers are good ones
        months = self.as_of.year * 12 + self.as_of.month - 1
        path = [level]
        for m in range(months - DRIFT_MONTHS, months + 1):
            step = (draw("drift", str(m)) - 0.5) * VOLATILITY
            path.append(_clamp(path[-1] + REVERSION * (level - path[-1]) + step))
        # Move smoothly from last month's risk to this month's through the days of the month.
        through_month = (self.as_of.day - 1) / 31
        return _clamp(path[-2] + (path[-1] - path[-2]) * through_month)


class _Draws:
    """Uniform numbers in [0, 1) that depend only on the seed, the borrower and a key."""

    def __init__(self, seed: int, borrower_id: str) -> None:
        self._prefix = f"{seed}:{borrower_id}:"

    def __call__(self, *key: str) -> float:
        digest = hashlib.blake2b((self._prefix + ":".join(key)).encode(), digest_size=8)
        return int.from_bytes(digest.digest()) / 2**64


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))
