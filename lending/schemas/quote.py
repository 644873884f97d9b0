"""Quote input (API query, CLI options) to LoanTerms, and a Schedule to the `offer` document."""

from collections.abc import Mapping
from decimal import ROUND_HALF_UP
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate

from lending.finance.apr import CashFlow, UnitPeriod
from lending.finance.enums import DayCount, Frequency, Method
from lending.finance.errors import TermsError
from lending.finance.terms import LoanTerms

# Schema field -> LoanTerms field, where the public name differs.
_TERMS_NAME = {"amount": "principal", "rate": "annual_rate"}
_FIELD_NAME = {terms: public for public, terms in _TERMS_NAME.items()}


def _money(**kwargs: Any) -> fields.Decimal:
    return fields.Decimal(as_string=True, places=2, rounding=ROUND_HALF_UP, **kwargs)


class QuoteArgsSchema(Schema):
    """Validate quote arguments and load them as LoanTerms.

    Everything but amount and tenor may come from `defaults` (LoanTerms keyword values, e.g.
    a product's rate and method, and the business date as start) given to the constructor;
    an argument in the input wins over its default.
    """

    amount = fields.Decimal(required=True)
    tenor = fields.Integer(required=True)
    rate = fields.Decimal()
    method = fields.String(validate=validate.OneOf([m.value for m in Method]))
    frequency = fields.String(validate=validate.OneOf([f.value for f in Frequency]))
    day_count = fields.String(validate=validate.OneOf([d.value for d in DayCount]))
    fee = fields.Decimal()
    fee_financed = fields.Boolean()
    start = fields.Date()
    first_due = fields.Date(allow_none=True)
    rounding = fields.Decimal()
    roll_holidays = fields.Boolean()
    islamic = fields.Boolean()
    product_code = fields.String(load_default=None)  # read by the API view, not by the terms

    def __init__(self, *, defaults: Mapping[str, Any] | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.defaults = dict(defaults or {})

    @post_load
    def make_terms(self, data: dict[str, Any], **_kwargs: Any) -> LoanTerms:
        """Return the LoanTerms of the arguments, field errors as a ValidationError."""
        data.pop("product_code", None)
        values = {**self.defaults, **{_TERMS_NAME.get(k, k): v for k, v in data.items()}}
        missing = [name for name in ("annual_rate", "start") if name not in values]
        if missing:
            raise ValidationError(
                {_FIELD_NAME.get(m, m): ["Missing data for required field."] for m in missing}
            )
        try:
            return LoanTerms(**values)
        except TermsError as error:
            raise ValidationError(
                {_FIELD_NAME.get(k, k): v for k, v in error.errors.items()}
            ) from error


class InstalmentRowSchema(Schema):
    """One schedule row of the offer."""

    n = fields.Integer()
    due_date = fields.Date()
    principal = _money()
    profit = _money()
    fee = _money()
    total = _money()
    balance_after = _money()


class OfferSchema(Schema):
    """A Schedule as the CONTRACT's `offer` document (amounts are strings, two places)."""

    financed_amount = _money()
    instalment_amount = _money()
    instalments = fields.Function(lambda schedule: len(schedule.instalments))
    frequency = fields.Function(lambda schedule: str(schedule.frequency))
    apr = fields.Decimal(as_string=True, places=2, rounding=ROUND_HALF_UP)
    total_payable = _money()
    total_profit = _money()
    total_fees = _money()
    upfront_fee = _money()
    method = fields.Function(lambda schedule: str(schedule.terms.method))
    islamic = fields.Function(lambda schedule: schedule.terms.islamic)
    schedule = fields.List(fields.Nested(InstalmentRowSchema), attribute="instalments")


class CashFlowSchema(Schema):
    """An advance or a payment in an APR request."""

    amount = fields.Decimal(required=True, validate=validate.Range(min=0, min_inclusive=False))
    date = fields.Date(required=True)

    @post_load
    def make_flow(self, data: dict[str, Any], **_kwargs: Any) -> CashFlow:
        """Return the CashFlow."""
        return CashFlow(data["amount"], data["date"])


class AprArgsSchema(Schema):
    """`{advances: [...], payments: [...], unit_period}`, loaded as apr() keyword arguments."""

    advances = fields.List(
        fields.Nested(CashFlowSchema), required=True, validate=validate.Length(min=1)
    )
    payments = fields.List(
        fields.Nested(CashFlowSchema), required=True, validate=validate.Length(min=1)
    )
    unit_period = fields.String(
        load_default=UnitPeriod.MONTH.value, validate=validate.OneOf([u.value for u in UnitPeriod])
    )

    @post_load
    def make_args(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        """Return the keyword arguments of lending.finance.apr.apr."""
        return {**data, "unit_period": UnitPeriod(data["unit_period"])}
