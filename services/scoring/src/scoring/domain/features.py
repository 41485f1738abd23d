"""The behavioural features of a loan on a day, from its history as known at the end of that day.

Days past due follow monitoring's business date: DPD on day ``t`` is ``t`` minus the due date of
the oldest instalment not fully paid as known at the close of ``t`` (0 when there is none), so an
instalment due on ``D`` and unpaid is 1 day past due on business date ``D + 1``, the morning
after, as monitoring's end of day for ``D`` counts it (a payment booked on ``t`` counts here at
once, there at the close of ``t``). An
instalment is fully paid when its allocations, reversals netted, cover its principal and its
``due``. ``total`` also counts penalty, but under the default waterfall (penalty, fees,
interest, then principal) an instalment's principal is paid after the rest of it, and penalty
accrues on principal only, so the test is exact.

An instalment has *fallen due* on ``d`` when its due date is before ``d``: on the due date
itself it can still be paid on time. Windows of "the last N months" are the days ``t`` with
``d − N months < t ≤ d``. Missing means unknown (``None``), never a made-up zero.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from functools import lru_cache
from operator import attrgetter

from scoring.domain.history import Allocation, BureauPoint, Instalment, LoanHistory
from scoring.domain.model import FeatureSpec

BEHAVIOUR_FEATURES: tuple[FeatureSpec, ...] = (
    FeatureSpec("dpd_now", "Days past due now", "ascending"),
    FeatureSpec("max_dpd_3m", "Worst days past due in the last 3 months", "ascending"),
    FeatureSpec("max_dpd_6m", "Worst days past due in the last 6 months", "ascending"),
    FeatureSpec("max_dpd_12m", "Worst days past due in the last 12 months", "ascending"),
    FeatureSpec(
        "missed_instalments", "Instalments not paid in full by their due date", "ascending"
    ),
    FeatureSpec(
        "paid_to_due_3", "Share of the amount due paid on the last 3 instalments", "descending"
    ),
    FeatureSpec(
        "paid_to_due_6", "Share of the amount due paid on the last 6 instalments", "descending"
    ),
    FeatureSpec(
        "paid_to_due_trend",
        "Change in the share paid: last 3 instalments against the 3 before them",
        "descending",
    ),
    # Early months are not clearly riskier or safer across products: let the data decide.
    FeatureSpec("months_on_book", "Months since the loan was disbursed", "auto"),
    FeatureSpec("outstanding_ratio", "Share of the loan's principal still to repay", "ascending"),
    FeatureSpec("bureau_score", "Credit bureau score in the latest report", "descending"),
    FeatureSpec(
        "bureau_score_change",
        "Change in credit bureau score since the previous report",
        "descending",
    ),
    FeatureSpec("inquiries_30d", "Credit inquiries in the last 30 days", "ascending"),
    FeatureSpec(
        "delinquent_accounts_elsewhere", "Overdue accounts with other lenders", "ascending"
    ),
    FeatureSpec("alerts_90d", "Early-warning alerts in the last 90 days", "ascending"),
)

ALERT_WINDOW_DAYS = 90
DPD_WINDOWS_MONTHS = (3, 6, 12)
ZERO = Decimal(0)  # a constant: building Decimal(0) in the hot loop costs more than the adds
_BOOKED = attrgetter("booked_on")
_DUE_ORDER = attrgetter("due_on")
_MONTH_DAYS = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_NONE: tuple[Allocation, ...] = ()

# One instalment as known on a day: its due-date ordinal, ``due``, what was applied to it
# (capped at ``due``, so penalty paid never lifts paid-to-due above 1; on an open instalment it
# cannot be told from contract money), the (first, last) day ordinals on which it was overdue
# and not fully paid, and whether it was missed. A plain tuple: this is the hot path.
_Line = tuple[int, Decimal, Decimal, list[tuple[int, int]], bool]


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (earlier when negative), clamped to the month's end."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    last = 29 if month == 2 and calendar.isleap(year) else _MONTH_DAYS[month]
    return date(year, month, min(day.day, last))


def features_as_of(history: LoanHistory, as_of: date) -> dict[str, float | None]:
    """The loan's :data:`BEHAVIOUR_FEATURES` from the facts known at the close of ``as_of``."""
    lines, repaid = _lines(history, as_of)
    values = _dpd_features(lines, as_of)
    values.update(_repayment_features(lines, as_of.toordinal()))
    values["months_on_book"] = float(_whole_months(history.disbursed_on, as_of))
    values["outstanding_ratio"] = float(history.principal - repaid) / float(history.principal)
    values.update(_bureau_features(history.bureau, as_of))
    values["alerts_90d"] = float(
        sum(1 for a in history.alerts if 0 <= (as_of - a.raised_on).days < ALERT_WINDOW_DAYS)
    )
    return values


def max_dpd_between(history: LoanHistory, start: date, end: date) -> int:
    """The worst DPD on any day from ``start`` to ``end`` inclusive, each day as known then."""
    lines, _ = _lines(history, end)
    return _max_dpd(lines, (start.toordinal(),))[0]


def ended_arrears(history: LoanHistory, as_of: date) -> list[date]:
    """The last overdue day of each spell of arrears that ended before ``as_of``, as known at
    its close (a spell still running on ``as_of`` is not among them)."""
    lines, _ = _lines(history, as_of)
    end = as_of.toordinal()
    return [date.fromordinal(last) for line in lines for _, last in line[3] if last < end]


