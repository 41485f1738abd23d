"""The simulated bureau and the refresh policy: deterministic, dated by the business date."""

from datetime import UTC, date, datetime
from itertools import pairwise

from monitoring.adapters.bureau_adapter import SimulatedBureau
from monitoring.domain.bureau import RefreshPolicy, report_date


async def test_the_simulated_bureau_answers_the_same_for_the_same_seed_and_date() -> None:
    day = date(2026, 4, 15)
    first = await SimulatedBureau(seed=7, as_of=day).fetch(["B-1", "B-2"])
    again = await SimulatedBureau(seed=7, as_of=day).fetch(["B-1", "B-2"])
    other_seed = await SimulatedBureau(seed=8, as_of=day).fetch(["B-1", "B-2"])
    assert first == again
    assert first != other_seed
    assert [r.borrower_id for r in first] == ["B-1", "B-2"]
    assert all(r.reported_at == datetime(2026, 4, 15, 12, tzinfo=UTC) for r in first)


def test_simulated_reports_are_plausible_and_follow_the_latent_risk() -> None:
    day = date(2026, 4, 15)
    bureau = SimulatedBureau(seed=11, as_of=day)
    borrowers = [f"B-{n}" for n in range(400)]
    by_risk = sorted(borrowers, key=bureau.latent_risk)
    reports = {b: bureau.report(b) for b in borrowers}
    assert all(300 <= r.score <= 850 and r.open_loans >= 1 for r in reports.values())
    safest = sum(reports[b].score for b in by_risk[:100]) / 100
    riskiest = sum(reports[b].score for b in by_risk[-100:]) / 100
    assert safest > riskiest + 100
    assert sum(reports[b].delinquent_accounts for b in by_risk[:100]) == 0


def test_latent_risk_drifts_slowly_with_the_business_date() -> None:
    days = [date(2026, m, 10) for m in range(1, 13)]
    path = [SimulatedBureau(seed=3, as_of=d).latent_risk("B-9") for d in days]
    assert len(set(path)) > 1
    assert all(abs(a - b) < 0.15 for a, b in pairwise(path))


def test_a_report_is_dated_in_the_borrowers_time_zone() -> None:
    at = datetime(2026, 2, 14, 20, tzinfo=UTC)
    assert report_date(at, "Asia/Shanghai") == date(2026, 2, 15)
    assert report_date(at, "America/New_York") == date(2026, 2, 14)


def test_riskier_tiers_are_due_for_a_report_sooner() -> None:
    policy = RefreshPolicy()
    today = date(2026, 5, 1)
    last = date(2026, 4, 16)  # 15 days ago
    assert policy.is_due(None, today)
    assert not policy.is_due(last, today)
    assert policy.is_due(last, today, "D")
    assert not policy.is_due(last, today, "A")
    assert policy.shortest_max_age == 7
