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
    scaled = Decimal(amount).scaleb(2)
    whole = int(scaled)
    if whole == scaled:  # whole paisa already (nearly always): no rounding to do
        return whole
    return int(quantize(Decimal(amount)).scaleb(2))


def to_money(paisa: int) -> Decimal:
    """Return integer paisa as a Decimal rupee amount with two places."""
    return Decimal(int(paisa)).scaleb(-2)  # exactly two places: nothing to round


def decimal_places_ok(value: Decimal, places: int) -> bool:
    """Tell whether value has at most `places` decimal places (no hidden rounding)."""
    return value == value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
