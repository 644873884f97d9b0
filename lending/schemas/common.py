"""Field types shared by every schema: money is a string with two decimals, rates up to four."""

from decimal import ROUND_HALF_UP, Decimal

from marshmallow import fields

from lending.finance.kernel import RATE_PLACES
from lending.finance.money import PAISA

Money = fields.Decimal(as_string=True, places=2)


def money(**kwargs) -> fields.Decimal:
    """A money field: exact Decimal in, a string with two decimals out."""
    return fields.Decimal(as_string=True, places=2, **kwargs)


def percent(**kwargs) -> fields.Decimal:
    """A rate in percent, two decimals as a string."""
    return fields.Decimal(as_string=True, places=2, **kwargs)


def rate_text(value: Decimal | int | str, places: int = RATE_PLACES) -> str:
    """A percentage with two decimals, or up to `places` where it has them: 36.00, 9.4822."""
    exact = Decimal(value).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
    two = exact.quantize(PAISA)  # two places, as every other percentage
    return str(two) if exact == two else f"{exact.normalize():f}"


class AnnualRate(fields.Decimal):
    """An annual rate in percent as a string: "36.00" as before, "9.4822" where it has more."""

    def __init__(self, **kwargs):
        super().__init__(as_string=True, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else rate_text(value)
