"""The points scorecard: scaling, bands, the packaged card, and the file format."""

import json
import math
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lending.scoring import EmploymentType, ReasonCode, Scaling, Scorecard, ScorecardError
from lending.scoring.bands import Attribute, Band
from lending.scoring.features import ATTRIBUTE_REASONS, attributes_of
from tests.scoring.factories import best_facts, facts


def test_scaling_factor_and_offset():
    scaling = Scaling(base_score=600, base_odds=50, pdo=20)
    assert scaling.factor == pytest.approx(20 / math.log(2))  # 28.8539
    assert scaling.offset == pytest.approx(600 - 28.85390082 * math.log(50))  # 487.1229
    assert scaling.score_at(50) == pytest.approx(600)


@pytest.mark.parametrize(("odds", "score"), [(100, 620), (200, 640), (25, 580), (12.5, 560)])
def test_every_pdo_points_double_the_odds(odds, score):
    scaling = Scaling(base_score=600, base_odds=50, pdo=20)
    assert scaling.score_at(odds) == pytest.approx(score)
    assert scaling.odds_at(score) == pytest.approx(odds)


def test_default_card_is_versioned_and_scaled():
    card = Scorecard.default()
    assert card.version == "v1" and Scorecard.default() is card  # read once
    assert card.scaling == Scaling(600, 50, 20)
    assert set(card.attribute_names) == set(ATTRIBUTE_REASONS)
    for attribute in card.attributes:
        assert attribute.reason_code is ATTRIBUTE_REASONS[attribute.name]


def test_hand_computed_score():
    # age 30 -> [25,35) 71; income 50,000 -> [40k,60k) 69; DBR 25.00 -> [20,30) 69;
    # salaried 77; down 18,000/60,000 = 30.00% -> [30,40) 67 (lower bound included);
    # 12 months -> [10,13) 65; price/income 1.20 -> [1,2) 73; no loans with us -> 63;
    # worst DPD 0 -> 75. Sum: 629.
    result = Scorecard.default().score(facts())
    assert result.points == {
        "age": 71,
        "monthly_income": 69,
        "dbr_pct": 69,
        "employment_type": 77,
        "down_payment_pct": 67,
        "tenor_months": 65,
        "price_to_income": 73,
        "past_loans_with_us": 63,
        "worst_dpd_with_us": 75,
    }
    assert result.score == 629 == sum(result.points.values())
    # Losses against each best band: history 18, DBR 16, income 14 (then tenor 12...).
    assert [r.code for r in result.adverse] == [
        ReasonCode.THIN_HISTORY_WITH_US,
        ReasonCode.HIGH_DBR,
        ReasonCode.LOW_INCOME,
    ]


def test_best_applicant_has_no_adverse_reason():
    result = Scorecard.default().score(best_facts())
    card = Scorecard.default()
    assert result.score == sum(a.best_points for a in card.attributes) == 715
    assert result.adverse == ()


def test_attributes_of_an_application():
    row = attributes_of(facts())
    assert row == {
        "age": Decimal(30),
        "monthly_income": Decimal("50000"),
        "dbr_pct": Decimal("25.00"),
        "employment_type": "salaried",
        "down_payment_pct": Decimal("30.00"),
        "tenor_months": Decimal("12"),
        "price_to_income": Decimal("1.20"),
        "past_loans_with_us": Decimal(0),
        "worst_dpd_with_us": Decimal(0),
    }


def test_band_bounds_lower_inclusive_upper_exclusive():
    card = Scorecard.default()
    income = next(a for a in card.attributes if a.name == "monthly_income")
    assert income.points_for(Decimal("24999.99")) == 51
    assert income.points_for(Decimal("25000")) == 61
    assert income.points_for("25000") == 61 and income.points_for(100000) == 83


def test_unknown_category_and_missing_value():
    card = Scorecard.default()
    employment = next(a for a in card.attributes if a.name == "employment_type")
    assert employment.points_for("astronaut") == employment.other_points == 59
    with pytest.raises(ScorecardError, match="missing"):
        card.score_row({**attributes_of(facts()), "dbr_pct": None})


def test_score_row_takes_csv_text():
    row = {k: str(v) for k, v in attributes_of(facts()).items()}
    assert Scorecard.default().score_row(row).score == 629


