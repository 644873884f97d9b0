"""Maker-checker in the API: propose a write-off or a refund; a second member of staff decides."""

from flask import current_app, jsonify, request
from sqlmodel import select

from lending.db import get_session
from lending.models.enums import ApprovalKind, Role
from lending.models.ledger import Approval
from lending.schemas.approvals import (
    ApprovalListSchema,
    ApprovalSchema,
    DecisionInputSchema,
    WriteOffInputSchema,
)
from lending.schemas.payments import RefundInputSchema
from lending.services import approvals
from lending.web.access import current_actor, role_required
from lending.web.api import bp
from lending.web.context import json_body, utcnow

STAFF = (Role.ADMIN, Role.UNDERWRITER)
_APPROVAL = ApprovalSchema()
_WRITE_OFF = WriteOffInputSchema()
_REFUND = RefundInputSchema()
_DECISION = DecisionInputSchema()
_LIST = ApprovalListSchema()


def _proposed(kind: ApprovalKind, loan_id: int, data: dict):
    session = get_session()
    approval = approvals.propose(
        session,
        kind=kind,
        loan_id=loan_id,
        reason=data["reason"],
        amount=data.get("amount"),
        user_id=current_actor().id,
        now=utcnow(),
    )
    session.commit()
    return jsonify(_APPROVAL.dump(approval)), 201


@bp.post("/loans/<int:loan_id>/write-offs")
@role_required(*STAFF)
def propose_write_off(loan_id: int):
    """Propose writing off a non-performing loan's principal; another member of staff decides.
    ---
    post:
      summary: Propose a write-off (maker-checker)
      security: [{bearerAuth: []}]
      parameters:
        - {in: path, name: loan_id, required: true, schema: {type: integer}}
      requestBody:
        required: true
        content:
          application/json:
            schema: WriteOffInput
      responses:
        201:
          content:
            application/json:
              schema: Approval
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
        409: {$ref: '#/components/responses/Conflict'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    return _proposed(ApprovalKind.WRITE_OFF, loan_id, _WRITE_OFF.load(json_body()))


@bp.post("/loans/<int:loan_id>/refunds")
@role_required(*STAFF)
def refund(loan_id: int):
    """Propose paying (part of) a loan's credit balance back; another member of staff decides.
    ---
    post:
      summary: Propose a refund of a credit balance (maker-checker)
      security: [{bearerAuth: []}]
      parameters:
        - {in: path, name: loan_id, required: true, schema: {type: integer}}
      requestBody:
        required: true
        content:
          application/json:
            schema: RefundInput
      responses:
        201:
          content:
            application/json:
              schema: Approval
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
        409: {$ref: '#/components/responses/Conflict'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    return _proposed(ApprovalKind.REFUND, loan_id, _REFUND.load(json_body()))


@bp.get("/approvals")
@role_required(*STAFF)
def list_approvals():
    """Proposals by status (pending by default), oldest first.
    ---
    get:
      summary: List write-off and refund proposals
      security: [{bearerAuth: []}]
      parameters:
        - {in: query, name: status, schema: {type: string, enum: [pending, approved, rejected]}}
      responses:
        200:
          content:
            application/json:
              schema:
                type: object
                properties:
                  approvals: {type: array, items: {$ref: '#/components/schemas/Approval'}}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    args = _LIST.load(request.args.to_dict())
    rows = get_session().exec(
        select(Approval).where(Approval.status == args["status"]).order_by(Approval.id).limit(500)
    )
    return jsonify({"approvals": _APPROVAL.dump(rows.all(), many=True)})


def _decide(approval_id: int, approve: bool):
    data = _DECISION.load(json_body() if request.get_data() else {})
    session = get_session()
    approval = approvals.decide(
        session,
        approval_id=approval_id,
        approve=approve,
        note=data["note"],
        user_id=current_actor().id,
        now=utcnow(),
        timezone=current_app.extensions["lending.settings"].timezone,
    )
    session.commit()
    return jsonify(_APPROVAL.dump(approval))


@bp.post("/approvals/<int:approval_id>/approve")
@role_required(*STAFF)
def approve(approval_id: int):
    """Approve a proposal and do it (a write-off, or the refund paid out); never its proposer.
    ---
    post:
      summary: Approve a write-off or a refund
      security: [{bearerAuth: []}]
      parameters:
        - {in: path, name: approval_id, required: true, schema: {type: integer}}
      requestBody:
        content:
          application/json:
            schema: DecisionInput
      responses:
        200:
          content:
            application/json:
              schema: Approval
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
        409: {$ref: '#/components/responses/Conflict'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    return _decide(approval_id, True)


@bp.post("/approvals/<int:approval_id>/reject")
@role_required(*STAFF)
def reject(approval_id: int):
    """Reject a proposal (nothing moves); never its proposer.
    ---
    post:
      summary: Reject a write-off or a refund
      security: [{bearerAuth: []}]
      parameters:
        - {in: path, name: approval_id, required: true, schema: {type: integer}}
      requestBody:
        content:
          application/json:
            schema: DecisionInput
      responses:
        200:
          content:
            application/json:
              schema: Approval
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
        409: {$ref: '#/components/responses/Conflict'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    return _decide(approval_id, False)
