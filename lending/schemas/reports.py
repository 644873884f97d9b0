"""The portfolio report document, described for the OpenAPI document."""

from marshmallow import Schema, fields


class BucketLineSchema(Schema):
    bucket = fields.String(metadata={"enum": ["current", "1-30", "31-60", "61-90", "90+"]})
    loans = fields.Integer()
    outstanding = fields.String(metadata={"example": "41249.00"})


class ClassLineSchema(Schema):
    class_ = fields.String(
        data_key="class",
        metadata={"enum": ["regular", "watch", "oaem", "substandard", "doubtful", "loss"]},
    )
    loans = fields.Integer()
    outstanding = fields.String()
    provision_pct = fields.String(metadata={"description": "percent of the outstanding"})
    provision = fields.String()


class ClassificationSchema(Schema):
    profile = fields.String(metadata={"description": "the lender's regulator profile"})
    classes = fields.List(fields.Nested(ClassLineSchema))


class MonthLineSchema(Schema):
    month = fields.String(metadata={"example": "2026-11"})
    loans = fields.Integer(metadata={"description": "disbursements: loans booked"})
    payments = fields.Integer(metadata={"description": "collections: payments posted"})
    amount = fields.String()


class IncentiveShareSchema(Schema):
    loans = fields.Integer()
    tagged_loans = fields.Integer()
    count_pct = fields.String(allow_none=True)
    amount = fields.String()
    tagged_amount = fields.String()
    amount_pct = fields.String(allow_none=True)


class RollRateSchema(Schema):
    from_date = fields.Date()
    to_date = fields.Date()
    from_ = fields.String(data_key="from")
    to = fields.String(metadata={"description": "a bucket, or 'left' (no longer active)"})
    loans = fields.Integer()
    pct = fields.String(allow_none=True)


class PortfolioReportSchema(Schema):
    as_of = fields.Date()
    aged_on = fields.Date(allow_none=True, metadata={"description": "latest nightly ageing"})
    loans_not_aged = fields.Integer()
    buckets = fields.List(fields.Nested(BucketLineSchema))
    classification = fields.Nested(ClassificationSchema)
    total = fields.Dict()
    par30 = fields.String(allow_none=True, metadata={"description": "percent, 2 decimals"})
    par90 = fields.String(allow_none=True)
    incentive_share = fields.Nested(IncentiveShareSchema)
    disbursements = fields.List(fields.Nested(MonthLineSchema))
    collections = fields.List(fields.Nested(MonthLineSchema))
    roll_rates = fields.List(fields.Nested(RollRateSchema))
