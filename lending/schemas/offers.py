"""The offer document stored on an application: the finance engine's schedule, as JSON.

`OfferSchema` (lending.schemas.quote) describes the document for the OpenAPI spec; this module
writes it directly, because every quote and every application builds one and marshmallow's
field-by-field dump of a 12-row schedule costs more than pricing it. A test holds the two to
the same output for every method, frequency and rounding.
"""

from decimal import ROUND_HALF_UP, Decimal

from lending.finance.schedule import Schedule

CENT = Decimal("0.01")


def _money(value: Decimal) -> str:
    return format(value.quantize(CENT, rounding=ROUND_HALF_UP), "f")


def offer_document(schedule: Schedule) -> dict:
    """A schedule as the CONTRACT's `offer` (amounts as strings with two decimals)."""
    return {
        "financed_amount": _money(schedule.financed_amount),
        "instalment_amount": _money(schedule.instalment_amount),
        "instalments": len(schedule.instalments),
        "frequency": str(schedule.frequency),
        "apr": _money(schedule.apr),
        "total_payable": _money(schedule.total_payable),
        "total_profit": _money(schedule.total_profit),
        "total_fees": _money(schedule.total_fees),
        "upfront_fee": _money(schedule.upfront_fee),
        "method": str(schedule.terms.method),
        "islamic": schedule.terms.islamic,
        "schedule": [
            {
                "n": row.n,
                "due_date": row.due_date.isoformat(),
                "principal": _money(row.principal),
                "profit": _money(row.profit),
                "fee": _money(row.fee),
                "total": _money(row.total),
                "balance_after": _money(row.balance_after),
            }
            for row in schedule.instalments
        ],
    }
