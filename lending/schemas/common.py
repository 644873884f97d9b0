"""Field types shared by every schema: money is a string with two decimals."""

from marshmallow import fields

Money = fields.Decimal(as_string=True, places=2)


def money(**kwargs) -> fields.Decimal:
    """A money field: exact Decimal in, a string with two decimals out."""
    return fields.Decimal(as_string=True, places=2, **kwargs)


def percent(**kwargs) -> fields.Decimal:
    """A rate in percent, two decimals as a string."""
    return fields.Decimal(as_string=True, places=2, **kwargs)
