"""The credit decision: hard rules, then referrals, then the score against the cut-offs."""

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from lending.scoring.bands import ScorecardError
from lending.scoring.facts import CreditFacts, Policy
from lending.scoring.features import FACT_ATTRIBUTES
from lending.scoring.reasons import Reason
from lending.scoring.rules import evaluate
from lending.scoring.scorecard import Scorecard, ScoreResult, Thresholds

__all__ = ["DecisionResult", "DecisionStatus", "Thresholds", "check_card", "decide"]


class DecisionStatus(StrEnum):
    """The automatic answer; the values match the application's status."""

    APPROVED = "approved"
    REFERRED = "referred"
    DECLINED = "declined"


@dataclass(frozen=True)
class DecisionResult:
    """An automatic decision, with everything that must be stored beside it."""

    status: DecisionStatus
    score: int | None  # None only when a declined application could not be scored
    points: dict[str, int]  # points per scorecard attribute
    reasons: tuple[Reason, ...]  # declines, then referrals, then up to 3 adverse reasons
    notices: tuple[Reason, ...]  # recorded, decide nothing (e.g. bureau_not_configured)
    scorecard_version: str
    dbr_pct: Decimal | None  # debt burden ratio, percent, 2 places

    def to_record(self) -> dict[str, Any]:
        """Return the decision as JSON-ready values for storage and audit."""
        return {
            "status": str(self.status),
            "score": self.score,
            "points": dict(self.points),
            "reasons": [r.to_dict() for r in self.reasons],
            "notices": [r.to_dict() for r in self.notices],
            "scorecard_version": self.scorecard_version,
            "dbr_pct": None if self.dbr_pct is None else str(self.dbr_pct),
        }


def decide(
    facts: CreditFacts, policy: Policy, scorecard: Scorecard, thresholds: Thresholds
) -> DecisionResult:
    """Decide an application: any decline rule declines, any referral refers, else the score."""
    outcome = evaluate(facts, policy)
    scored = _score(facts, scorecard, must=not outcome.declines)
    if outcome.declines:
        status = DecisionStatus.DECLINED
    elif outcome.referrals:
        status = DecisionStatus.REFERRED
    else:
        status = _status_of(scored.score, thresholds)  # scored: _score raised otherwise
    adverse = scored.adverse if scored else ()
    return DecisionResult(
        status=status,
        score=scored.score if scored else None,
        points=scored.points if scored else {},
        reasons=outcome.declines + outcome.referrals + adverse,
        notices=outcome.notices,
        scorecard_version=scorecard.version,
        dbr_pct=outcome.dbr_pct,
    )


def _score(facts: CreditFacts, scorecard: Scorecard, must: bool) -> ScoreResult | None:
    # A declined application is still scored for the record when its values allow it (a zero
    # income or price leaves ratios undefined); one that passed the rules must be scorable.
    try:
        return scorecard.score(facts)
    except ScorecardError:
        if must:
            raise
        return None


def _status_of(score: int, thresholds: Thresholds) -> DecisionStatus:
    if score >= thresholds.approve:
        return DecisionStatus.APPROVED
    if score >= thresholds.refer:
        return DecisionStatus.REFERRED
    return DecisionStatus.DECLINED


def check_card(scorecard: Scorecard) -> None:
    """Refuse a card that scores attributes the decision engine does not compute."""
    unknown = sorted(set(scorecard.attribute_names) - FACT_ATTRIBUTES)
    if unknown:
        known = ", ".join(sorted(FACT_ATTRIBUTES))
        raise ScorecardError(
            f"scorecard {scorecard.version} uses {', '.join(unknown)}: the decision engine "
            f"computes only {known}"
        )
