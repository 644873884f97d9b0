"""The query of GET /api/v1/quote."""

from marshmallow import Schema, fields, validate

from lending.schemas.fields import Money


class QuoteQuerySchema(Schema):
    amount = Money(required=True, min_value="1")
    tenor = fields.Integer(required=True, validate=validate.Range(min=1, max=120))
    product_code = fields.String(required=True, validate=validate.Length(min=1, max=32))
