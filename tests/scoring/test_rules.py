"""Eligibility rules at their exact boundaries."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from lending.scoring import BureauReport, BureauStatus, ReasonCode, evaluate
from lending.scoring.features import age_on, anniversary
from tests.scoring.factories import facts, policy

DAY = timedelta(days=1)


def declines(f, p=None) -> set[ReasonCode]:
    return {r.code for r in evaluate(f, p or policy()).declines}


def test_clean_applicant_passes_every_rule():
    outcome = evaluate(facts(), policy())
    assert outcome.declines == () and outcome.referrals == () and outcome.notices == ()
    assert outcome.dbr_pct == Decimal("25.00")


@pytest.mark.parametrize("cnic", ["34201-0891231-8", "3420108912318", "42201-0397640-8"])
def test_valid_cnic_passes(cnic):
    assert ReasonCode.CNIC_INVALID not in declines(facts(cnic=cnic))


@pytest.mark.parametrize(
    "cnic",
    ["", "3420108912", "94201-0891231-8", "34201-0891231-0", "ABCDE-0891231-8", "34201-0891231-88"],
)
def test_invalid_cnic_declines(cnic):
    assert ReasonCode.CNIC_INVALID in declines(facts(cnic=cnic))


@pytest.mark.parametrize(
    ("obligations", "declined", "shown"),
    [
        (Decimal("10000"), False, Decimal("40.00")),  # exactly 40.00%: allowed
        (Decimal("10005"), True, Decimal("40.01")),  # 40.01%
        (Decimal("10000.50"), True, Decimal("40.01")),  # 40.001%: above, shown rounded up
        (Decimal("9999.99"), False, Decimal("40.00")),  # 39.99998%: shown rounded up to 40.00
    ],
)
def test_dbr_cap_is_exact(obligations, declined, shown):
    # (obligations + 10,000 instalment) / 50,000 income against the 40% cap.
    f = facts(
        monthly_income=Decimal("50000"),
        monthly_obligations=obligations,
        new_instalment_monthly=Decimal("10000"),
    )
    outcome = evaluate(f, policy())
    assert (ReasonCode.DBR_ABOVE_CAP in {r.code for r in outcome.declines}) is declined
    assert outcome.dbr_pct == shown and outcome.dbr_pct.as_tuple().exponent == -2


def test_dbr_cap_follows_the_policy():
    f = facts(monthly_obligations=Decimal("17500"))  # 50% of 50,000
    assert ReasonCode.DBR_ABOVE_CAP in declines(f)
    assert ReasonCode.DBR_ABOVE_CAP not in declines(f, policy(max_dbr_pct=Decimal("50")))


def test_no_income_declines_without_a_ratio():
    outcome = evaluate(facts(monthly_income=Decimal("0")), policy())
    assert {r.code for r in outcome.declines} == {ReasonCode.NO_INCOME}
    assert outcome.dbr_pct is None


def test_age_18_on_the_birthday():
    born = date(2007, 6, 2)
    assert ReasonCode.UNDER_AGE not in declines(facts(date_of_birth=born))
    assert ReasonCode.UNDER_AGE in declines(facts(date_of_birth=born + DAY))


def test_age_65_at_maturity():
    born = date(1961, 6, 2)  # 65th birthday on 2026-06-02, the maturity
    assert ReasonCode.OVER_AGE_AT_MATURITY not in declines(facts(date_of_birth=born))
    assert ReasonCode.OVER_AGE_AT_MATURITY in declines(facts(date_of_birth=born - DAY))
    later = facts(date_of_birth=born, maturity=date(2026, 6, 3))
    assert ReasonCode.OVER_AGE_AT_MATURITY in declines(later)


def test_leap_day_birthdays_count_from_1_march():
    born = date(2004, 2, 29)
    assert anniversary(born, 18) == date(2022, 3, 1)
    assert age_on(born, date(2022, 2, 28)) == 17 and age_on(born, date(2022, 3, 1)) == 18
    assert age_on(born, date(2024, 2, 29)) == 20
    assert ReasonCode.UNDER_AGE in declines(facts(date_of_birth=born, as_of=date(2022, 2, 28)))
    assert ReasonCode.UNDER_AGE not in declines(facts(date_of_birth=born, as_of=date(2022, 3, 1)))


@pytest.mark.parametrize(
    ("down", "declined"),
    [
        (Decimal("15000.00"), False),  # exactly 25% of 60,000
        (Decimal("14999.99"), True),
        (Decimal("60000"), False),
    ],
)
def test_down_payment_minimum_is_inclusive(down, declined):
    f = facts(device_price=Decimal("60000"), down_payment=down)
    assert (ReasonCode.DOWN_PAYMENT_BELOW_MINIMUM in declines(f)) is declined


def test_down_payment_minimum_with_a_fractional_share():
    p = policy(min_down_payment_pct=Decimal("33.33"))
    assert ReasonCode.DOWN_PAYMENT_BELOW_MINIMUM not in declines(
        facts(device_price=Decimal("30000"), down_payment=Decimal("9999.00")), p
    )
    assert ReasonCode.DOWN_PAYMENT_BELOW_MINIMUM in declines(
        facts(device_price=Decimal("30000"), down_payment=Decimal("9998.99")), p
    )


@pytest.mark.parametrize(
    ("price", "declined"),
    [
        (Decimal("10000"), False),
        (Decimal("9999.99"), True),
        (Decimal("500000"), False),
        (Decimal("500000.01"), True),
    ],
)
def test_price_range_is_inclusive(price, declined):
    f = facts(device_price=price, down_payment=price / 2)
    assert (ReasonCode.PRICE_OUT_OF_RANGE in declines(f)) is declined


def test_price_message_names_the_range():
    outcome = evaluate(facts(device_price=Decimal("5000"), down_payment=Decimal("2500")), policy())
    assert "Rs 10,000 and Rs 500,000" in outcome.declines[0].message_en


def test_tenor_must_be_offered():
    assert ReasonCode.TENOR_NOT_ALLOWED in declines(facts(tenor=10))
    assert ReasonCode.TENOR_NOT_ALLOWED not in declines(facts(tenor=9))


def test_one_phone_at_a_time_and_imei_in_use():
    assert declines(facts(active_financed_phones=1)) == {ReasonCode.ACTIVE_LOAN_EXISTS}
    assert declines(facts(imei_secures_active_loan=True)) == {ReasonCode.IMEI_IN_USE}


@pytest.mark.parametrize(
    ("overdue", "dpd", "expected"),
    [
        (0, 30, set()),
        (1, 0, {ReasonCode.BUREAU_OVERDUE_ACCOUNTS}),
        (0, 31, {ReasonCode.BUREAU_DELINQUENCY}),
        (3, 90, {ReasonCode.BUREAU_OVERDUE_ACCOUNTS, ReasonCode.BUREAU_DELINQUENCY}),
    ],
)
def test_bureau_thresholds(overdue, dpd, expected):
    bureau = BureauReport(status=BureauStatus.OK, overdue_accounts=overdue, worst_dpd=dpd)
    assert declines(facts(bureau=bureau)) == expected


def test_bureau_thresholds_follow_the_policy():
    bureau = BureauReport(status=BureauStatus.OK, overdue_accounts=1, worst_dpd=60)
    lenient = policy(max_bureau_overdue_accounts=1, max_bureau_worst_dpd=60)
    assert declines(facts(bureau=bureau), lenient) == set()


@pytest.mark.parametrize("status", [BureauStatus.UNAVAILABLE, BureauStatus.NOT_CONFIGURED])
def test_bureau_figures_count_only_when_the_bureau_answered(status):
    bureau = BureauReport(status=status, overdue_accounts=5, worst_dpd=120)
    assert declines(facts(bureau=bureau)) == set()


def test_referrals_and_notices():
    outcome = evaluate(
        facts(device_known=False, bureau=BureauReport(status=BureauStatus.UNAVAILABLE)), policy()
    )
    assert [r.code for r in outcome.referrals] == [
        ReasonCode.BUREAU_UNAVAILABLE,
        ReasonCode.DEVICE_UNKNOWN,
    ]
    quiet = evaluate(facts(bureau=BureauReport(status="not_configured")), policy())
    assert quiet.referrals == () and [r.code for r in quiet.notices] == [
        ReasonCode.BUREAU_NOT_CONFIGURED
    ]


def test_money_refuses_floats():
    with pytest.raises(TypeError):
        facts(monthly_income=50000.0)
    with pytest.raises(TypeError):
        policy(max_dbr_pct=40.0)
    assert facts(monthly_income=50000).monthly_income == Decimal("50000")
    with pytest.raises(ValueError):
        facts(employment_type="pilot")
