"""Applications in the API (reading; taking applications arrives with the decision engine)."""

from flask import jsonify

from lending.models import Application
from lending.models.enums import Role
from lending.schemas.applications import ApplicationDocumentSchema
from lending.web.access import owned, role_required
from lending.web.api import bp


@bp.get("/applications/<int:application_id>")
@role_required(Role.RETAILER, Role.UNDERWRITER, Role.ADMIN)
@owned(Application, "application_id")
def get_application(application: Application):
    """One application with its decision and offer; a retailer sees only its shop's.
    ---
    get:
      summary: An application
      security: [{bearerAuth: []}]
      parameters:
        - {in: path, name: application_id, required: true, schema: {type: integer}}
      responses:
        200:
          content:
            application/json:
              schema: ApplicationDocument
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
    """
    return jsonify(ApplicationDocumentSchema().dump(application))
