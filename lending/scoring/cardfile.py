"""The scorecard file: JSON that people can read and edit, and that the trainer writes.

    {"format": "lending-scorecard/1", "version": "v1", "description": "...",
     "scaling": {"base_score": 600, "base_odds": 50, "pdo": 20},
     "attributes": [
       {"name": "age", "kind": "numeric", "reason_code": "age_risk",
        "bands": [{"upper": 21, "points": 55}, {"lower": 21, "upper": 25, "points": 63},
                  {"lower": 25, "points": 71}],
        "missing_points": null},
       {"name": "employment_type", "kind": "categorical", "reason_code": "employment_risk",
        "bands": [{"values": ["salaried"], "points": 77}, ...], "other_points": 59}],
     "metadata": {...}}

Numbers are read as Decimal (never float) so band bounds are exact; points are integers.
"""

import json
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from lending.scoring.bands import Attribute, AttributeKind, Band, Scaling, ScorecardError

FORMAT = "lending-scorecard/1"
CONVENTION = "odds = good:bad; higher score = lower risk; score = sum of points"


class CardLike(Protocol):
    version: str
    scaling: Scaling
    attributes: tuple[Attribute, ...]
    description: str
    metadata: Any


def parse_card(text: str) -> dict[str, Any]:
    """Return the Scorecard constructor's arguments read from scorecard JSON."""
    try:
        data = json.loads(text, parse_float=Decimal)
    except ValueError as exc:
        raise ScorecardError(f"the scorecard file is not JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ScorecardError(f"not a scorecard file (format must be {FORMAT!r})")
    try:
        return {
            "version": str(data["version"]),
            "scaling": Scaling(**{k: float(v) for k, v in data["scaling"].items()}),
            "attributes": tuple(_attribute(a) for a in data["attributes"]),
            "description": str(data.get("description", "")),
            "metadata": data.get("metadata") or {},
        }
    except ScorecardError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ScorecardError(f"malformed scorecard: {type(exc).__name__}: {exc}") from None


def _attribute(data: dict) -> Attribute:
    kind = AttributeKind(data["kind"])
    return Attribute(
        name=str(data["name"]),
        kind=kind,
        bands=tuple(_band(b, kind) for b in data["bands"]),
        reason_code=data.get("reason_code", "score_factor"),
        missing_points=_points(data.get("missing_points"), optional=True),
        other_points=_points(data.get("other_points"), optional=True),
    )


def _band(data: dict, kind: AttributeKind) -> Band:
    points = _points(data["points"])
    if kind is AttributeKind.CATEGORICAL:
        return Band(points, values=tuple(str(v) for v in data["values"]))
    return Band(points, lower=_bound(data.get("lower")), upper=_bound(data.get("upper")))


def _points(value: object, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ScorecardError(f"points must be whole numbers, got {value!r}")
    return value


def _bound(value: object) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value)) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise ScorecardError(f"a band bound must be a number, got {value!r}") from None


def card_json(card: CardLike) -> str:
    """Return the card as scorecard JSON (the inverse of parse_card)."""
    document = {
        "format": FORMAT,
        "version": card.version,
        "description": card.description,
        "convention": CONVENTION,
        "scaling": {
            "base_score": card.scaling.base_score,
            "base_odds": card.scaling.base_odds,
            "pdo": card.scaling.pdo,
        },
        "attributes": [_attribute_json(a) for a in card.attributes],
        "metadata": dict(card.metadata),
    }
    return json.dumps(document, indent=2, ensure_ascii=False, default=_metadata_value) + "\n"


def _attribute_json(attribute: Attribute) -> dict[str, Any]:
    document: dict[str, Any] = {
        "name": attribute.name,
        "kind": str(attribute.kind),
        "reason_code": str(attribute.reason_code),
    }
    if attribute.kind is AttributeKind.CATEGORICAL:
        document["bands"] = [
            {"values": list(b.values), "points": b.points} for b in attribute.bands
        ]
        document["other_points"] = attribute.other_points
        return document
    document["bands"] = [_numeric_band_json(b) for b in attribute.bands]
    document["missing_points"] = attribute.missing_points
    return document


def _numeric_band_json(band: Band) -> dict[str, Any]:
    document: dict[str, Any] = {}
    if band.lower is not None:
        document["lower"] = _json_number(band.lower)
    if band.upper is not None:
        document["upper"] = _json_number(band.upper)
    document["points"] = band.points
    return document


def _metadata_value(value: object) -> int | float | str:
    # Metadata read from a file holds Decimal numbers (parse_float); write them back as such.
    if isinstance(value, Decimal):
        return _json_number(value)
    raise TypeError(f"cannot write {type(value).__name__} into a scorecard file")


def _json_number(value: Decimal) -> int | float | str:
    # A JSON number when it reads back as the same Decimal, else the exact text.
    if value == value.to_integral_value():
        return int(value)
    as_float = float(value)
    return as_float if Decimal(repr(as_float)) == value else str(value)
