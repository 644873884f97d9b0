"""Staff reports: the monthly incentive claims and the portfolio."""

from flask import Response, current_app, jsonify, request

from lending.db import get_session
from lending.models.enums import Role
from lending.schemas.registry import ClaimsQuerySchema, SubsidyReceiptSchema
from lending.services.claims import claims_report, reconciled, record_receipt, to_csv, totals
from lending.services.portfolio_export import document
from lending.web.access import current_actor, role_required
from lending.web.api import bp
from lending.web.context import json_body, utcnow
from lending.web.staff_dashboard import report_for_request


def claims_document(month: str, lines, ledger: dict | None = None) -> dict:
    """The claims report as JSON: amounts as strings with two decimals; with the ledger's
    subsidy receivable for the same loans when given."""
    total = totals(lines)
    return {
        "month": month,
        "lines": [
            {
                "programme": x.programme_code,
                "programme_name": x.programme_name,
                "sponsor": x.sponsor,
                "manufacturer": x.manufacturer,
                "loans": x.loans,
                "financed_amount": f"{x.financed_amount:.2f}",
                "subsidy": f"{x.subsidy:.2f}",
                "imeis": x.imeis,
            }
            for x in lines
        ],
        "totals": {
            "loans": total["loans"],
            "financed_amount": f"{total['financed_amount']:.2f}",
            "subsidy": f"{total['subsidy']:.2f}",
        },
        **({"ledger": {k: f"{v:.2f}" for k, v in ledger.items()}} if ledger is not None else {}),
    }


@bp.get("/reports/incentive-claims")
@role_required(Role.ADMIN, Role.UNDERWRITER)
def incentive_claims():
    """Per programme and manufacturer: loans booked in the month, financed amount, subsidy.
    ---
    get:
      summary: Monthly incentive claims (JSON, or CSV with format=csv)
      security: [{bearerAuth: []}]
      parameters:
        - {in: query, name: month, required: true, schema: {type: string, example: "2026-11"}}
        - {in: query, name: format, schema: {type: string, enum: [json, csv]}}
      responses:
        200:
          content:
            application/json:
              schema: ClaimsReport
            text/csv:
              schema: {type: string}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    args = ClaimsQuerySchema().load(request.args)
    lines = claims_report(get_session(), args["month"])
    if args["format"] == "csv":
        return Response(
            to_csv(args["month"], lines),
            mimetype="text/csv",
            headers={
                "Content-Disposition": f"attachment; filename=incentive-claims-{args['month']}.csv"
            },
        )
    ledger = reconciled(get_session(), args["month"], lines)
    return jsonify(claims_document(args["month"], lines, ledger))


@bp.post("/reports/incentive-claims/receipts")
@role_required(Role.ADMIN, Role.UNDERWRITER)
def subsidy_receipt():
    """Record a sponsor's payment of a month's claim for one programme (the bank against the
    subsidy receivable); never more than is outstanding of the claim.
    ---
    post:
      summary: Record a sponsor's payment of an incentive claim
      security: [{bearerAuth: []}]
      requestBody:
        required: true
        content:
          application/json:
            schema: SubsidyReceiptInput
      responses:
        201:
          content:
            application/json:
              schema:
                type: object
                properties:
                  id: {type: integer}
                  programme: {type: string}
                  month: {type: string}
                  amount: {type: string}
                  outstanding: {type: string}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        409: {$ref: '#/components/responses/Conflict'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    data = SubsidyReceiptSchema().load(json_body())
    session = get_session()
    receipt = record_receipt(
        session,
        month=data["month"],
        programme_code=data["programme"],
        amount=data["amount"],
        reference=data["reference"],
        received_on=data["received_on"],
        user_id=current_actor().id,
        now=utcnow(),
        timezone=current_app.extensions["lending.settings"].timezone,
    )
    state = reconciled(session, data["month"], claims_report(session, data["month"]))
    session.commit()
    return jsonify(
        {
            "id": receipt.id,
            "programme": receipt.programme_code,
            "month": receipt.month,
            "amount": f"{receipt.amount:.2f}",
            "outstanding": f"{state['outstanding']:.2f}",
        }
    ), 201


@bp.get("/reports/portfolio")
@role_required(Role.ADMIN, Role.UNDERWRITER)
def portfolio_report():
    """Counts and outstanding principal by bucket, PAR30/PAR90, incentive share, and more.
    ---
    get:
      summary: The portfolio on a business date (buckets as the nightly ageing left them)
      security: [{bearerAuth: []}]
      parameters:
        - in: query
          name: as_of
          schema: {type: string, format: date, example: "2026-11-30"}
          description: a past or today's date; today when left out
      responses:
        200:
          content:
            application/json:
              schema: PortfolioReport
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    return jsonify(document(report_for_request()))
