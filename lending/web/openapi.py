"""The OpenAPI document, built from the API views' docstrings and the marshmallow schemas."""

import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.yaml_utils import load_operations_from_docstring
from flask import Blueprint, current_app, jsonify
from marshmallow import fields

from lending.schemas.applications import (
    AcceptResultSchema,
    ApplicationDocumentSchema,
    ApplicationInputSchema,
    UnderwriterDecisionSchema,
)
from lending.schemas.catalogue import DeviceModelSchema, ProductSchema
from lending.schemas.fields import CNIC, IMEI, Money, PakistaniMobile
from lending.schemas.loans import servicing_schemas
from lending.schemas.quote import OfferSchema
from lending.schemas.registry import (
    ClaimsReportSchema,
    DeviceLookupSchema,
    SubsidyReceiptSchema,
)
from lending.schemas.reports import PortfolioReportSchema

bp = Blueprint("openapi", __name__)

SCHEMAS = {
    "Product": ProductSchema,
    "DeviceModel": DeviceModelSchema,
    "ApplicationDocument": ApplicationDocumentSchema,
    "ApplicationInput": ApplicationInputSchema,
    "UnderwriterDecision": UnderwriterDecisionSchema,
    "AcceptResult": AcceptResultSchema,
    "Offer": OfferSchema,
    "DeviceLookup": DeviceLookupSchema,
    "ClaimsReport": ClaimsReportSchema,
    "SubsidyReceiptInput": SubsidyReceiptSchema,
    "PortfolioReport": PortfolioReportSchema,
    **servicing_schemas(),
}

ERROR = {
    "type": "object",
    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
}
FIELD_ERRORS = {
    "type": "object",
    "properties": {
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        }
    },
}


def _path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def decimal_as_string(_converter, field, ret: dict, **_kwargs) -> dict:
    """A Decimal sent as a string ("4.66") is a string in the document, not a number."""
    if isinstance(field, fields.Decimal) and field.as_string:
        return {"type": "string", "format": ret.get("format") or "decimal"}
    return {}


def build_spec(app) -> dict:
    """Return the OpenAPI 3 document of every /api/v1 route."""
    marshmallow = MarshmallowPlugin()
    spec = APISpec("Device-loan platform API", "1.0.0", "3.0.3", plugins=[marshmallow])
    marshmallow.converter.map_to_openapi_type(Money, "string", "decimal")
    for field in (CNIC, IMEI, PakistaniMobile):
        marshmallow.converter.map_to_openapi_type(field, "string", None)
    marshmallow.converter.add_attribute_function(decimal_as_string)
    spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    for name, status in [
        ("Unauthorized", ERROR),
        ("Forbidden", ERROR),
        ("NotFound", ERROR),
        ("Conflict", ERROR),
        ("Invalid", FIELD_ERRORS),
    ]:
        spec.components.response(
            name, {"description": name, "content": {"application/json": {"schema": status}}}
        )
    for name, schema in SCHEMAS.items():
        spec.components.schema(name, schema=schema)
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.endpoint.startswith("api."):
            continue
        operations = load_operations_from_docstring(app.view_functions[rule.endpoint].__doc__ or "")
        if operations:
            spec.path(path=_path(rule.rule), operations=operations)
    return spec.to_dict()


@bp.get("/openapi.json")
def openapi_json():
    if "lending.openapi" not in current_app.extensions:
        current_app.extensions["lending.openapi"] = build_spec(current_app)
    return jsonify(current_app.extensions["lending.openapi"])
