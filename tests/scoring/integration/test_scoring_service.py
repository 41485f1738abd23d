"""Scoring fed monitoring's events on real NATS and PostgreSQL: scores, reasons, rescoring."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import httpx
import sqlalchemy as sa

from postloan_testing.plugin import eventually
from principals import make_principal, signed
from scoring_events import ZERO, Monitoring, Trained, accepted, applied, bureau, eod
from shared.db import Database
from shared.events import PaymentReallocated, PaymentUndone, make_event

D0 = date(2026, 1, 15)


async def live_champion(scoring: httpx.AsyncClient, trained: Trained) -> None:
    body = trained.upload(trained.champion)
    assert (await scoring.post("/api/v1/scoring/models", json=body)).status_code == 201
    promoted = await scoring.post(
        f"/api/v1/scoring/models/{trained.champion.version}/promote",
        auth=signed(make_principal("risk-lead")),
    )
    assert promoted.status_code == 200, promoted.text


async def score_of(scoring: httpx.AsyncClient, loan_id: str) -> dict[str, Any] | None:
    r = await scoring.get(f"/api/v1/scores/{loan_id}")
    return r.json() if r.status_code == 200 else None


async def test_a_registered_loan_gets_a_score_with_reasons_from_the_champion(
    scoring: httpx.AsyncClient, monitoring: Monitoring, trained: Trained
) -> None:
    await live_champion(scoring, trained)
    await monitoring.publish(accepted("L-1", disbursed_on=D0))

    async def scored() -> bool:
        return await score_of(scoring, "L-1") is not None

    await eventually(scored)
    score = await score_of(scoring, "L-1")
    assert score is not None
    assert score["model_version"] == trained.champion.version
    assert score["tier"] in "ABCDE"
    assert 0 < Decimal(score["pd"]) < 1
    assert len(score["reasons"]) <= 4
    assert all(r["points_lost"] > 0 for r in score["reasons"])
    expected = trained.champion.score(score["features"])
    assert (score["score"], score["tier"]) == (expected.score, expected.tier)


async def test_a_bureau_score_drop_rescores_the_loan_and_announces_it(
    scoring: httpx.AsyncClient, monitoring: Monitoring, trained: Trained
) -> None:
    await live_champion(scoring, trained)
    await monitoring.publish(
        accepted("L-2", disbursed_on=D0), bureau("B-L-2", D0, score=780), eod(D0)
    )

    async def scored() -> bool:
        return await score_of(scoring, "L-2") is not None

    await eventually(scored)
    before = await score_of(scoring, "L-2")
    assert before is not None
    await monitoring.publish(bureau("B-L-2", D0 + timedelta(days=1), score=420, inquiries=9))

    async def dropped() -> bool:
        now = await score_of(scoring, "L-2")
        return now is not None and now["score"] < before["score"]

    await eventually(dropped)
    updates = await monitoring.score_updates()
    mine = [u for u in updates if u["loan_id"] == "L-2"]
    assert len(mine) >= 2
    assert mine[-1]["score"] < mine[0]["score"]
    assert mine[-1]["model_version"] == trained.champion.version


async def test_unknown_loans_and_a_platform_without_champion_get_clear_problems(
    scoring: httpx.AsyncClient, monitoring: Monitoring, trained: Trained
) -> None:
    await monitoring.publish(accepted("L-3", disbursed_on=D0))

    async def known() -> bool:
        return (await scoring.get("/api/v1/scoring/loans/L-3")).status_code == 200

    await eventually(known)
    no_champion = await scoring.get("/api/v1/scores/L-3")
    assert no_champion.status_code == 409
    assert no_champion.headers["content-type"] == "application/problem+json"
    assert "promote" in no_champion.json()["detail"]
    await live_champion(scoring, trained)
    unknown = await scoring.get("/api/v1/scores/NO-SUCH-LOAN")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"


async def test_a_payment_before_its_loan_and_redelivered_events_end_as_in_order(
    scoring: httpx.AsyncClient,
    monitoring: Monitoring,
    trained: Trained,
    scoring_db: Database,
) -> None:
    await live_champion(scoring, trained)
    loan = accepted("L-4", disbursed_on=D0)
    first_due = loan.schedule[0] if loan.schedule else None
    assert first_due is not None
    payment = applied(
        "L-4",
        "P-4",
        first_due.due_on,
        seq=1,
        principal=first_due.principal,
        interest=first_due.interest,
    )
    # Out of order (the payment first), then the same events again under new envelopes.
    await monitoring.publish(payment, loan, payment, loan)

    async def rescored() -> bool:
        async with scoring_db.unit_of_work() as s:
            n = await s.scalar(sa.text("SELECT count(*) FROM score WHERE loan_id = 'L-4'"))
        return bool(n == 1)

    await eventually(rescored)
    async with scoring_db.unit_of_work() as s:
        allocations = await s.scalar(
            sa.text("SELECT count(*) FROM allocation WHERE payment_id = 'P-4'")
        )
    assert allocations == 1
    features = (await scoring.get("/api/v1/scores/L-4/features")).json()["features"]
    assert features["outstanding_ratio"] < 1


async def test_features_rebuilt_as_of_a_past_date_match_what_was_stored_then(
    scoring: httpx.AsyncClient, monitoring: Monitoring, trained: Trained
) -> None:
    await live_champion(scoring, trained)
    loan = accepted("L-5", disbursed_on=D0)
    assert loan.schedule is not None
    await monitoring.publish(loan, bureau("B-L-5", D0, score=700))
    for n, line in enumerate(loan.schedule[:4], start=1):
        late = line.due_on + timedelta(days=10 * n)  # later and later
        await monitoring.publish(
            eod(late - timedelta(days=1)),
            applied("L-5", f"P-5-{n}", late, seq=n, principal=line.principal,
                    interest=line.interest),
            bureau("B-L-5", late, score=700 - 40 * n),
        )  # fmt: skip

        async def scored_on(day: date = late, bureau_score: float = 700.0 - 40 * n) -> bool:
            """Each day's state is stored: the day's last fact (its bureau report) applied too."""
            r = await scoring.get("/api/v1/scores/L-5")
            if r.status_code != 200:
                return False
            body = r.json()
            return bool(
                body["as_of"] == day.isoformat()
                and body["features"]["bureau_score"] == bureau_score
            )

        await eventually(scored_on, timeout=20)
    items = (await scoring.get("/api/v1/scores/L-5/history", params={"limit": 500})).json()
    # Features are as of the close of a business day: the last score of each day stands.
    last_of_day = {i["as_of"]: i for i in reversed(items["items"])}
    assert len(last_of_day) >= 3
    for stored in last_of_day.values():
        rebuilt = await scoring.get(
            "/api/v1/scores/L-5/features", params={"as_of": stored["as_of"]}
        )
        assert rebuilt.json()["features"] == stored["features"], stored["as_of"]


async def test_a_reallocation_moves_what_a_payment_paid_once_and_features_follow(
    scoring: httpx.AsyncClient,
    monitoring: Monitoring,
    trained: Trained,
    scoring_db: Database,
) -> None:
    await live_champion(scoring, trained)
    loan = accepted("L-5", disbursed_on=D0)
    assert loan.schedule is not None
    first, second = loan.schedule[0], loan.schedule[1]
    p1 = applied(
        "L-5", "P-1", first.due_on, seq=1, principal=first.principal, interest=first.interest
    )
    p2 = applied(
        "L-5", "P-2", second.due_on, seq=2, principal=second.principal, interest=second.interest
    )
    moved_on = second.due_on + timedelta(days=10)
    # P-1 bounced: monitoring re-derives P-2 onto the first instalment, so the second is open.
    undone = PaymentUndone(
        payment_id="P-1",
        loan_id="L-5",
        reversed_at=datetime.combine(moved_on, time(9), UTC),
        booked_on=moved_on,
        allocation=p1.allocation,
        outstanding_total=ZERO,
    )
    line = p2.allocation[0]
    moved = PaymentReallocated(
        payment_id="P-2",
        loan_id="L-5",
        booked_on=moved_on,
        allocation=[line.model_copy(update={"seq": 1})],
        previous=[line],
        caused_by="P-1",
    )
    await monitoring.publish(loan, p1, p2, undone)
    event = make_event(moved, source="postloan/monitoring", domain="monitoring")
    await monitoring.publish_event(event)
    await monitoring.publish_event(event, msg_id="again")  # the same envelope: applies once

    async def net_paid() -> dict[int, Decimal]:
        async with scoring_db.unit_of_work() as s:
            rows = await s.execute(
                sa.text("SELECT seq, sum(total) FROM allocation WHERE loan_id = 'L-5' GROUP BY seq")
            )
            return {seq: total for seq, total in rows if total}

    async def moved_in() -> bool:
        return await net_paid() == {1: line.principal + line.interest}

    await eventually(moved_in)
    url = f"/api/v1/scores/L-5/features?as_of={moved_on.isoformat()}"
    features = (await scoring.get(url)).json()["features"]
    # The second instalment is the one overdue now, not the first.
    assert features["dpd_now"] == (moved_on - second.due_on).days


async def test_a_loan_at_60_dpd_is_in_default_pd_1_tier_e_online_in_the_batch_and_events(
    scoring: httpx.AsyncClient, monitoring: Monitoring, trained: Trained
) -> None:
    await live_champion(scoring, trained)
    # First due on 2026-02-15, never paid: 60 days past due on business date 2026-04-16.
    await monitoring.publish(accepted("L-DEF", disbursed_on=D0), eod(date(2026, 4, 15)))

    async def defaulted() -> bool:
        now = await score_of(scoring, "L-DEF")
        return now is not None and now["as_of"] == "2026-04-16" and now["tier"] == "E"

    await eventually(defaulted)
    score = await score_of(scoring, "L-DEF")
    assert score is not None
    assert score["features"]["dpd_now"] == 60
    assert Decimal(score["pd"]) == 1
    assert [r["code"] for r in score["reasons"]] == ["IN_DEFAULT"]
    assert "60 days past due" in score["reasons"][0]["description"]
    assert "60+ DPD" in score["reasons"][0]["description"]

    async def announced() -> bool:
        mine = [u for u in await monitoring.score_updates() if u["loan_id"] == "L-DEF"]
        return bool(mine) and mine[-1]["tier"] == "E"

    await eventually(announced)
    last = [u for u in await monitoring.score_updates() if u["loan_id"] == "L-DEF"][-1]
    assert Decimal(last["pd"]) == 1
    assert last["reasons"][0]["code"] == "IN_DEFAULT"
