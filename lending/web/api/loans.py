"""Loans in the API: the loan document, the payoff quote, cancellation in cooling-off."""

from dataclasses import asdict

from flask import current_app, jsonify, request

from lending.db import get_session
from lending.models import Loan
from lending.models.enums import Role
from lending.schemas.loans import CancelResultSchema, LoanDocumentSchema
from lending.schemas.payments import PayoffQuerySchema, PayoffSchema
from lending.services.lifecycle import cancel_in_cooling_off
from lending.services.loan_view import loan_view, quote_payoff
from lending.web.access import current_actor, owned, role_required
from lending.web.api import bp
from lending.web.context import business_date, utcnow

_LOAN = LoanDocumentSchema()  # stateless: built once


@bp.get("/loans/<int:loan_id>")
@role_required(*Role)
@owned(Loan, "loan_id")
def get_loan(loan: Loan):
    """A loan with its schedule, paid and outstanding amounts, days past due and bucket.
    ---
    get:
      summary: A loan (a shop sees its own, a borrower theirs, staff all)
      security: [{bearerAuth: []}]
      parameters:
        - {in: path, name: loan_id, required: true, schema: {type: integer}}
      responses:
        200:
          content:
            application/json:
              schema: LoanDocument
        401: {$ref: '#/components/responses/Unauthorized'}
        404: {$ref: '#/components/responses/NotFound'}
    """
    view = loan_view(get_session(), loan, business_date())
    return jsonify(_LOAN.dump(view))


@bp.get("/loans/<int:loan_id>/payoff")
@role_required(*Role)
@owned(Loan, "loan_id")
def get_payoff(loan: Loan):
    """What settles the loan in full on a date (default today): the early settlement quote.
    ---
    get:
      summary: Early settlement quote
      security: [{bearerAuth: []}]
      parameters:
        - {in: path, name: loan_id, required: true, schema: {type: integer}}
        - {in: query, name: as_of, schema: {type: string, format: date}}
      responses:
        200:
          content:
            application/json:
              schema: Payoff
        401: {$ref: '#/components/responses/Unauthorized'}
        404: {$ref: '#/components/responses/NotFound'}
        409: {$ref: '#/components/responses/Conflict'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    as_of = PayoffQuerySchema().load(request.args)["as_of"] or business_date()
    quote = quote_payoff(session=get_session(), loan=loan, as_of=as_of)
    return jsonify(PayoffSchema().dump({"loan_id": loan.id, **asdict(quote)}))


@bp.post("/loans/<int:loan_id>/cancel")
@role_required(*Role)
@owned(Loan, "loan_id")
def cancel_loan(loan: Loan):
    """Cancel a loan at no cost within its cooling-off period, before any payment.
    ---
    post:
      summary: Cancel in the cooling-off period
      security: [{bearerAuth: []}]
      parameters:
        - {in: path, name: loan_id, required: true, schema: {type: integer}}
      responses:
        200:
          content:
            application/json:
              schema: CancelResult
        401: {$ref: '#/components/responses/Unauthorized'}
        404: {$ref: '#/components/responses/NotFound'}
        409: {$ref: '#/components/responses/Conflict'}
    """
    session = get_session()
    cancelled = cancel_in_cooling_off(
        session=session,
        loan_id=loan.id,
        user_id=current_actor().id,
        now=utcnow(),
        timezone=current_app.extensions["lending.settings"].timezone,
    )
    session.commit()
    return jsonify(CancelResultSchema().dump(cancelled))
