"""Staff page of maker-checker: propose a write-off or a refund, decide another's proposal."""

from flask import current_app, flash, redirect, render_template, request, url_for
from marshmallow import Schema, ValidationError, fields, validate
from sqlmodel import select

from lending.db import get_session
from lending.errors import LendingError
from lending.models import User
from lending.models.enums import ApprovalKind, ApprovalStatus, Role
from lending.models.ledger import Approval
from lending.schemas import flatten_errors
from lending.schemas.fields import Money
from lending.schemas.payments import MAX_PAYMENT
from lending.schemas.staff import form_args
from lending.services import approvals
from lending.web.access import current_actor, role_required
from lending.web.context import utcnow
from lending.web.staff import bp

STAFF = (Role.ADMIN, Role.UNDERWRITER)


class ProposalSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in ApprovalKind]))
    loan_id = fields.Integer(required=True, validate=validate.Range(min=1))
    amount = Money(load_default=None, min_value="0.01", max_value=MAX_PAYMENT)
    reason = fields.String(required=True, validate=validate.Length(min=3, max=500))


class DecisionSchema(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(["approve", "reject"]))
    note = fields.String(load_default="", validate=validate.Length(max=500))


def _page(errors: dict | None = None, values=None, status: int = 200):
    session = get_session()
    rows = session.exec(
        select(Approval, User.email)
        .join(User, User.id == Approval.proposed_by_id)
        .where(Approval.status == ApprovalStatus.PENDING)
        .order_by(Approval.id)
        .limit(200)
    ).all()
    decided = session.exec(
        select(Approval)
        .where(Approval.status != ApprovalStatus.PENDING)
        .order_by(Approval.id.desc())
        .limit(20)
    ).all()
    errors = errors or {}
    return render_template(
        "staff/approvals.html",
        pending=rows,
        decided=decided,
        errors=errors,
        values=values if values is not None else {},
        me=current_actor().id,
    ), (status if status != 200 else 422 if errors else 200)


@bp.get("/approvals")
@role_required(*STAFF)
def approvals_page():
    return _page()


@bp.post("/approvals")
@role_required(*STAFF)
def propose():
    names = ("kind", "loan_id", "amount", "reason")
    try:
        data = ProposalSchema().load(form_args(request.form, names))
    except ValidationError as exc:
        return _page(flatten_errors(exc.messages), request.form)
    if data["kind"] == ApprovalKind.REFUND.value and data["amount"] is None:
        return _page({"amount": ["A refund needs an amount."]}, request.form)
    try:
        approval = approvals.propose(
            get_session(),
            kind=ApprovalKind(data["kind"]),
            loan_id=data["loan_id"],
            reason=data["reason"],
            amount=data["amount"] if data["kind"] == ApprovalKind.REFUND.value else None,
            user_id=current_actor().id,
            now=utcnow(),
        )
    except LendingError as exc:
        get_session().rollback()
        fields_ = getattr(exc, "errors", None) or {"loan_id": [exc.message]}
        return _page(fields_, request.form)
    get_session().commit()
    flash(f"Proposal #{approval.id} is waiting for another member of staff.", "info")
    return redirect(url_for("staff.approvals_page"), 303)


@bp.post("/approvals/<int:approval_id>")
@role_required(*STAFF)
def decide(approval_id: int):
    try:
        data = DecisionSchema().load(form_args(request.form, ("decision", "note")))
    except ValidationError as exc:
        return _page(flatten_errors(exc.messages), request.form)
    try:
        approval = approvals.decide(
            get_session(),
            approval_id=approval_id,
            approve=data["decision"] == "approve",
            note=data["note"],
            user_id=current_actor().id,
            now=utcnow(),
            timezone=current_app.extensions["lending.settings"].timezone,
        )
    except LendingError as exc:
        get_session().rollback()
        return _page({"decision": [exc.message]}, request.form, exc.status)
    get_session().commit()
    flash(f"Proposal #{approval.id} {approval.status}.", "info")
    return redirect(url_for("staff.approvals_page"), 303)
