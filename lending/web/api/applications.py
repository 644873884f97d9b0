"""Applications in the API: take one, read it, decide a referral, accept the offer."""

from flask import jsonify, url_for

from lending.db import get_session
from lending.models import Application
from lending.models.enums import ApplicationStatus, Role
from lending.schemas.applications import (
    AcceptResultSchema,
    ApplicationDocumentSchema,
    UnderwriterDecisionSchema,
    load_application,
)
from lending.services.applications import (
    Origin,
    Verdict,
    decide_referral,
    submit_application,
)
from lending.services.booking import accept_offer
from lending.web.access import current_actor, owned, role_required
from lending.web.api import bp
from lending.web.context import decision_context, json_body, utcnow

# Schemas are stateless: build them once, not per request (building one copies its fields).
_DOCUMENT = ApplicationDocumentSchema()


@bp.post("/applications")
@role_required(Role.RETAILER)
def create_application():
    """Take a device-loan application and answer with the decision and the offer.
    ---
    post:
      summary: New application (approve, refer or decline in one call)
      security: [{bearerAuth: []}]
      requestBody:
        required: true
        content:
          application/json:
            schema: ApplicationInput
      responses:
        201:
          content:
            application/json:
              schema: ApplicationDocument
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    context = decision_context()
    data = load_application(json_body(), on=context.business_date)
    actor = current_actor()
    session = get_session()
    application = submit_application(
        session=session,
        data=data,
        context=context,
        origin=Origin(retailer_id=actor.retailer_id, user_id=actor.id),
    )
    session.commit()
    location = url_for("api.get_application", application_id=application.id)
    return jsonify(_DOCUMENT.dump(application)), 201, {"Location": location}


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
    return jsonify(_DOCUMENT.dump(application))


@bp.post("/applications/<int:application_id>/decision")
@role_required(Role.UNDERWRITER, Role.ADMIN)
@owned(Application, "application_id")
def decide_application(application: Application):
    """An underwriter approves or declines a referred application, with a note.
    ---
    post:
      summary: Underwriter decision on a referral
      security: [{bearerAuth: []}]
      parameters:
        - {in: path, name: application_id, required: true, schema: {type: integer}}
      requestBody:
        required: true
        content:
          application/json:
            schema: UnderwriterDecision
      responses:
        200:
          content:
            application/json:
              schema: ApplicationDocument
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
        409: {$ref: '#/components/responses/Conflict'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    data = UnderwriterDecisionSchema().load(json_body())
    session = get_session()
    decided = decide_referral(
        session=session,
        application_id=application.id,
        verdict=Verdict(ApplicationStatus(data["status"]), data["note"], current_actor().id),
        now=utcnow(),
    )
    session.commit()
    return jsonify(_DOCUMENT.dump(decided))


@bp.post("/applications/<int:application_id>/accept")
@role_required(Role.RETAILER, Role.ADMIN)
@owned(Application, "application_id")
def accept_application(application: Application):
    """Book the loan from an approved, unexpired offer (after the Key Fact Statement).
    ---
    post:
      summary: Accept the offer and book the loan
      security: [{bearerAuth: []}]
      parameters:
        - {in: path, name: application_id, required: true, schema: {type: integer}}
      responses:
        201:
          content:
            application/json:
              schema: AcceptResult
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
        409: {$ref: '#/components/responses/Conflict'}
    """
    session = get_session()
    context = decision_context()
    loan = accept_offer(
        session=session,
        application_id=application.id,
        now=context.now,
        user_id=current_actor().id,
        timezone=context.timezone,
    )
    session.commit()
    return jsonify(AcceptResultSchema().dump({"loan_id": loan.id})), 201
