"""Rows of a device-registry CSV, and incentive programme input."""

import re

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from lending.schemas.fields import IMEI, Money

TAC = re.compile(r"^\d{8}$")


class TacList(fields.String):
    """TACs separated by ';' or spaces, each exactly 8 digits."""

    def _deserialize(self, value, attr, data, **kwargs):
        raw = super()._deserialize(value, attr, data, **kwargs)
        tacs = [t for t in re.split(r"[;\s,]+", raw.strip()) if t]
        bad = [t for t in tacs if not TAC.match(t)]
        if not tacs or bad:
            raise ValidationError(
                f"A TAC is the first 8 digits of an IMEI; not valid: "
                f"{', '.join(bad) or 'none given'}."
            )
        return tacs


class DeviceRowSchema(Schema):
    manufacturer = fields.String(required=True, validate=validate.Length(min=1, max=120))
    brands = fields.String(load_default="", validate=validate.Length(max=240))
    assembled_in_pk = fields.Boolean(required=True)
    assembler = fields.String(load_default="", validate=validate.Length(max=120))
    authorisation_ref = fields.String(load_default="", validate=validate.Length(max=80))
    model = fields.String(required=True, validate=validate.Length(min=1, max=120))
    list_price = Money(load_default=None, allow_none=True, min_value="0")
    tacs = TacList(required=True)

    @validates_schema
    def local_needs_assembler(self, data, **_kwargs):
        if data.get("assembled_in_pk") and not data.get("assembler"):
            raise ValidationError("A locally assembled brand names its assembler.", "assembler")


class ProgrammeSchema(Schema):
    code = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^[A-Z0-9][A-Z0-9-]{1,31}$", error="2-32 capital letters, digits or dashes."
        ),
    )
    name = fields.String(required=True, validate=validate.Length(min=3, max=120))
    sponsor = fields.String(required=True, validate=validate.Length(min=2, max=120))
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(required=True)
    local_only = fields.Boolean(load_default=True)
    max_device_price = Money(load_default=None, allow_none=True, min_value="1")
    markup_discount_bp = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10000))
    min_down_payment_pct = fields.Decimal(
        load_default=None, allow_none=True, places=2, validate=validate.Range(min=0, max=100)
    )
    subsidy_per_loan = Money(load_default="0", min_value="0")
    budget_count = fields.Integer(
        load_default=None, allow_none=True, validate=validate.Range(min=0)
    )
    budget_amount = Money(load_default=None, allow_none=True, min_value="0")

    @validates_schema
    def window_in_order(self, data, **_kwargs):
        start, end = data.get("valid_from"), data.get("valid_to")
        if start and end and end < start:
            raise ValidationError("The end must not be before the start.", "valid_to")


# A month of the platform's life: a year before 2000 (or the year 0, which no date has) is a
# typing slip, refused as a field error rather than reaching the date arithmetic.
MONTH = r"^20\d{2}-(0[1-9]|1[0-2])$"


class ClaimsQuerySchema(Schema):
    month = fields.String(
        required=True,
        validate=validate.Regexp(MONTH, error="A month as YYYY-MM, from 2000 to 2099."),
    )
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))


class SubsidyReceiptSchema(Schema):
    """A sponsor's payment of a month's claim for one programme."""

    month = fields.String(
        required=True,
        validate=validate.Regexp(MONTH, error="A month as YYYY-MM, from 2000 to 2099."),
    )
    programme = fields.String(required=True, validate=validate.Length(min=1, max=40))
    amount = Money(required=True, min_value="0.01", max_value="100000000")
    reference = fields.String(required=True, validate=validate.Length(min=1, max=80))
    received_on = fields.Date(required=True)


class ImeiPathSchema(Schema):
    imei = IMEI(required=True)


class DeviceLookupSchema(Schema):
    """The IMEI look-up document (for the OpenAPI description)."""

    imei = fields.String()
    valid = fields.Boolean()
    tac = fields.String()
    known = fields.Boolean()
    model = fields.String(allow_none=True)
    manufacturer = fields.String(allow_none=True)
    assembled_in_pk = fields.Boolean(allow_none=True)
    list_price = fields.String(allow_none=True)
    programmes = fields.List(fields.Dict())


class ClaimLineSchema(Schema):
    programme = fields.String()
    programme_name = fields.String()
    sponsor = fields.String()
    manufacturer = fields.String()
    loans = fields.Integer()
    financed_amount = fields.String()
    subsidy = fields.String()
    imeis = fields.List(fields.String())


class ClaimsLedgerSchema(Schema):
    """The month's claim against the ledger: the subsidy receivable for the same loans, and
    what the sponsors have paid of it."""

    claimed = fields.String()
    ledger = fields.String()
    difference = fields.String()
    received = fields.String()
    outstanding = fields.String()


class ClaimsReportSchema(Schema):
    month = fields.String()
    lines = fields.List(fields.Nested(ClaimLineSchema))
    totals = fields.Dict()
    ledger = fields.Nested(ClaimsLedgerSchema)
