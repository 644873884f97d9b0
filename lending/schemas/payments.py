"""Payments in and out: the counter and gateway bodies, the posted-payment answer, the payoff."""

from marshmallow import Schema, fields, validate

from lending.models.enums import COUNTER_CHANNELS, GATEWAY_CHANNELS
from lending.schemas.common import money
from lending.schemas.fields import Money

# Only what a shop takes at the counter here; the rails (wallets, Raast, bank transfers)
# come only through the gateway's signed callback and the settlement files.
COUNTER = sorted(c.value for c in COUNTER_CHANNELS)
GATEWAY = sorted(c.value for c in GATEWAY_CHANNELS)
KEY_PATTERN = r"^[\x21-\x7e]+$"  # printable ASCII, no spaces
# Far above any phone loan: a typo of extra zeros is refused here; the service refuses any
# amount above what settles the loan (plus the product's tolerance).
MAX_PAYMENT = "10000000"


class PaymentInputSchema(Schema):
    """POST /api/v1/loans/{id}/payments: cash or card at the counter, or staff recording it."""

    amount = Money(required=True, min_value="0.01", max_value=MAX_PAYMENT)
    paid_at = fields.AwareDateTime(required=True)
    channel = fields.String(
        required=True,
        validate=validate.OneOf(COUNTER, error="A counter payment is one of: {choices}."),
    )
    reference = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(min=1, max=80)
    )
    allow_overpayment = fields.Boolean(load_default=False)


class WebhookPaymentSchema(Schema):
    """POST /api/v1/webhooks/payments: the gateway names the loan and its own reference."""

    loan_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    amount = Money(required=True, min_value="0.01", max_value=MAX_PAYMENT)
    paid_at = fields.AwareDateTime(required=True)
    channel = fields.String(
        required=True,
        validate=validate.OneOf(GATEWAY, error="A gateway payment is one of: {choices}."),
    )
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


class WaiverInputSchema(Schema):
    """POST /api/v1/loans/{id}/waivers: staff waive an instalment's late fee, saying why."""

    instalment = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    reason = fields.String(required=True, validate=validate.Length(min=3, max=500))


class RefundInputSchema(Schema):
    """POST /api/v1/loans/{id}/refunds: staff propose paying a credit balance back."""

    amount = Money(required=True, min_value="0.01", max_value=MAX_PAYMENT)
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
    credit_balance = money()


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


class AdjustmentResultSchema(Schema):
    """The answer to a waiver or a refund: the transaction written and the loan after it."""

    transaction_id = fields.Integer()
    loan_id = fields.Integer()
    kind = fields.String()
    amount = money()
    outstanding = fields.Nested(AmountsSchema)
    credit_balance = money()
    loan_status = fields.String()
