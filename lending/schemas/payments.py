"""Payments in and out: the counter and gateway bodies, the posted-payment answer, the payoff."""

from marshmallow import Schema, fields, validate

from lending.models.enums import PaymentChannel
from lending.schemas.common import money
from lending.schemas.fields import Money

CHANNELS = [c.value for c in PaymentChannel]
KEY_PATTERN = r"^[\x21-\x7e]+$"  # printable ASCII, no spaces


class PaymentInputSchema(Schema):
    """POST /api/v1/loans/{id}/payments: cash at the counter or a payment staff record."""

    amount = Money(required=True, min_value="0.01")
    paid_at = fields.AwareDateTime(required=True)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    reference = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(min=1, max=80)
    )


class WebhookPaymentSchema(PaymentInputSchema):
    """POST /api/v1/webhooks/payments: the gateway names the loan and its own reference."""

    loan_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    reference = fields.String(required=True, validate=validate.Length(min=1, max=80))


class IdempotencyKeySchema(Schema):
    """The `Idempotency-Key` header of a counter payment."""

    key = fields.String(
        required=True,
        data_key="Idempotency-Key",
        validate=[
            validate.Length(min=1, max=80),
            validate.Regexp(KEY_PATTERN, error="Printable characters without spaces only."),
        ],
    )


class ReversalInputSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=3, max=500))


class AllocationLineSchema(Schema):
    instalment = fields.Integer()
    late_fee = money()
    fee = money()
    profit = money()
    principal = money()


class AmountsSchema(Schema):
    principal = money()
    profit = money()
    fees = money()
    total = money()


class PaymentResultSchema(Schema):
    """The answer to a posted payment, stored on the payment and replayed for its key."""

    payment_id = fields.Integer()
    loan_id = fields.Integer()
    amount = money()
    applied = money()
    unapplied = money()
    paid_at = fields.AwareDateTime()
    allocations = fields.List(fields.Nested(AllocationLineSchema))
    outstanding = fields.Nested(AmountsSchema)
    loan_status = fields.String()


class ReversalResultSchema(Schema):
    payment_id = fields.Integer()
    status = fields.String()
    reversed_at = fields.AwareDateTime()
    outstanding = fields.Nested(AmountsSchema)
    loan_status = fields.String()


class PayoffQuerySchema(Schema):
    as_of = fields.Date(load_default=None)


class PayoffSchema(Schema):
    """GET /api/v1/loans/{id}/payoff: what settles the loan in full on a date."""

    loan_id = fields.Integer()
    as_of = fields.Date(attribute="on")
    principal = money()
    profit = money()
    fees = money()
    late_fees = money()
    total = money()
    waived_profit = money()
    lines = fields.List(fields.Nested(AllocationLineSchema))
