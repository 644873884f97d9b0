"""Query arguments of the staff and shop lists and of the portfolio report."""

from datetime import date

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from lending.models.enums import Bucket, JobStatus, LoanStatus


def _one_of(enum) -> fields.String:
    values = ["", *(str(e) for e in enum)]
    return fields.String(load_default="", validate=validate.OneOf(values, error="Not a choice."))


def _text(length: int) -> fields.String:
    return fields.String(load_default="", validate=validate.Length(max=length))


class PageArgs(Schema):
    """A page number of a list."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))


class JobRunFilterSchema(PageArgs):
    job = _text(60)
    status = _one_of(JobStatus)


class DateRangeSchema(Schema):
    """An optional range of dates, in order (audit log, account statements)."""

    date_from = fields.Date(load_default=None)
    date_to = fields.Date(load_default=None)

    @validates_schema
    def range_in_order(self, data, **_kwargs):
        """The end of the date range is not before its start."""
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            raise ValidationError("Must not be before the start.", "date_to")


class AuditFilterSchema(PageArgs, DateRangeSchema):
    action = _text(60)
    actor = _text(254)
    object_type = _text(40)
    object_id = _text(40)


class LoanFilterSchema(PageArgs):
    status = _one_of(LoanStatus)
    bucket = _one_of(Bucket)


class PortfolioQuerySchema(Schema):
    """`as_of` for the portfolio report: a date, not after today; today when left out."""

    as_of = fields.Date(load_default=None)

    def __init__(self, *, today: date, **kwargs):
        super().__init__(**kwargs)
        self.today = today

    @validates_schema
    def not_in_the_future(self, data, **_kwargs):
        """A report is for a day that has happened."""
        if data.get("as_of") and data["as_of"] > self.today:
            raise ValidationError(f"Must not be after today ({self.today}).", "as_of")

    @post_load
    def default_today(self, data, **_kwargs):
        """Today when no date is given."""
        return {"as_of": data.get("as_of") or self.today}


def form_args(args, names: tuple[str, ...]) -> dict:
    """The named query arguments, blanks dropped, as a dict for a schema to load."""
    return {name: args[name] for name in names if args.get(name, "") != ""}
