"""Maker-checker documents: write-off and refund proposals, and decisions on them."""

from marshmallow import Schema, fields, validate

from lending.models.enums import ApprovalKind, ApprovalStatus
from lending.schemas.fields import Money


class WriteOffInputSchema(Schema):
    """POST /api/v1/loans/{id}/write-offs: propose writing off the principal outstanding."""

    reason = fields.String(required=True, validate=validate.Length(min=3, max=500))


class DecisionInputSchema(Schema):
    """POST /api/v1/approvals/{id}/approve|reject: a second member of staff decides."""

    note = fields.String(load_default="", validate=validate.Length(max=500))


class ApprovalListSchema(Schema):
    """GET /api/v1/approvals: which ones."""

    status = fields.String(
        load_default=ApprovalStatus.PENDING.value,
        validate=validate.OneOf([s.value for s in ApprovalStatus]),
    )


class ApprovalSchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"enum": [k.value for k in ApprovalKind]})
    loan_id = fields.Integer()
    amount = Money(metadata={"description": "a refund's amount; a write-off's principal"})
    reason = fields.String()
    status = fields.String(metadata={"enum": [s.value for s in ApprovalStatus]})
    proposed_by_id = fields.Integer()
    proposed_at = fields.AwareDateTime()
    decided_by_id = fields.Integer(allow_none=True)
    decided_at = fields.AwareDateTime(allow_none=True)
    note = fields.String()
    transaction_id = fields.Integer(
        allow_none=True, metadata={"description": "the loan transaction an approval wrote"}
    )
