"""Compliance guard decisions per second in one process (target >= 50,000/s).

Decides ``--decisions`` contacts, cycling through 1,000 prepared requests over borrowers in
five time zones with a realistic ledger (a week of calls and texts, a conversation, a stopped
channel here and there), against packs ``cn`` and ``us``; prints the rate of each pack beside
a baseline: the same loop calling a function that only builds the allowed answer.

    uv run python bench/bench_guard.py [--decisions 200000] [--seed 7]
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from shared.compliance import (
    Attempt,
    AttemptStatus,
    Channel,
    ContactHistory,
    ContactRequest,
    Conversation,
    Decision,
    Outcome,
    Pack,
    decide,
    default_pack,
)

ZONES = ("Asia/Shanghai", "America/New_York", "America/Los_Angeles", "Europe/London", "Asia/Tokyo")
CHANNELS = (Channel.SMS, Channel.EMAIL, Channel.VOICE, Channel.AGENT_CALL, Channel.LETTER)
STATUSES = (AttemptStatus.CONNECTED, AttemptStatus.UNANSWERED, AttemptStatus.DELIVERED)
START = datetime(2026, 3, 2, tzinfo=UTC)

Case = tuple[ContactRequest, ContactHistory, datetime]


def make_case(rng: random.Random, index: int) -> Case:
    now = START + timedelta(minutes=rng.randrange(7 * 24 * 60))
    attempts = tuple(
        Attempt(
            at=now - timedelta(minutes=rng.randrange(1, 7 * 24 * 60)),
            channel=rng.choice(CHANNELS),
            loan_id=f"L-{index}",
            status=rng.choice(STATUSES),
            to="+8613800000000",
        )
        for _ in range(rng.randrange(0, 15))
    )
    talks = (
        Conversation(now - timedelta(days=rng.randrange(1, 10)), Channel.AGENT_CALL, f"L-{index}"),
    )
    history = ContactHistory(
        attempts=attempts,
        conversations=talks if rng.random() < 0.3 else (),
        stopped_channels=frozenset({Channel.SMS}) if rng.random() < 0.05 else frozenset(),
    )
    request = ContactRequest(
        channel=rng.choice(CHANNELS),
        loan_id=f"L-{index}",
        borrower_id=f"B-{index}",
        time_zone=rng.choice(ZONES),
        case_id=f"C-{index}",
        to="+8613800000000",
    )
    return request, history, now


def allowed_only(
    request: ContactRequest,  # noqa: ARG001 - the guard's signature
    pack: Pack,  # noqa: ARG001
    history: ContactHistory,  # noqa: ARG001
    now: datetime,  # noqa: ARG001
) -> Decision:
    return Decision(Outcome.ALLOWED, None, "baseline")


def rate(
    fn: Callable[[ContactRequest, Pack, ContactHistory, datetime], Decision],
    pack: Pack,
    cases: list[Case],
    decisions: int,
) -> tuple[float, dict[str, int]]:
    outcomes: dict[str, int] = {}
    started = time.perf_counter()
    for i in range(decisions):
        request, history, now = cases[i % len(cases)]
        outcome = fn(request, pack, history, now).outcome
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return decisions / (time.perf_counter() - started), outcomes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    cases = [make_case(rng, i) for i in range(1_000)]
    baseline, _ = rate(allowed_only, default_pack("cn"), cases, args.decisions)
    print(f"baseline (build an allowed answer): {baseline:,.0f}/s")
    for pack_id in ("cn", "us"):
        per_second, outcomes = rate(decide, default_pack(pack_id), cases, args.decisions)
        mix = ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
        verdict = "ok" if per_second >= 50_000 else "BELOW TARGET"
        print(
            f"pack {pack_id}: {per_second:,.0f} decisions/s ({mix}) target >= 50,000/s: {verdict}"
        )


if __name__ == "__main__":
    main()
