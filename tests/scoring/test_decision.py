"""The decision: declines first, then referrals, then the score against the cut-offs."""

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lending.scoring import (
    BureauReport,
    BureauStatus,
    DecisionStatus,
    ReasonCode,
    Scaling,
    Scorecard,
    ScorecardError,
    Thresholds,
    check_card,
    decide,
)
from lending.scoring.bands import Attribute, Band
from tests.scoring.factories import best_facts, facts, policy

CARD = Scorecard.default()


def codes(reasons) -> list[ReasonCode]:
    return [r.code for r in reasons]


@pytest.mark.parametrize(
    ("thresholds", "status"),
    [
        (Thresholds(approve=629, refer=560), DecisionStatus.APPROVED),  # 629 is at the cut-off
        (Thresholds(approve=630, refer=629), DecisionStatus.REFERRED),
        (Thresholds(approve=640, refer=630), DecisionStatus.DECLINED),
    ],
)
def test_score_against_the_cut_offs(thresholds, status):
    result = decide(facts(), policy(), CARD, thresholds)
    assert result.status is status and result.score == 629
    assert result.scorecard_version == "v1" and result.dbr_pct == Decimal("25.00")
    assert codes(result.reasons) == [
        ReasonCode.THIN_HISTORY_WITH_US,
        ReasonCode.HIGH_DBR,
        ReasonCode.LOW_INCOME,
    ]


def test_default_thresholds():
    assert Thresholds() == Thresholds(approve=620, refer=560)
    with pytest.raises(ValueError):
        Thresholds(approve=500, refer=560)


def test_bureau_unavailable_refers_even_a_top_score():
    result = decide(
        best_facts(bureau=BureauReport(status=BureauStatus.UNAVAILABLE)),
        policy(),
        CARD,
        Thresholds(),
    )
    assert result.score == 715 and result.status is DecisionStatus.REFERRED
    assert codes(result.reasons) == [ReasonCode.BUREAU_UNAVAILABLE]


def test_unknown_device_refers():
    result = decide(best_facts(device_known=False), policy(), CARD, Thresholds())
    assert result.status is DecisionStatus.REFERRED
    assert codes(result.reasons) == [ReasonCode.DEVICE_UNKNOWN]


def test_bureau_not_configured_says_so_and_decides_on_the_score():
    result = decide(
        best_facts(bureau=BureauReport(status=BureauStatus.NOT_CONFIGURED)),
        policy(),
        CARD,
        Thresholds(),
    )
    assert result.status is DecisionStatus.APPROVED
    assert codes(result.notices) == [ReasonCode.BUREAU_NOT_CONFIGURED]
    record = result.to_record()
    assert record["notices"][0]["code"] == "bureau_not_configured"
    assert "without a credit bureau report" in record["notices"][0]["message"]


def test_a_decline_outranks_referrals_and_is_still_scored():
    f = best_facts(
        active_financed_phones=1,
        device_known=False,
        bureau=BureauReport(status=BureauStatus.UNAVAILABLE),
    )
    result = decide(f, policy(), CARD, Thresholds())
    assert result.status is DecisionStatus.DECLINED and result.score == 715
    assert codes(result.reasons) == [
        ReasonCode.ACTIVE_LOAN_EXISTS,
        ReasonCode.BUREAU_UNAVAILABLE,
        ReasonCode.DEVICE_UNKNOWN,
    ]


def test_reasons_order_declines_referrals_adverse():
    f = facts(tenor=10, device_known=False)
    result = decide(f, policy(), CARD, Thresholds())
    assert codes(result.reasons) == [
        ReasonCode.TENOR_NOT_ALLOWED,
        ReasonCode.DEVICE_UNKNOWN,
        ReasonCode.THIN_HISTORY_WITH_US,
        ReasonCode.HIGH_DBR,
        ReasonCode.LOW_INCOME,
    ]


def test_an_unscorable_decline_records_no_score():
    result = decide(facts(monthly_income=Decimal("0")), policy(), CARD, Thresholds())
    assert result.status is DecisionStatus.DECLINED
    assert result.score is None and result.points == {} and result.dbr_pct is None
    assert codes(result.reasons) == [ReasonCode.NO_INCOME]


def test_to_record_is_plain_json():
    record = decide(facts(), policy(), CARD, Thresholds()).to_record()
    assert record["status"] == "approved" and record["score"] == 629
    assert record["dbr_pct"] == "25.00" and record["points"]["age"] == 71
    assert record["reasons"][0] == {
        "code": "thin_history_with_us",
        "message": "Few or no loans repaid with us.",
        "message_ur": "ہمارے ساتھ پہلے کم یا کوئی قرض ادا نہیں ہوا۔",
    }


def test_check_card_refuses_attributes_the_engine_does_not_compute():
    check_card(CARD)
    region = Attribute("region", "categorical", (Band(1, values=("north",)),), other_points=0)
    foreign = replace(CARD, attributes=(*CARD.attributes, region))
    with pytest.raises(ScorecardError, match="region"):
        check_card(foreign)
    with pytest.raises(ScorecardError):  # an eligible application must be scorable
        decide(
            facts(),
            policy(),
            Scorecard("r", Scaling(), (replace(region, other_points=None),)),
            Thresholds(),
        )


money = st.integers(min_value=0, max_value=300_000).map(Decimal)


@settings(max_examples=200, deadline=None)
@given(
    income=money,
    obligations=money,
    down=money,
    unknown=st.booleans(),
    bureau=st.sampled_from(list(BureauStatus)),
)
def test_status_follows_rules_then_score(income, obligations, down, unknown, bureau):
    f = facts(
        monthly_income=income,
        monthly_obligations=obligations,
        down_payment=down,
        device_known=not unknown,
        bureau=BureauReport(status=bureau),
    )
    result = decide(f, policy(), CARD, Thresholds())
    adverse = [r for r in result.reasons if r.code in _ADVERSE]
    assert isinstance(result.reasons, tuple) and len(adverse) <= 3
    hard = [r for r in result.reasons if r.code in _HARD]
    if hard:
        assert result.status is DecisionStatus.DECLINED
    elif unknown or bureau is BureauStatus.UNAVAILABLE:
        assert result.status is DecisionStatus.REFERRED
    else:
        assert result.score is not None
        assert (result.status is DecisionStatus.APPROVED) == (result.score >= 620)
    assert (bureau is BureauStatus.NOT_CONFIGURED) == bool(result.notices)


_ADVERSE = {a.reason_code for a in CARD.attributes}
_HARD = {ReasonCode.NO_INCOME, ReasonCode.DBR_ABOVE_CAP, ReasonCode.DOWN_PAYMENT_BELOW_MINIMUM}
