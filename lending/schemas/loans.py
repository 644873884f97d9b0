"""The loan document of CONTRACT.md: GET /api/v1/loans/{id}, dumped from a LoanView."""

from marshmallow import Schema, fields

from lending.schemas.common import AnnualRate, money, percent
from lending.schemas.payments import AmountsSchema


class InstalmentLineSchema(Schema):
    n = fields.Integer()
    due_date = fields.Date()
    principal = money()
    profit = money()
    fee = money()
    late_fee = money()
    total = money()
    paid = money()
    unpaid = money()
    status = fields.String()
    paid_on = fields.Date(allow_none=True)


class NextDueSchema(Schema):
    instalment = fields.Integer()
    due_date = fields.Date()
    amount = money()


class LoanDocumentSchema(Schema):
    """A loan with its schedule, what is paid and outstanding, and how late it is."""

    id = fields.Integer(attribute="loan.id")
    status = fields.String(attribute="loan.status")
    application_id = fields.Integer(attribute="loan.application_id")
    retailer_id = fields.Integer(attribute="loan.retailer_id")
    imei = fields.String(attribute="loan.imei")
    method = fields.String(attribute="loan.method")
    frequency = fields.String(attribute="loan.frequency")
    islamic = fields.Boolean(attribute="loan.islamic")
    annual_rate = AnnualRate(attribute="loan.annual_rate")
    apr = percent(attribute="loan.apr")
    device_price = money(attribute="loan.device_price")
    down_payment = money(attribute="loan.down_payment")
    financed_amount = money(attribute="loan.principal")
    instalment_amount = money(attribute="loan.instalment_amount")
    instalments = fields.Integer(attribute="loan.instalments_count")
    total_payable = money(attribute="loan.total_payable")
    disbursed_on = fields.Date(attribute="loan.disbursed_on")
    first_due_on = fields.Date(attribute="loan.first_due_on")
    maturity_on = fields.Date(attribute="loan.maturity_on")
    cooling_off_until = fields.AwareDateTime(attribute="loan.cooling_off_until", allow_none=True)
    closed_on = fields.Date(attribute="loan.closed_on", allow_none=True)
    as_of = fields.Date()
    schedule = fields.List(fields.Nested(InstalmentLineSchema))
    paid = fields.Nested(AmountsSchema)
    outstanding = fields.Nested(AmountsSchema)
    due_now = money()
    next_due = fields.Nested(NextDueSchema, allow_none=True)
    days_past_due = fields.Integer()
    bucket = fields.String()
    classification = fields.String(
        attribute="loan.classification",
        metadata={"description": "prudential class by the lender's regulator profile"},
    )
    incentive_tags = fields.Raw(attribute="loan.incentive_tags")


class CancelResultSchema(Schema):
    loan_id = fields.Integer(attribute="id")
    status = fields.String()
    closed_on = fields.Date()


def servicing_schemas() -> dict:
    """The schemas of the servicing routes, by the names their docstrings use."""
    from lending.schemas import approvals as a
    from lending.schemas import payments as p

    return {
        "WriteOffInput": a.WriteOffInputSchema,
        "DecisionInput": a.DecisionInputSchema,
        "Approval": a.ApprovalSchema,
        "LoanDocument": LoanDocumentSchema,
        "CancelResult": CancelResultSchema,
        "PaymentInput": p.PaymentInputSchema,
        "WebhookPayment": p.WebhookPaymentSchema,
        "PaymentResult": p.PaymentResultSchema,
        "ReversalInput": p.ReversalInputSchema,
        "ReversalResult": p.ReversalResultSchema,
        "Payoff": p.PayoffSchema,
        "WaiverInput": p.WaiverInputSchema,
        "RefundInput": p.RefundInputSchema,
        "AdjustmentResult": p.AdjustmentResultSchema,
    }
