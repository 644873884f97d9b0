"""A points scorecard: each attribute's value falls in a band worth points; the score is the sum.

The scale and the bands are described in lending.scoring.bands; the file format in
lending.scoring.cardfile. `Scorecard.default()` is the packaged, versioned hand-set card.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from lending.scoring.bands import Attribute, Scaling, ScorecardError
from lending.scoring.cardfile import card_json, parse_card
from lending.scoring.facts import CreditFacts
from lending.scoring.features import attributes_of
from lending.scoring.reasons import Reason, reason

ADVERSE_COUNT = 3
DEFAULT_CARD = "scorecard_v1.json"


@dataclass(frozen=True)
class ScoreResult:
    """A score, the points of each attribute, and the top adverse reasons."""

    score: int
    points: dict[str, int]
    adverse: tuple[Reason, ...]


@dataclass(frozen=True)
class Thresholds:
    """Score cut-offs: approve at or above `approve`, refer at or above `refer`, else decline."""

    approve: int = 620
    refer: int = 560

    def __post_init__(self) -> None:
        if self.refer > self.approve:
            raise ValueError("the refer cut-off must not be above the approve cut-off")


@dataclass(frozen=True)
class Scorecard:
    """A versioned points scorecard."""

    version: str
    scaling: Scaling
    attributes: tuple[Attribute, ...]
    description: str = ""
    metadata: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        names = [a.name for a in self.attributes]
        if not names or len(set(names)) != len(names):
            raise ScorecardError("a scorecard needs attributes with distinct names")

    @classmethod
    def load(cls, path: str | Path) -> "Scorecard":
        """Read a scorecard file (the JSON that `dump` and the trainer write)."""
        return cls(**parse_card(Path(path).read_text(encoding="utf-8")))

    @classmethod
    def default(cls) -> "Scorecard":
        """Return the packaged hand-set card (read once per process)."""
        return _default_card()

    def dump(self, path: str | Path) -> None:
        """Write the card as JSON that `load` reads."""
        Path(path).write_text(card_json(self), encoding="utf-8")

    @property
    def attribute_names(self) -> tuple[str, ...]:
        """Return the names of the card's attributes, in card order."""
        return tuple(a.name for a in self.attributes)

    def score(self, facts: CreditFacts) -> ScoreResult:
        """Score an application through `attributes_of` (the decision engine's row)."""
        return self.score_row(attributes_of(facts))

    def score_row(self, row: Mapping[str, object]) -> ScoreResult:
        """Score a plain row of attribute values (a CSV row, or `attributes_of` output)."""
        points = {a.name: a.points_for(row.get(a.name)) for a in self.attributes}
        return ScoreResult(sum(points.values()), points, self._adverse(points))

    def _adverse(self, points: dict[str, int]) -> tuple[Reason, ...]:
        # The attributes that cost the most points against their own best band; ties keep
        # the card's order, so the same application always gets the same reasons.
        lost = [(a.best_points - points[a.name], i) for i, a in enumerate(self.attributes)]
        worst = sorted((-loss, i) for loss, i in lost if loss > 0)[:ADVERSE_COUNT]
        return tuple(self._reason(self.attributes[i]) for _, i in worst)

    @staticmethod
    def _reason(attribute: Attribute) -> Reason:
        return reason(attribute.reason_code, attribute=attribute.name.replace("_", " "))


@cache
def _default_card() -> Scorecard:
    text = resources.files("lending.scoring").joinpath(DEFAULT_CARD).read_text(encoding="utf-8")
    return Scorecard(**parse_card(text))
