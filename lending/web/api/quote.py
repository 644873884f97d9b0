"""The public instalment calculator: a product's schedule and APR for an amount, no applicant."""

from flask import jsonify, request

from lending.db import get_session
from lending.errors import InvalidInput
from lending.finance.errors import TermsError
from lending.finance.schedule import build_schedule
from lending.schemas.offers import offer_document
from lending.schemas.quote_query import QuoteQuerySchema
from lending.services.catalogue import active_product, loan_terms
from lending.web.api import bp, public
from lending.web.context import business_date

_QUERY = QuoteQuerySchema()  # stateless: built once


@bp.get("/quote")
@public
def quote():
    """Schedule, APR and total payable for an amount under a product.
    ---
    get:
      summary: Public instalment calculator
      security: []
      parameters:
        - {in: query, name: amount, required: true, schema: {type: string, example: "40000.00"}}
        - {in: query, name: tenor, required: true, schema: {type: integer, example: 6}}
        - {in: query, name: product_code, required: true, schema: {type: string}}
      responses:
        200:
          content:
            application/json:
              schema: Offer
        422: {$ref: '#/components/responses/Invalid'}
    """
    args = _QUERY.load(request.args)
    product = active_product(get_session(), args["product_code"])
    if args["tenor"] not in product.tenors:
        offered = ", ".join(str(t) for t in product.tenors)
        raise InvalidInput({"tenor": [f"This product offers {offered} instalments."]})
    try:
        schedule = build_schedule(
            loan_terms(
                product, principal=args["amount"], tenor=args["tenor"], start=business_date()
            )
        )
    except TermsError as exc:  # the engine names the principal; the caller sent an amount
        raise InvalidInput(
            {("amount" if k == "principal" else k): v for k, v in exc.errors.items()}
        ) from None
    return jsonify({"product_code": product.code, **offer_document(schedule)})
