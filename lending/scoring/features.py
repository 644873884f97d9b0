"""Quantities derived from the facts: ages, the debt burden ratio, and the scorecard's inputs.

`attributes_of(facts)` is the row the decision engine scores. A trained scorecard can be used
for decisions only if its attributes are among these names, so a training CSV meant for the
decision engine must have these columns (values as `attributes_of` computes them):

  age                 completed years on the application date
  monthly_income      net rupees a month
  dbr_pct             (obligations + new instalment) / income, percent, 2 places (rounded up)
  employment_type     salaried | self_employed | freelancer | daily_wage | other
  down_payment_pct    down payment / price, percent, 2 places
  tenor_months        the loan's length in months
  price_to_income     price / monthly income, 2 places
  past_loans_with_us  closed or settled loans with us
  worst_dpd_with_us   worst days past due on those loans
"""

from datetime import date
from decimal import ROUND_HALF_UP, ROUND_UP, Decimal

from lending.scoring.facts import CreditFacts
from lending.scoring.reasons import ReasonCode

HUNDREDTH = Decimal("0.01")

# The adverse reason each attribute reports when it costs the applicant points.
ATTRIBUTE_REASONS: dict[str, ReasonCode] = {
    "age": ReasonCode.AGE_RISK,
    "monthly_income": ReasonCode.LOW_INCOME,
    "dbr_pct": ReasonCode.HIGH_DBR,
    "employment_type": ReasonCode.EMPLOYMENT_RISK,
    "down_payment_pct": ReasonCode.LOW_DOWN_PAYMENT,
    "tenor_months": ReasonCode.LONG_TENOR,
    "price_to_income": ReasonCode.HIGH_PRICE_TO_INCOME,
    "past_loans_with_us": ReasonCode.THIN_HISTORY_WITH_US,
    "worst_dpd_with_us": ReasonCode.LATE_PAYMENTS_WITH_US,
}
FACT_ATTRIBUTES = frozenset(ATTRIBUTE_REASONS)


def anniversary(born: date, years: int) -> date:
    """Return the date `years` after born; a 29 February birthday falls on 1 March."""
    try:
        return born.replace(year=born.year + years)
    except ValueError:  # 29 February in a common year: the age is reached the next day
        return date(born.year + years, 3, 1)


def age_on(born: date, day: date) -> int:
    """Return the completed years of someone born on `born`, on `day`."""
    years = day.year - born.year
    return years if day >= anniversary(born, years) else years - 1


def monthly_burden(facts: CreditFacts) -> Decimal:
    """Return the existing obligations plus the new instalment, rupees a month."""
    return facts.monthly_obligations + facts.new_instalment_monthly


def dbr_exceeds(facts: CreditFacts, cap_pct: Decimal) -> bool:
    """Tell whether the debt burden ratio is above cap_pct percent, exactly (no division)."""
    return monthly_burden(facts) * 100 > cap_pct * facts.monthly_income


def dbr_pct(facts: CreditFacts) -> Decimal | None:
    """Return the debt burden ratio in percent, 2 places; None without a positive income."""
    if facts.monthly_income <= 0:
        return None
    # Rounded up so that a ratio above a two-place cap never shows as the cap itself.
    return (monthly_burden(facts) * 100 / facts.monthly_income).quantize(HUNDREDTH, ROUND_UP)


def _ratio(numerator: Decimal, denominator: Decimal, scale: int = 1) -> Decimal | None:
    if denominator <= 0:
        return None
    return (numerator * scale / denominator).quantize(HUNDREDTH, ROUND_HALF_UP)


def attributes_of(facts: CreditFacts) -> dict[str, Decimal | str | None]:
    """Return the scorecard row of an application (None where a ratio is undefined)."""
    return {
        "age": Decimal(age_on(facts.date_of_birth, facts.as_of)),
        "monthly_income": facts.monthly_income,
        "dbr_pct": dbr_pct(facts),
        "employment_type": str(facts.employment_type),
        "down_payment_pct": _ratio(facts.down_payment, facts.device_price, 100),
        "tenor_months": facts.tenor_months,
        "price_to_income": _ratio(facts.device_price, facts.monthly_income),
        "past_loans_with_us": Decimal(facts.past_loans_with_us),
        "worst_dpd_with_us": Decimal(facts.worst_dpd_with_us),
    }
