"""The offer document is written by hand for speed: it must match OfferSchema's dump exactly."""

import json

from finance_strategies import any_terms
from hypothesis import given, settings

from lending.finance.schedule import build_schedule
from lending.schemas.offers import offer_document
from lending.schemas.quote import OfferSchema


@settings(max_examples=200, deadline=None)
@given(any_terms())
def test_offer_document_is_what_the_documented_schema_dumps(loan):
    schedule = build_schedule(loan)
    written, dumped = offer_document(schedule), OfferSchema().dump(schedule)
    assert written == dumped
    assert json.dumps(written) == json.dumps(dumped)  # same keys in the same order, as stored
