"""Product input: every term an administrator may set, checked before anything is written."""

import re
from decimal import Decimal, InvalidOperation

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from lending.finance.kernel import RATE_PLACES
from lending.finance.terms import MAX_PRINCIPAL, MAX_RATE, MAX_TENOR
from lending.models.enums import DayCount, Frequency, Method, Prepayment
from lending.schemas.fields import Money

SBP_DBR_CAP = Decimal("40")  # State Bank of Pakistan, BPRD Circular Letter 29 of 2021
# What the servicing engine implements of Prepayment today; the others are refused until it does.
OFFERED_PREPAYMENT = tuple(Prepayment)


class Percent(fields.Field):
    """A percentage with at most `places` decimals, within a range; loaded as an exact Decimal."""

    _PLACES = {2: "two", 4: "four"}

    def __init__(self, *, low: str = "0", high: str = "100", places: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.low, self.high, self.places = Decimal(low), Decimal(high), places

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            number = Decimal(str(value).strip().rstrip("%").strip())
        except InvalidOperation:
            raise ValidationError("Not a valid percentage.") from None
        if not number.is_finite():
            raise ValidationError("Not a valid percentage.")
        # The range first: quantizing a number like 1E+30 overflows the decimal context.
        if not self.low <= number <= self.high:
            raise ValidationError(f"Must be from {self.low} to {self.high}.")
        if number != number.quantize(Decimal(1).scaleb(-self.places)):
            raise ValidationError(
                f"A percentage with at most {self._PLACES[self.places]} decimals."
            )
        return number


class IntList(fields.Field):
    """Whole numbers separated by commas or spaces ("3, 6, 12"), each in a range, no repeats."""

    def __init__(self, *, low: int, high: int, allow_empty: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.low, self.high, self.allow_empty = low, high, allow_empty

    def _deserialize(self, value, attr, data, **kwargs):
        items = value if isinstance(value, list) else re.split(r"[,;\s]+", str(value).strip())
        try:
            numbers = [int(str(item)) for item in items if str(item) != ""]
        except ValueError:
            raise ValidationError("Whole numbers separated by commas, e.g. 3, 6, 12.") from None
        if not numbers and not self.allow_empty:
            raise ValidationError("Give at least one number.")
        if any(not self.low <= n <= self.high for n in numbers):
            raise ValidationError(f"Each must be from {self.low} to {self.high}.")
        if len(set(numbers)) != len(numbers):
            raise ValidationError("A number is repeated.")
        return sorted(numbers)

    def _serialize(self, value, attr, obj, **kwargs):
        return ", ".join(str(n) for n in value or [])


def _whole(low: int, high: int, **kwargs) -> fields.Integer:
    return fields.Integer(strict=False, validate=validate.Range(min=low, max=high), **kwargs)


def _choice(enum) -> fields.String:
    return fields.String(required=True, validate=validate.OneOf([str(e) for e in enum]))


def offered_prepayment(value: str) -> None:
    """A known way of applying money paid ahead."""
    validate.OneOf([str(p) for p in Prepayment])(value)


class ProductInputSchema(Schema):
    """A product's terms as an administrator enters them (the code is fixed once created)."""

    code = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^[A-Z0-9][A-Z0-9-]{1,31}$", error="2-32 capital letters, digits or dashes."
        ),
    )
    name = fields.String(required=True, validate=validate.Length(min=3, max=120))
    method = _choice(Method)
    islamic = fields.Boolean(load_default=False)
    frequency = _choice(Frequency)
    day_count = _choice(DayCount)
    annual_rate = Percent(required=True, high=str(MAX_RATE), places=RATE_PLACES)
    tenors = IntList(required=True, low=1, high=MAX_TENOR)
    processing_fee_pct = Percent(load_default=Decimal("0"), high="25")
    processing_fee_fixed = Money(load_default=Decimal("0"), min_value="0")
    fee_financed = fields.Boolean(load_default=False)
    min_down_payment_pct = Percent(required=True, high="90")
    min_price = Money(required=True, min_value="1", max_value=MAX_PRINCIPAL)
    max_price = Money(required=True, min_value="1", max_value=MAX_PRINCIPAL)
    max_dbr_pct = Percent(required=True, low="1", high=str(SBP_DBR_CAP))
    rounding = fields.String(
        load_default="1", validate=validate.OneOf(["1", "0.01"], error="1 (rupee) or 0.01.")
    )
    roll_holidays = fields.Boolean(load_default=True)
    late_fee_fixed = Money(load_default=Decimal("0"), min_value="0")
    late_fee_pct = Percent(load_default=Decimal("0"), high="100")
    late_fee_cap = Money(load_default=None, allow_none=True, min_value="0")
    grace_days = _whole(0, 30, load_default=3)
    arrears_tolerance_amount = Money(load_default=Decimal("0"), min_value="0")
    arrears_tolerance_pct = Percent(load_default=Decimal("0"), high="100")
    prepayment = fields.String(
        load_default=str(Prepayment.NEXT_INSTALMENTS), validate=offered_prepayment
    )
    settlement_rebate_pct = Percent(load_default=Decimal("100"), high="100")
    overpayment_tolerance = Money(load_default=Decimal("100"), min_value="0")
    reminder_offsets = IntList(load_default=[], low=-30, high=180, allow_empty=True)
    lock_after_dpd = _whole(1, 365, load_default=30)
    cooling_off_hours = _whole(0, 720, load_default=24)
    offer_valid_days = _whole(1, 60, load_default=7)
    active = fields.Boolean(load_default=True)

    @validates_schema(skip_on_field_errors=False)
    def limits_in_order(self, data, **_kwargs):
        """The price range is a range and the late-fee cap is not below the fixed fee."""
        errors = {}
        low, high = data.get("min_price"), data.get("max_price")
        if low is not None and high is not None and high <= low:
            errors["max_price"] = ["Must be more than the minimum price."]
        cap, fixed = data.get("late_fee_cap"), data.get("late_fee_fixed")
        if cap is not None and fixed is not None and cap < fixed:
            errors["late_fee_cap"] = ["Must not be below the fixed late fee."]
        reduces = data.get("prepayment", Prepayment.NEXT_INSTALMENTS) != Prepayment.NEXT_INSTALMENTS
        if reduces and (data.get("method") != "reducing" or data.get("islamic")):
            # Flat and Murabaha profit is fixed at booking, and equal-principal loans have no
            # level instalment to keep or lower: only a conventional annuity re-amortises.
            errors["prepayment"] = [
                "Reducing the principal is for conventional reducing-balance products only."
            ]
        if errors:
            raise ValidationError(errors)

    @post_load
    def exact_rounding(self, data, **_kwargs):
        """The rounding unit as the Decimal the finance engine expects."""
        data["rounding"] = Decimal(data["rounding"])
        return data
