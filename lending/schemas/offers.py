"""The offer document stored on an application: the finance engine's schedule, as JSON."""

from lending.finance.schedule import Schedule
from lending.schemas.quote import OfferSchema

_OFFER = OfferSchema()


def offer_document(schedule: Schedule) -> dict:
    """Dump a schedule as the CONTRACT's `offer` (amounts as strings with two decimals)."""
    return _OFFER.dump(schedule)
