"""The pure credit-decision engine: eligibility rules, a points scorecard, reason codes.

Plain values in, plain values out: nothing here imports Flask, SQLModel or the database.
The service builds `CreditFacts` and a `Policy`, loads a `Scorecard` once, and calls
`decide(facts, policy, scorecard, thresholds)`.
"""

from lending.scoring.bands import Scaling, ScorecardError
from lending.scoring.decision import DecisionResult, DecisionStatus, check_card, decide
from lending.scoring.facts import BureauReport, BureauStatus, CreditFacts, EmploymentType, Policy
from lending.scoring.features import attributes_of
from lending.scoring.reasons import Reason, ReasonCode
from lending.scoring.rules import RuleOutcome, evaluate
from lending.scoring.scorecard import Scorecard, ScoreResult, Thresholds

__all__ = [
    "BureauReport",
    "BureauStatus",
    "CreditFacts",
    "DecisionResult",
    "DecisionStatus",
    "EmploymentType",
    "Policy",
    "Reason",
    "ReasonCode",
    "RuleOutcome",
    "Scaling",
    "ScoreResult",
    "Scorecard",
    "ScorecardError",
    "Thresholds",
    "attributes_of",
    "check_card",
    "decide",
    "evaluate",
]
