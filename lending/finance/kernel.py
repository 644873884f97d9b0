"""Integer-paisa rules shared by the one-loan and the batch engines.

Every function here accepts Python ints or int64 numpy arrays alike (or only arrays, where
it says so), so both engines round every amount by the very same rule. A period is a pair
(num, den): over it a balance earns balance x rate_bp x num / den, rounded half up.
"""

import numpy as np
import numpy_financial as npf

RATE_SCALE = 10_000  # basis points in 1.0
DAYS_IN_YEAR = 365

Period = tuple[int, int]


def regular_period(per_year: int) -> Period:
    """Return the period of a regular 30/360 instalment: rate / periods per year."""
    return (1, RATE_SCALE * per_year)


def days_period(days: int) -> Period:
    """Return the period of `days` actual days: rate x days / 365."""
    return (days, RATE_SCALE * DAYS_IN_YEAR)


def div_half_up(numerator, denominator):
    """Return numerator / denominator rounded half up (non-negative ints or int64 arrays)."""
    return (2 * numerator + denominator) // (2 * denominator)


def period_profit(balance, rate_bp, period: Period, out: np.ndarray | None = None):
    """Return the profit a balance earns over a period, rounded half up to the paisa."""
    num, den = period
    # den is even (RATE_SCALE is), so adding den // 2 is exactly div_half_up, one op cheaper.
    if out is None:
        return (balance * rate_bp * num + den // 2) // den
    # The same arithmetic in place, for the batch engine's preallocated columns.
    np.multiply(balance, rate_bp, out=out)
    if num != 1:
        out *= num
    out += den // 2
    out //= den
    return out


def flat_weight(period: Period, per_year: int) -> int:
    """Return a period's length in units of 1 / (365 x periods per year) of a year."""
    num, den = period
    return num * RATE_SCALE * DAYS_IN_YEAR * per_year // den


def flat_markup(principal, rate_bp, weight: int, per_year: int):
    """Return the flat markup on principal for a term of `weight` units (see flat_weight)."""
    return div_half_up(principal * rate_bp * weight, RATE_SCALE * DAYS_IN_YEAR * per_year)


def unit_share(total, tenor, unit: int):
    """Return total / tenor, up to the next rupee (unit 100) or half up to the paisa (unit 1)."""
    if unit == 1:
        return (2 * total + tenor) // (2 * tenor)
    return (total + unit * tenor - 1) // (unit * tenor) * unit


def level_payment(
    principal: np.ndarray,
    rate_bp: np.ndarray,
    tenor: np.ndarray,
    periods: tuple[Period, ...],
    regular: bool,
) -> np.ndarray:
    """Return the float level instalment (paisa) repaying principal over tenor periods."""
    pv = -principal.astype(np.float64)
    if regular:
        num, den = periods[0]
        return npf.pmt(rate_bp * num / den, tenor, pv)
    # Irregular periods (odd first period, actual/365): the instalment that discounts back
    # to the principal at each period's own rate, i.e. the annuity with varying rates.
    discount = np.ones_like(pv)
    total = np.zeros_like(pv)
    for k, (num, den) in enumerate(periods[: int(tenor.max())]):
        discount = discount / (1.0 + rate_bp * num / den)
        total = total + np.where(k < tenor, discount, 0.0)
    return -pv / total


def instalment_from_float(amount: np.ndarray, unit: int) -> np.ndarray:
    """Return a float instalment (array) as paisa, half up, then up to the rounding unit."""
    # The only float-to-money conversion in the engines: floor(x + 0.5) on the same float
    # from the same function is deterministic, so both engines get the same paisa.
    paisa = np.floor(amount + 0.5).astype(np.int64)
    return (paisa + unit - 1) // unit * unit
