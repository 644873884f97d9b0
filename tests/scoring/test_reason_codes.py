"""Every reason code can be reached, and every one speaks English and Urdu."""

import re
from datetime import date
from decimal import Decimal

import pytest

from lending.scoring import (
    BureauReport,
    BureauStatus,
    ReasonCode,
    Scaling,
    Scorecard,
    Thresholds,
    decide,
)
from lending.scoring.bands import Attribute, Band
from lending.scoring.reasons import MESSAGES, reason
from tests.scoring.factories import best_facts, facts, policy

ARABIC_SCRIPT = re.compile("[\u0600-\u06ff]")


def _decided(**changes) -> set[ReasonCode]:
    result = decide(facts(**changes), policy(), Scorecard.default(), Thresholds())
    return {r.code for r in result.reasons + result.notices}


def _adverse(**changes) -> set[ReasonCode]:
    # The best applicant loses points on the one changed attribute only.
    return {r.code for r in Scorecard.default().score(best_facts(**changes)).adverse}


def _generic_attribute() -> set[ReasonCode]:
    region = Attribute(
        "region", "categorical", (Band(30, values=("north",)), Band(10, values=("south",)))
    )
    card = Scorecard("t", Scaling(), (region,))
    return {r.code for r in card.score_row({"region": "south"}).adverse}


CASES = {
    ReasonCode.CNIC_INVALID: lambda: _decided(cnic="34201-0891231"),
    ReasonCode.UNDER_AGE: lambda: _decided(date_of_birth=date(2008, 1, 1)),
    ReasonCode.OVER_AGE_AT_MATURITY: lambda: _decided(date_of_birth=date(1960, 1, 1)),
    ReasonCode.IMEI_IN_USE: lambda: _decided(imei_secures_active_loan=True),
    ReasonCode.ACTIVE_LOAN_EXISTS: lambda: _decided(active_financed_phones=1),
    ReasonCode.NO_INCOME: lambda: _decided(monthly_income=Decimal("0")),
    ReasonCode.DBR_ABOVE_CAP: lambda: _decided(monthly_obligations=Decimal("20000")),
    ReasonCode.DOWN_PAYMENT_BELOW_MINIMUM: lambda: _decided(down_payment=Decimal("1000")),
    ReasonCode.PRICE_OUT_OF_RANGE: lambda: _decided(
        device_price=Decimal("900000"), down_payment=Decimal("300000")
    ),
    ReasonCode.TENOR_NOT_ALLOWED: lambda: _decided(tenor=24),
    ReasonCode.BUREAU_OVERDUE_ACCOUNTS: lambda: _decided(
        bureau=BureauReport(status=BureauStatus.OK, overdue_accounts=2)
    ),
    ReasonCode.BUREAU_DELINQUENCY: lambda: _decided(
        bureau=BureauReport(status=BureauStatus.OK, worst_dpd=45)
    ),
    ReasonCode.BUREAU_UNAVAILABLE: lambda: _decided(
        bureau=BureauReport(status=BureauStatus.UNAVAILABLE)
    ),
    ReasonCode.DEVICE_UNKNOWN: lambda: _decided(device_known=False),
    ReasonCode.BUREAU_NOT_CONFIGURED: lambda: _decided(
        bureau=BureauReport(status=BureauStatus.NOT_CONFIGURED)
    ),
    ReasonCode.AGE_RISK: lambda: _adverse(date_of_birth=date(2005, 1, 1)),
    ReasonCode.LOW_INCOME: lambda: _adverse(
        monthly_income=Decimal("90000"),
        device_price=Decimal("80000"),
        down_payment=Decimal("40000"),
    ),
    ReasonCode.HIGH_DBR: lambda: _adverse(monthly_obligations=Decimal("40000")),
    ReasonCode.EMPLOYMENT_RISK: lambda: _adverse(employment_type="daily_wage"),
    ReasonCode.LOW_DOWN_PAYMENT: lambda: _adverse(down_payment=Decimal("15000")),
    ReasonCode.LONG_TENOR: lambda: _adverse(tenor=12, tenor_months=Decimal("12")),
    ReasonCode.HIGH_PRICE_TO_INCOME: lambda: _adverse(
        device_price=Decimal("400000"), down_payment=Decimal("200000")
    ),
    ReasonCode.THIN_HISTORY_WITH_US: lambda: _adverse(past_loans_with_us=0),
    ReasonCode.LATE_PAYMENTS_WITH_US: lambda: _adverse(worst_dpd_with_us=10),
    ReasonCode.SCORE_FACTOR: _generic_attribute,
}


def test_every_code_has_a_case():
    # A new code without a case here fails: add one that triggers it.
    assert set(CASES) == set(ReasonCode)


@pytest.mark.parametrize("code", list(ReasonCode))
def test_code_is_reachable(code):
    assert code in CASES[code]()


@pytest.mark.parametrize("code", list(ReasonCode))
def test_messages_in_english_and_urdu(code):
    made = reason(
        code,
        min_age=18,
        max_age=65,
        dbr="45.00",
        cap="40",
        min_pct="25",
        min_price="10,000",
        max_price="500,000",
        tenor=24,
        allowed="3, 6",
        count=2,
        dpd=45,
        max_dpd=30,
        attribute="region",
    )
    assert made.message("en") == made.message_en and made.message("ur") == made.message_ur
    assert "{" not in made.message_en + made.message_ur
    assert ARABIC_SCRIPT.search(made.message_ur) and not ARABIC_SCRIPT.search(made.message_en)
    assert made.to_dict() == {
        "code": str(code),
        "message": made.message_en,
        "message_ur": made.message_ur,
    }
    assert set(MESSAGES) == set(ReasonCode)


def test_messages_carry_the_figures():
    declined = decide(
        facts(monthly_obligations=Decimal("20000")), policy(), Scorecard.default(), Thresholds()
    )
    dbr = next(r for r in declined.reasons if r.code is ReasonCode.DBR_ABOVE_CAP)
    assert "55.00%" in dbr.message_en and "40%" in dbr.message_en
    assert "55.00%" in dbr.message_ur
    assert reason(ReasonCode.CNIC_INVALID).message_ur == "قومی شناختی کارڈ نمبر درست نہیں۔"
