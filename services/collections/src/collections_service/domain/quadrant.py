"""Ability × willingness to pay: the quadrant a strategy segment can select on (BRIEF section 6).

*Ability* is read from the credit bureau and the risk tier: a bureau score that holds up, debt
that is not out of proportion, no delinquency elsewhere, a tier that is not the worst. *Willingness*
is read from behaviour with collections: promises kept, answered contacts, partial payments,
payment after a reminder. Each side is a share of its signals that are favourable; the side is
"able" / "willing" when that share reaches the threshold. Thresholds are data
(:class:`QuadrantThresholds`) and the answer carries every input, so a case can show why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

_HALF = Decimal("0.5")


@dataclass(frozen=True, slots=True)
class QuadrantThresholds:
    """Configurable limits; the defaults are a starting point to tune on the portfolio."""

    min_bureau_score: int = 600
    max_score_drop: int = 50
    max_debt_to_principal: Decimal = Decimal(5)
    unable_tiers: frozenset[str] = field(default_factory=lambda: frozenset({"E"}))
    min_promises_kept: Decimal = _HALF
    min_contact_answer_rate: Decimal = Decimal("0.3")
    able_share: Decimal = _HALF
    willing_share: Decimal = _HALF


@dataclass(frozen=True, slots=True)
class Ability:
    """The borrower's capacity to pay, as collections last heard it (None: not known)."""

    bureau_score: int | None = None
    bureau_score_before: int | None = None
    total_debt: Decimal | None = None
    principal: Decimal | None = None
    delinquent_elsewhere: int | None = None
    tier: str | None = None


@dataclass(frozen=True, slots=True)
class Willingness:
    """The borrower's behaviour with collections so far (counts; zero means not yet seen)."""

    promises_made: int = 0
    promises_kept: int = 0
    contacts_made: int = 0
    contacts_answered: int = 0
    partial_payments: int = 0
    paid_after_reminder: int = 0


@dataclass(frozen=True, slots=True)
class Quadrant:
    quadrant: str
    able: bool
    willing: bool
    signals: dict[str, bool]  # each signal considered and whether it was favourable


def _ability_signals(a: Ability, t: QuadrantThresholds) -> dict[str, bool]:
    signals: dict[str, bool] = {}
    if a.bureau_score is not None:
        signals["bureau_score"] = a.bureau_score >= t.min_bureau_score
        if a.bureau_score_before is not None:
            signals["bureau_score_change"] = (
                a.bureau_score_before - a.bureau_score <= t.max_score_drop
            )
    if a.total_debt is not None and a.principal:
        signals["total_debt"] = a.total_debt / a.principal <= t.max_debt_to_principal
    if a.delinquent_elsewhere is not None:
        signals["no_delinquency_elsewhere"] = a.delinquent_elsewhere == 0
    if a.tier is not None:
        signals["tier"] = a.tier not in t.unable_tiers
    return signals


def _willingness_signals(w: Willingness, t: QuadrantThresholds) -> dict[str, bool]:
    signals: dict[str, bool] = {}
    if w.promises_made:
        signals["promises_kept"] = Decimal(w.promises_kept) / w.promises_made >= t.min_promises_kept
    if w.contacts_made:
        rate = Decimal(w.contacts_answered) / w.contacts_made
        signals["answers_contacts"] = rate >= t.min_contact_answer_rate
    if w.partial_payments:
        signals["partial_payments"] = True
    if w.paid_after_reminder:
        signals["paid_after_reminder"] = True
    return signals


def _favourable(signals: dict[str, bool], share: Decimal) -> bool:
    """With no signal at all the benefit of the doubt goes to the borrower."""
    if not signals:
        return True
    return Decimal(sum(signals.values())) / len(signals) >= share


def quadrant(
    ability: Ability, willingness: Willingness, thresholds: QuadrantThresholds | None = None
) -> Quadrant:
    """The borrower's quadrant, with the signals that decided it."""
    t = thresholds or QuadrantThresholds()
    able_signals = _ability_signals(ability, t)
    willing_signals = _willingness_signals(willingness, t)
    able = _favourable(able_signals, t.able_share)
    willing = _favourable(willing_signals, t.willing_share)
    name = f"{'able' if able else 'unable'}_{'willing' if willing else 'unwilling'}"
    signals = {f"ability.{k}": v for k, v in able_signals.items()}
    signals |= {f"willingness.{k}": v for k, v in willing_signals.items()}
    return Quadrant(name, able, willing, signals)


def thresholds_from(values: dict[str, object]) -> QuadrantThresholds:
    """Thresholds from configuration (``POSTLOAN_QUADRANT_THRESHOLDS``, JSON); every key left
    out keeps its default. A ValueError names each unknown key or bad value."""
    defaults = QuadrantThresholds()
    problems: list[str] = []
    chosen: dict[str, object] = {}
    for key, value in values.items():
        if not hasattr(defaults, key):
            problems.append(f"{key}: unknown threshold")
            continue
        try:
            chosen[key] = _as_type(getattr(defaults, key), value)
        except (ValueError, TypeError, ArithmeticError):
            problems.append(f"{key}: {value!r} is not a {type(getattr(defaults, key)).__name__}")
    if problems:
        raise ValueError("; ".join(problems))
    return QuadrantThresholds(**chosen)  # type: ignore[arg-type]


def _as_type(default: object, value: object) -> object:
    if isinstance(default, frozenset):
        if not isinstance(value, list):
            raise TypeError("a list")
        return frozenset(str(v) for v in value)
    if isinstance(default, Decimal):
        return Decimal(str(value))
    if isinstance(default, int) and not isinstance(value, bool):
        return int(str(value))
    raise TypeError("unsupported")