def test_dump_and_load_round_trip(tmp_path):
    path = tmp_path / "card.json"
    Scorecard.default().dump(path)
    loaded = Scorecard.load(path)
    assert loaded == Scorecard.default() and loaded.metadata == Scorecard.default().metadata
    assert loaded.score(facts()).score == 629


def _card_json(**changes) -> str:
    document = {
        "format": "lending-scorecard/1",
        "version": "x",
        "scaling": {"base_score": 600, "base_odds": 50, "pdo": 20},
        "attributes": [
            {
                "name": "age",
                "kind": "numeric",
                "reason_code": "age_risk",
                "bands": [{"upper": 30, "points": 10}, {"lower": 30, "points": 20}],
            }
        ],
    }
    document.update(changes)
    return json.dumps(document)


def test_a_minimal_card_file(tmp_path):
    path = tmp_path / "card.json"
    path.write_text(_card_json())
    card = Scorecard.load(path)
    assert card.score_row({"age": "29.5"}).score == 10
    assert card.score_row({"age": 30}).score == 20
    assert card.score_row({"age": 29}).adverse[0].code is ReasonCode.AGE_RISK


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        _card_json(format="other"),
        _card_json(attributes=[]),
        _card_json(
            attributes=[
                {
                    "name": "age",
                    "kind": "numeric",
                    "bands": [{"upper": 30, "points": 10}, {"lower": 31, "points": 20}],
                }
            ]
        ),  # a gap
        _card_json(
            attributes=[
                {
                    "name": "age",
                    "kind": "numeric",
                    "bands": [{"upper": 30, "points": 10.5}, {"lower": 30, "points": 20}],
                }
            ]
        ),  # fractional points
        _card_json(
            attributes=[
                {"name": "age", "kind": "numeric", "reason_code": "nope", "bands": [{"points": 1}]}
            ]
        ),
        _card_json(attributes=[{"name": "age", "kind": "ordinal", "bands": [{"points": 1}]}]),
        _card_json(
            attributes=[
                {
                    "name": "job",
                    "kind": "categorical",
                    "bands": [{"values": ["a"], "points": 1}, {"values": ["a"], "points": 2}],
                }
            ]
        ),
        _card_json(scaling=None),
    ],
)
def test_malformed_cards_are_refused(tmp_path, text):
    path = tmp_path / "card.json"
    path.write_text(text)
    with pytest.raises(ScorecardError):
        Scorecard.load(path)


def test_fractional_bounds_survive_the_file(tmp_path):
    bands = (
        Band(1, upper=Decimal("0.1")),
        Band(2, lower=Decimal("0.1"), upper=Decimal("2.123456789012345678")),
        Band(3, lower=Decimal("2.123456789012345678")),
    )
    card = Scorecard("f", Scaling(), (Attribute("x", "numeric", bands),))
    card.dump(tmp_path / "f.json")
    assert Scorecard.load(tmp_path / "f.json") == card


incomes = st.integers(min_value=20_000, max_value=400_000)
shares = st.integers(min_value=0, max_value=60)  # obligations as percent of income


@settings(max_examples=200, deadline=None)
@given(
    income=incomes,
    first=shares,
    second=shares,
    employment=st.sampled_from(list(EmploymentType)),
    age=st.integers(min_value=18, max_value=60),
    months=st.sampled_from([3, 6, 9, 12, 18]),
    past=st.integers(min_value=0, max_value=4),
    dpd=st.integers(min_value=0, max_value=90),
)
def test_score_never_rises_with_dbr(income, first, second, employment, age, months, past, dpd):
    low, high = sorted((first, second))

    def scored(share: int):
        return Scorecard.default().score(
            facts(
                monthly_income=Decimal(income),
                monthly_obligations=Decimal(income * share) / 100,
                date_of_birth=date(2025 - age, 1, 1),
                employment_type=employment,
                tenor_months=Decimal(months),
                past_loans_with_us=past,
                worst_dpd_with_us=dpd,
            )
        )

    better, worse = scored(low), scored(high)
    assert better.score >= worse.score
    for result in (better, worse):
        assert isinstance(result.adverse, tuple) and len(result.adverse) <= 3
        assert {r.code for r in result.adverse} <= set(ATTRIBUTE_REASONS.values())
