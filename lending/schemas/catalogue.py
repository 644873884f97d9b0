"""Products and the device registry as the API shows them."""

from marshmallow import Schema, fields

from lending.schemas.common import AnnualRate, money, percent


class ProductSchema(Schema):
    code = fields.String()
    name = fields.String()
    method = fields.String()
    islamic = fields.Boolean()
    frequency = fields.String()
    day_count = fields.String()
    annual_rate = AnnualRate()
    tenors = fields.List(fields.Integer())
    processing_fee_pct = percent()
    processing_fee_fixed = money()
    fee_financed = fields.Boolean()
    min_down_payment_pct = percent()
    min_price = money()
    max_price = money()
    max_dbr_pct = percent()
    late_fee_fixed = money()
    late_fee_pct = percent()
    late_fee_cap = money(allow_none=True)
    grace_days = fields.Integer()
    arrears_tolerance_amount = money()
    arrears_tolerance_pct = percent()
    prepayment = fields.String()
    settlement_rebate_pct = percent()
    overpayment_tolerance = money()
    cooling_off_hours = fields.Integer()
    version = fields.Integer()


class ManufacturerSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    brands = fields.String()
    assembled_in_pk = fields.Boolean()
    assembler = fields.String()


class DeviceModelSchema(Schema):
    id = fields.Function(lambda doc: doc["model"].id)
    name = fields.Function(lambda doc: doc["model"].name)
    list_price = fields.Function(
        lambda doc: None if doc["model"].list_price is None else f"{doc['model'].list_price:.2f}"
    )
    manufacturer = fields.Function(lambda doc: ManufacturerSchema().dump(doc["manufacturer"]))
    assembled_in_pk = fields.Function(lambda doc: doc["manufacturer"].assembled_in_pk)
    tacs = fields.Function(lambda doc: doc["tacs"])


class DeviceModelListArgs(Schema):
    assembled_in_pk = fields.Boolean(load_default=None)
