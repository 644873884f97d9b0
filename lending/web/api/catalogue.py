"""Read-only catalogue: products and the device registry."""

from flask import jsonify, request
from sqlmodel import select

from lending.db import get_session
from lending.models import DeviceModel, DeviceTac, Manufacturer, Product
from lending.models.enums import Role
from lending.schemas.catalogue import DeviceModelListArgs, DeviceModelSchema, ProductSchema
from lending.web.access import role_required
from lending.web.api import bp


@bp.get("/products")
@role_required(*Role)
def products():
    """List the active products.
    ---
    get:
      summary: Active products
      security: [{bearerAuth: []}]
      responses:
        200:
          content:
            application/json:
              schema: {type: array, items: Product}
        401: {$ref: '#/components/responses/Unauthorized'}
    """
    rows = get_session().exec(select(Product).where(Product.active).order_by(Product.code)).all()
    return jsonify(ProductSchema(many=True).dump(rows))


@bp.get("/device-models")
@role_required(*Role)
def device_models():
    """List device models with manufacturer and TACs.
    ---
    get:
      summary: The device registry
      security: [{bearerAuth: []}]
      parameters:
        - {in: query, name: assembled_in_pk, schema: {type: boolean}}
      responses:
        200:
          content:
            application/json:
              schema: {type: array, items: DeviceModel}
        401: {$ref: '#/components/responses/Unauthorized'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    args = DeviceModelListArgs().load(request.args)
    session = get_session()
    query = select(DeviceModel, Manufacturer).join(Manufacturer).order_by(DeviceModel.id)
    if args.get("assembled_in_pk") is not None:
        query = query.where(Manufacturer.assembled_in_pk == args["assembled_in_pk"])
    rows = session.exec(query).all()
    tacs: dict[int, list[str]] = {}
    model_ids = [model.id for model, _ in rows]
    for tac in session.exec(select(DeviceTac).where(DeviceTac.device_model_id.in_(model_ids))):
        tacs.setdefault(tac.device_model_id, []).append(tac.tac)
    docs = [
        {"model": model, "manufacturer": maker, "tacs": sorted(tacs.get(model.id, []))}
        for model, maker in rows
    ]
    return jsonify(DeviceModelSchema(many=True).dump(docs))
