"""The parts of a scorecard: its scale, and attributes whose bands hold the points.

Convention: odds are good:bad and a higher score means a lower risk. The scaling says what a
score means, score = Offset + Factor x ln(odds), with Factor = PDO / ln 2 and
Offset = BaseScore - Factor x ln(BaseOdds): BaseScore sits at BaseOdds and every PDO points
double the odds (600 at 50:1 and PDO 20 put 620 at 100:1 and 580 at 25:1).

Numeric bands are half-open, lower <= value < upper (None is unbounded); a numeric value that
is missing scores the attribute's `missing_points` (an error when the card has none). A
category that no band lists scores `other_points` (an error when the card has none).
"""

import math
from bisect import bisect_right
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from lending.scoring.reasons import ReasonCode


class ScorecardError(ValueError):
    """A scorecard that cannot be read, or a row it cannot score."""


class AttributeKind(StrEnum):
    """How an attribute's value finds its band."""

    NUMERIC = "numeric"
    CATEGORICAL = "categorical"


@dataclass(frozen=True)
class Scaling:
    """Where the score scale sits: base_score at base_odds (good:bad), pdo to double them."""

    base_score: float = 600.0
    base_odds: float = 50.0
    pdo: float = 20.0

    @property
    def factor(self) -> float:
        """Return the points per unit of ln(odds): PDO / ln 2."""
        return self.pdo / math.log(2)

    @property
    def offset(self) -> float:
        """Return the score at odds 1:1: BaseScore - Factor x ln(BaseOdds)."""
        return self.base_score - self.factor * math.log(self.base_odds)

    def score_at(self, odds: float) -> float:
        """Return the score that means these good:bad odds."""
        return self.offset + self.factor * math.log(odds)

    def odds_at(self, score: float) -> float:
        """Return the good:bad odds a score means."""
        return math.exp((score - self.offset) / self.factor)


@dataclass(frozen=True)
class Band:
    """Points for values in [lower, upper) (numeric) or for the listed values (categorical)."""

    points: int
    lower: Decimal | None = None
    upper: Decimal | None = None
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Attribute:
    """One characteristic of the card with its bands; checked on construction."""

    name: str
    kind: AttributeKind
    bands: tuple[Band, ...]
    reason_code: ReasonCode = ReasonCode.SCORE_FACTOR
    missing_points: int | None = None  # numeric: a missing value
    other_points: int | None = None  # categorical: a value no band lists
    _uppers: tuple[Decimal, ...] = field(init=False, repr=False, compare=False)
    _lookup: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", AttributeKind(self.kind))
        object.__setattr__(self, "reason_code", ReasonCode(self.reason_code))
        if not self.bands:
            raise ScorecardError(f"{self.name}: no bands")
        if self.kind is AttributeKind.NUMERIC:
            _check_numeric(self)
        lookup = {value: band.points for band in self.bands for value in band.values}
        if len(lookup) != sum(len(band.values) for band in self.bands):
            raise ScorecardError(f"{self.name}: a category is listed twice")
        object.__setattr__(self, "_uppers", tuple(b.upper for b in self.bands[:-1]))
        object.__setattr__(self, "_lookup", lookup)

    @property
    def best_points(self) -> int:
        """Return the most points any value of this attribute can earn."""
        extra = (self.missing_points, self.other_points)
        return max([b.points for b in self.bands] + [p for p in extra if p is not None])

    def points_for(self, value: object) -> int:
        """Return the points of a value (Decimal, int, str; None or "" is missing)."""
        if self.kind is AttributeKind.CATEGORICAL:
            text = "" if value is None else str(value).strip()
            points = self._lookup.get(text, self.other_points)
            if points is None:
                raise ScorecardError(f"{self.name}: no band for {value!r} and no other_points")
            return points
        number = _number(value, self.name)
        if number is None:
            if self.missing_points is None:
                raise ScorecardError(f"{self.name}: value missing and no missing_points")
            return self.missing_points
        return self.bands[bisect_right(self._uppers, number)].points


def _check_numeric(attribute: Attribute) -> None:
    bands = attribute.bands
    if bands[0].lower is not None or bands[-1].upper is not None:
        raise ScorecardError(f"{attribute.name}: the first and last bands must be open-ended")
    for below, above in zip(bands, bands[1:], strict=False):
        if below.upper is None or below.upper != above.lower:
            raise ScorecardError(f"{attribute.name}: bands must be contiguous")
        if above.upper is not None and above.upper <= above.lower:
            raise ScorecardError(f"{attribute.name}: band bounds must increase")


def _number(value: object, name: str) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, Decimal | int):
        return Decimal(value)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ScorecardError(f"{name}: {value!r} is not a number") from None
    if not number.is_finite():
        raise ScorecardError(f"{name}: {value!r} is not a finite number")
    return number
