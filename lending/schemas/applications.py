"""The application document of CONTRACT.md."""

from datetime import date
from decimal import Decimal
from typing import TypedDict

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_dump,
    validate,
    validates,
    validates_schema,
)
from marshmallow.experimental.context import Context

from lending.models.enums import ApplicationStatus, EmploymentType
from lending.schemas.fields import CNIC, IMEI, Money, PakistaniMobile


class ApplicationContext(TypedDict):
    """What validating an application needs from its caller: the business date, from the
    request's (or job's) clock, so that a pinned clock moves "today" too."""

    business_date: date


APPLICATION_CONTEXT = Context[ApplicationContext]


def _business_date() -> date:
    """The business date the caller set; the machine's date only for a caller that loads
    without a context (the counter form, until it passes one)."""
    context = APPLICATION_CONTEXT.get(None)
    return context["business_date"] if context else date.today()


class ReasonSchema(Schema):
    code = fields.String()
    message = fields.String()
    message_ur = fields.String()


_REASONS = ReasonSchema(many=True)


class ApplicationDocumentSchema(Schema):
    id = fields.Integer()
    status = fields.String()
    score = fields.Integer(allow_none=True)
    reasons = fields.Function(lambda app: _REASONS.dump(app.reasons or []))
    incentive_tags = fields.Raw()
    offer = fields.Method("dump_offer")
    offer_expires_at = fields.DateTime(allow_none=True)
    dbr_pct = fields.Decimal(as_string=True, places=2, allow_none=True)
    retailer_id = fields.Integer()
    created_at = fields.DateTime()

    def dump_offer(self, app):
        return None if app.status == ApplicationStatus.DECLINED else app.offer

    @post_dump
    def no_offer_when_declined(self, data, **_kwargs):
        if data.get("offer") is None:
            data.pop("offer", None)
        return data


class ApplicantInputSchema(Schema):
    cnic = CNIC(required=True)
    full_name = fields.String(
        required=True,
        validate=[
            validate.Length(min=3, max=120),
            validate.Regexp(r"^[^\d<>]+$", error="Letters and spaces only."),
        ],
    )
    date_of_birth = fields.Date(required=True)
    mobile = PakistaniMobile(required=True)
    email = fields.Email(load_default=None, allow_none=True)
    monthly_income = Money(required=True, min_value="1")
    monthly_obligations = Money(load_default=Decimal("0"), min_value="0")
    employment_type = fields.String(
        required=True, validate=validate.OneOf([e.value for e in EmploymentType])
    )
    language = fields.String(load_default="en", validate=validate.OneOf(["en", "ur"]))

    @validates("date_of_birth")
    def not_in_future(self, value, **_kwargs):
        if value >= _business_date():
            raise ValidationError("The date of birth must be in the past.")


class DeviceInputSchema(Schema):
    imei = IMEI(required=True)
    price = Money(required=True, min_value="1")


class ApplicationInputSchema(Schema):
    """A device-loan application: the counter form and POST /api/v1/applications share it."""

    applicant = fields.Nested(ApplicantInputSchema, required=True)
    device = fields.Nested(DeviceInputSchema, required=True)
    down_payment = Money(required=True, min_value="0")
    tenor = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=120))
    product_code = fields.String(required=True, validate=validate.Length(min=1, max=32))

    @validates_schema
    def down_payment_below_price(self, data, **_kwargs):
        price = data.get("device", {}).get("price")
        down = data.get("down_payment")
        if price is not None and down is not None and down >= price:
            raise ValidationError("The down payment must be less than the price.", "down_payment")


_INPUT = ApplicationInputSchema()  # stateless: built once, not per request


def load_application(data: dict, *, on: date) -> dict:
    """Validate an application as of the business date `on`; ValidationError if it is bad."""
    with APPLICATION_CONTEXT({"business_date": on}):
        return _INPUT.load(data)


class UnderwriterDecisionSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(["approved", "declined"]))
    note = fields.String(required=True, validate=validate.Length(min=3, max=2000))


class AcceptResultSchema(Schema):
    loan_id = fields.Integer()
