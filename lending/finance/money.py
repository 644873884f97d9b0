"""Money as Decimal rupees outside, integer paisa inside: the only two conversions."""

from decimal import ROUND_HALF_UP, Decimal

PAISA = Decimal("0.01")
ZERO = Decimal("0.00")


def quantize(amount: Decimal) -> Decimal:
    """Return the amount quantised to paisa, ROUND_HALF_UP."""
    return amount.quantize(PAISA, rounding=ROUND_HALF_UP)


def to_paisa(amount: Decimal) -> int:
    """Return a Decimal rupee amount as integer paisa (rounded half up)."""
    if type(amount) is Decimal and not amount:  # zero: most paid parts (a replay's hot path)
        return 0
    if isinstance(amount, float):
        # A float amount is a bug upstream: refuse it instead of guessing its paisa.
        raise TypeError("money must be Decimal, not float")
    # One path for whole and fractional paisa (a separate fast path for whole paisa was no
    # faster, and a mutation test cannot tell it from the slow one).
    return int(Decimal(amount).scaleb(2).to_integral_value(rounding=ROUND_HALF_UP))


def to_money(paisa: int) -> Decimal:
    """Return integer paisa as a Decimal rupee amount with two places."""
    return Decimal(int(paisa)).scaleb(-2)  # exactly two places: nothing to round


def decimal_places_ok(value: Decimal, places: int) -> bool:
    """Tell whether value has at most `places` decimal places (no hidden rounding)."""
    return value == round(value, places)  # equal exactly when the dropped digits are zero
