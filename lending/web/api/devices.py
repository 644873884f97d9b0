"""IMEI look-up: the registry's model and manufacturer, and the programmes it would get."""

from flask import jsonify

from lending.db import get_session
from lending.models.enums import Role
from lending.schemas.registry import ImeiPathSchema
from lending.services.catalogue import lookup_device
from lending.services.incentives import eligible_programmes
from lending.web.access import role_required
from lending.web.api import bp
from lending.web.context import business_date


@bp.get("/devices/<imei>")
@role_required(*Role)
def device(imei: str):
    """Look up an IMEI: TAC, model, manufacturer, local assembly, programmes today.
    ---
    get:
      summary: IMEI look-up
      security: [{bearerAuth: []}]
      parameters:
        - {in: path, name: imei, required: true, schema: {type: string}}
      responses:
        200:
          content:
            application/json:
              schema: DeviceLookup
        401: {$ref: '#/components/responses/Unauthorized'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    imei = ImeiPathSchema().load({"imei": imei})["imei"]
    session = get_session()
    found = lookup_device(session, imei)
    doc = {
        "imei": imei,
        "valid": True,
        "tac": found.tac,
        "known": found.known,
        "model": None,
        "manufacturer": None,
        "assembled_in_pk": None,
        "programmes": [],
    }
    if found.known:
        doc.update(
            model=found.model.name,
            manufacturer=found.manufacturer.name,
            assembled_in_pk=found.manufacturer.assembled_in_pk,
            list_price=None if found.model.list_price is None else f"{found.model.list_price:.2f}",
        )
        price = found.model.list_price or 0
        doc["programmes"] = [
            {
                "code": p.code,
                "version": p.version,
                "name": p.name,
                "sponsor": p.sponsor,
                "markup_discount_bp": p.markup_discount_bp,
                "subsidy": f"{p.subsidy_per_loan:.2f}",
                "min_down_payment_pct": None
                if p.min_down_payment_pct is None
                else f"{p.min_down_payment_pct:.2f}",
            }
            for p in eligible_programmes(session, device=found, price=price, on=business_date())
        ]
    return jsonify(doc)
