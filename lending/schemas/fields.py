"""Input fields for Pakistani identity numbers, phones, devices and exact money."""

from decimal import Decimal, InvalidOperation

import phonenumbers
from marshmallow import ValidationError, fields
from stdnum import imei as stdnum_imei
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.pk import cnic as stdnum_cnic

PAISA = Decimal("0.01")


class CNIC(fields.String):
    """A CNIC with or without dashes, loaded as its 13 digits."""

    def _deserialize(self, value, attr, data, **kwargs):
        raw = super()._deserialize(value, attr, data, **kwargs)
        try:
            return stdnum_cnic.validate(raw)
        except StdnumError:
            raise ValidationError("Not a valid CNIC: 13 digits, e.g. 42101-1234567-1.") from None


class IMEI(fields.String):
    """A 15-digit IMEI whose last digit is its Luhn check digit."""

    def _deserialize(self, value, attr, data, **kwargs):
        raw = super()._deserialize(value, attr, data, **kwargs)
        digits = stdnum_imei.compact(raw)
        try:
            if len(digits) != 15:
                raise StdnumError()
            return stdnum_imei.validate(digits)
        except StdnumError:
            raise ValidationError(
                "Not a valid IMEI: 15 digits with a correct check digit (dial *#06#)."
            ) from None


class PakistaniMobile(fields.String):
    """A Pakistani mobile number in national (03xx...) or international form, loaded as E.164."""

    def _deserialize(self, value, attr, data, **kwargs):
        raw = super()._deserialize(value, attr, data, **kwargs)
        try:
            number = phonenumbers.parse(raw, "PK")
        except phonenumbers.NumberParseException:
            number = None
        mobile_types = (
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        )
        if (
            number is None
            or not phonenumbers.is_valid_number(number)
            or number.country_code != 92
            or phonenumbers.number_type(number) not in mobile_types
        ):
            raise ValidationError("Not a valid Pakistani mobile number, e.g. 0300 1234567.")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class Money(fields.Field):
    """Rupees as a string or number with at most two decimals; loaded as an exact Decimal.

    JSON numbers arrive here already as Decimal (the API parses floats as Decimal), so a
    binary float never stands between the client's digits and the stored amount.
    """

    default_error_messages = {
        "invalid": "Not a valid amount.",
        "places": "At most two decimals (paisa).",
        "min": "Must be at least {min}.",
        "max": "Must be at most {max}.",
    }

    def __init__(self, *, min_value=None, max_value=Decimal("100000000"), **kwargs):
        super().__init__(**kwargs)
        self.min_value = None if min_value is None else Decimal(min_value)
        self.max_value = Decimal(max_value)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            raise self.make_error("invalid")
        try:
            amount = Decimal(str(value).strip().replace(",", ""))
        except InvalidOperation:
            raise self.make_error("invalid") from None
        if not amount.is_finite():
            raise self.make_error("invalid")
        # Bounds first: quantizing an amount like 1E+100 to the paisa overflows the context.
        if self.min_value is not None and amount < self.min_value:
            raise self.make_error("min", min=self.min_value)
        if amount > self.max_value:
            raise self.make_error("max", max=self.max_value)
        if amount < -self.max_value:
            raise self.make_error("invalid")
        if amount.normalize().as_tuple().exponent < -2:
            raise self.make_error("places")
        return amount.quantize(PAISA) + 0  # + 0 turns -0.00 into 0.00

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else f"{Decimal(value).quantize(PAISA)}"
