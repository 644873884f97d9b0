"""Integer-paisa rules shared by the one-loan and the batch engines.

Every function here accepts Python ints or int64 numpy arrays alike (or only arrays, where
it says so), so both engines round every amount by the very same rule. A period is a pair
(num, den): over it a balance earns balance x rate x num / den, rounded half up, where rate
is the annual rate in rate units (see rate_units).

int64 budget of the batch engine: a balance is at most 2 x 10^9 paisa, a rate at most
MAX_RATE_UNITS (10^6), a period at most 62 days (two months), so balance x rate x days stays
below 1.3 x 10^17; flat_markup splits its product (see there) to stay inside int64 too.
"""

from decimal import Decimal
from fractions import Fraction

import numpy as np
import numpy_financial as npf

from lending.finance.errors import TermsError

RATE_PLACES = 4  # an annual rate is a percentage with up to 4 decimals, e.g. 9.4822
RATE_SCALE = 1_000_000  # rate units in 1.0: one unit is 1/10,000 of a percent
MAX_RATE_UNITS = RATE_SCALE  # 100% a year, the highest rate LoanTerms accepts
DAYS_IN_YEAR = 365

Period = tuple[int, int]


def rate_units(annual_rate: Decimal) -> int:
    """Return an annual rate in percent as exact integer rate units (9.4822 -> 94822)."""
    # Refused rather than rounded: a rate the engines cannot hold exactly is not priced.
    if isinstance(annual_rate, float | bool) or not isinstance(annual_rate, Decimal | int):
        raise TermsError({"annual_rate": ["must be a Decimal (never a float)"]})
    rate, highest = Decimal(annual_rate), MAX_RATE_UNITS // 10**RATE_PLACES
    if not rate.is_finite() or not 0 <= rate <= highest:
        raise TermsError({"annual_rate": [f"must be between 0 and {highest} percent"]})
    units = Fraction(rate) * 10**RATE_PLACES  # exact: no context precision involved
    if units.denominator != 1:
        raise TermsError({"annual_rate": [f"must have at most {RATE_PLACES} decimal places"]})
    return int(units)


def regular_period(per_year: int) -> Period:
    """Return the period of a regular 30/360 instalment: rate / periods per year."""
    return (1, RATE_SCALE * per_year)


def days_period(days: int) -> Period:
    """Return the period of `days` actual days: rate x days / 365."""
    return (days, RATE_SCALE * DAYS_IN_YEAR)


def div_half_up(numerator, denominator):
    """Return numerator / denominator rounded half up (non-negative ints or int64 arrays)."""
    return (2 * numerator + denominator) // (2 * denominator)


def period_profit(balance, rate, period: Period, out: np.ndarray | None = None):
    """Return the profit a balance earns over a period, rounded half up to the paisa."""
    num, den = period
    # den is even (RATE_SCALE is), so adding den // 2 is exactly div_half_up, one op cheaper.
    if out is None:
        return (balance * rate * num + den // 2) // den
    # The same arithmetic in place, for the batch engine's preallocated columns.
    np.multiply(balance, rate, out=out)
    if num != 1:
        out *= num
    out += den // 2
    out //= den
    return out


def flat_weight(period: Period, per_year: int) -> int:
    """Return a period's length in units of 1 / (365 x periods per year) of a year."""
    num, den = period
    return num * RATE_SCALE * DAYS_IN_YEAR * per_year // den


def flat_markup(principal, rate, weight, per_year: int):
    """Return the flat markup on principal for a term of `weight` units (see flat_weight)."""
    # principal x rate x weight can pass 2^63 (2e9 x 1e6 x 44,000), so divide in two exact
    # steps: principal x rate = q x den + r, and the markup is q x weight + r x weight / den.
    den = RATE_SCALE * DAYS_IN_YEAR * per_year
    whole, rest = divmod(principal * rate, den)
    return whole * weight + div_half_up(rest * weight, den)


def unit_share(total, tenor, unit: int):
    """Return total / tenor, up to the next rupee (unit 100) or half up to the paisa (unit 1)."""
    if unit == 1:
        return (2 * total + tenor) // (2 * tenor)
    return (total + unit * tenor - 1) // (unit * tenor) * unit


def level_payment(
    principal: np.ndarray,
    rate: np.ndarray,
    tenor: np.ndarray,
    periods: tuple[Period, ...],
    regular: bool,
) -> np.ndarray:
    """Return the float level instalment (paisa) repaying principal over tenor periods."""
    pv = -principal.astype(np.float64)
    if regular:
        num, den = periods[0]
        return npf.pmt(rate * num / den, tenor, pv)
    # Irregular periods (odd first period, actual/365): the instalment that discounts back
    # to the principal at each period's own rate, i.e. the annuity with varying rates.
    discount = np.ones_like(pv)
    total = np.zeros_like(pv)
    for k, (num, den) in enumerate(periods[: int(tenor.max())]):
        discount = discount / (1.0 + rate * num / den)
        total = total + np.where(k < tenor, discount, 0.0)
    return -pv / total


def instalment_from_float(amount: np.ndarray, unit: int) -> np.ndarray:
    """Return a float instalment (array) as paisa, half up, then up to the rounding unit."""
    # The only float-to-money conversion in the engines: floor(x + 0.5) on the same float
    # from the same function is deterministic, so both engines get the same paisa.
    paisa = np.floor(amount + 0.5).astype(np.int64)
    return (paisa + unit - 1) // unit * unit