def _lines(history: LoanHistory, limit: date) -> tuple[list[_Line], Decimal]:
    """Every instalment in due-date order as known at the close of ``limit``, and the principal
    repaid by then."""
    known = [a for a in history.allocations if a.booked_on <= limit]
    known.sort(key=_BOOKED)
    by_seq: dict[int, list[Allocation]] = {}
    origin: dict[str, date] = {}
    repaid = ZERO
    for a in known:
        if a.seq in by_seq:
            by_seq[a.seq].append(a)
        else:
            by_seq[a.seq] = [a]
        if a.payment_id not in origin:  # a payment is booked before its reversal
            origin[a.payment_id] = a.booked_on
        repaid += a.principal
    end = limit.toordinal()
    lines = [
        _line(i, by_seq.get(i.seq, _NONE), origin, end)
        for i in sorted(history.instalments, key=_DUE_ORDER)
    ]
    return lines, repaid


def _line(
    instalment: Instalment, allocations: Sequence[Allocation], origin: dict[str, date], end: int
) -> _Line:
    """Walk one instalment's allocations in booking order, noting when it was open and overdue.

    What was paid in time is what payments booked by the due date applied, net of their
    reversals: a payment that bounces later did not pay the instalment on time.
    """
    due_day, principal, due = instalment.due_on, instalment.principal, instalment.due
    due_on = due_day.toordinal()
    paid_p = paid_t = late_p = late_t = ZERO
    spans: list[tuple[int, int]] = []
    open_from: int | None = due_on
    for a in allocations:
        paid_p += a.principal
        paid_t += a.total
        if origin[a.payment_id] > due_day:
            late_p += a.principal
            late_t += a.total
        covered = paid_t >= due and paid_p >= principal
        if covered and open_from is not None:
            last = a.booked_on.toordinal() - 1
            if last >= open_from:
                spans.append((open_from, last))
            open_from = None
        elif not covered and open_from is None:
            booked = a.booked_on.toordinal()
            open_from = booked if booked > due_on else due_on
    if open_from is not None and end >= open_from:
        spans.append((open_from, end))
    missed = due_on < end and not (paid_t - late_t >= due and paid_p - late_p >= principal)
    return due_on, due, paid_t if paid_t < due else due, spans, missed


def _max_dpd(lines: Sequence[_Line], starts: Sequence[int]) -> list[int]:
    """The worst DPD from each day in ``starts`` (latest first) to the lines' limit.

    DPD on a day is the age of the oldest overdue instalment, so the worst DPD over a window
    is the worst age of any instalment on any of its overdue days in the window: each span is
    worst on its last day, which is in the window when it is not before the window's start.
    """
    worst = [0] * len(starts)
    widest = len(starts) - 1
    for due_on, _, _, spans, _ in lines:
        for _, last in spans:
            age = last - due_on
            k = widest
            while k >= 0 and last >= starts[k]:  # else in no narrower window either
                if age > worst[k]:
                    worst[k] = age
                k -= 1
    return worst


def _dpd_features(lines: Sequence[_Line], as_of: date) -> dict[str, float | None]:
    now, *windows = _max_dpd(lines, _window_starts(as_of))
    values: dict[str, float | None] = {"dpd_now": float(now)}
    for months, worst in zip(DPD_WINDOWS_MONTHS, windows, strict=True):
        values[f"max_dpd_{months}m"] = float(worst)
    return values


@lru_cache(maxsize=256)
def _window_starts(as_of: date) -> tuple[int, ...]:
    """First days (ordinals) of "now" and of each DPD window, latest first.

    Cached: a batch scores many loans on one day, and this date arithmetic is a tenth of the
    cost of a loan.
    """
    windows = (add_months(as_of, -m).toordinal() + 1 for m in DPD_WINDOWS_MONTHS)
    return (as_of.toordinal(), *windows)


def _repayment_features(lines: Sequence[_Line], as_of: int) -> dict[str, float | None]:
    fallen = [line for line in lines if line[0] < as_of]
    last3, last6 = _paid_to_due(fallen[-3:]), _paid_to_due(fallen[-6:])
    before = _paid_to_due(fallen[-6:-3]) if len(fallen) >= 6 else None
    return {
        "missed_instalments": float(sum(1 for line in fallen if line[4])),
        "paid_to_due_3": last3,
        "paid_to_due_6": last6,
        "paid_to_due_trend": None if last3 is None or before is None else last3 - before,
    }


def _paid_to_due(lines: Sequence[_Line]) -> float | None:
    due = paid = ZERO
    for line in lines:
        due += line[1]
        paid += line[2]
    if not due:  # nothing fallen due yet (or only zero lines): no ratio to speak of
        return None
    return float(paid) / float(due)


def _whole_months(start: date, end: date) -> int:
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - 1 if add_months(start, months) > end else months


_NO_BUREAU: dict[str, float | None] = dict.fromkeys(
    ("bureau_score", "bureau_score_change", "inquiries_30d", "delinquent_accounts_elsewhere")
)


def _bureau_features(points: Iterable[BureauPoint], as_of: date) -> dict[str, float | None]:
    """From the latest report known on ``as_of``; the change is against the report before it
    (whatever its age: reports come when the bureau sends them, and a fixed lag would leave
    the change unknown for months after disbursement)."""
    latest: BureauPoint | None = None
    previous: BureauPoint | None = None
    for p in points:  # ties on the day go to the later point, as it arrived later
        if p.reported_on > as_of:
            continue
        if latest is None or p.reported_on >= latest.reported_on:
            latest, previous = p, latest
        elif previous is None or p.reported_on >= previous.reported_on:
            previous = p
    if latest is None:
        return dict(_NO_BUREAU)
    return {
        "bureau_score": float(latest.score),
        "bureau_score_change": None if previous is None else float(latest.score - previous.score),
        "inquiries_30d": float(latest.inquiries_30d),
        "delinquent_accounts_elsewhere": float(latest.delinquent_accounts),
    }
