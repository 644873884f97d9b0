"""The borrower portal's forms: activation, the payoff date, the language."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from lending.schemas.fields import CNIC, PakistaniMobile


class CodeRequestSchema(Schema):
    """Step 1 of activation: who the borrower is."""

    cnic = CNIC(required=True)
    mobile = PakistaniMobile(required=True)


class ActivationSchema(Schema):
    """Step 2 of activation: the SMS code, a log-in e-mail and a password."""

    code = fields.String(
        required=True, validate=validate.Regexp(r"^\d{6}$", error="Enter the 6 digits of the code.")
    )
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(
        required=True,
        validate=validate.Length(min=10, max=200, error="Use 10 to 200 characters."),
    )
    password_again = fields.String(required=True)

    @validates_schema
    def passwords_match(self, data, **_kwargs):
        if "password" in data and data.get("password_again") != data["password"]:
            raise ValidationError("The two passwords are not the same.", "password_again")


class PayoffFormSchema(Schema):
    as_of = fields.Date(required=True)


class LanguageSchema(Schema):
    lang = fields.String(required=True, validate=validate.OneOf(["en", "ur"]))
    next = fields.String(load_default="")


def form_data(form) -> dict:
    """A submitted form without its CSRF token and empty fields; passwords kept as typed."""
    data = {}
    for key, value in form.items():
        kept = value if key.startswith("password") else value.strip()
        if key != "csrf_token" and kept.strip():
            data[key] = kept
    return data
