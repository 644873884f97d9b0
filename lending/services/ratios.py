"""Shares in percent, exact: Decimal in, Decimal out, two places, half up."""

from decimal import ROUND_HALF_UP, Decimal


def percent(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    """part / whole in percent to two places; None when there is no whole."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), ROUND_HALF_UP)
