"""Staff pages: the underwriting queue and decisions on referred applications."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import func
from sqlmodel import select

from lending.db import get_session
from lending.errors import LendingError
from lending.models import Applicant, Application, Decision, DeviceModel, Product, Retailer
from lending.models.enums import ApplicationStatus, Role
from lending.schemas import flatten_errors
from lending.schemas.applications import UnderwriterDecisionSchema
from lending.services.applications import Verdict, decide_referral
from lending.web.access import current_actor, owned, role_required
from lending.web.context import utcnow

bp = Blueprint("staff", __name__, url_prefix="/staff")
PAGE_SIZE = 25


@bp.route("/referrals")
@role_required(Role.UNDERWRITER, Role.ADMIN)
def referrals():
    page = max(request.args.get("page", 1, type=int), 1)
    session = get_session()
    referred = Application.status == ApplicationStatus.REFERRED
    total = session.exec(select(func.count()).select_from(Application).where(referred)).one()
    rows = session.exec(
        select(Application, Applicant, Retailer)
        .join(Applicant)
        .join(Retailer)
        .where(referred)
        .order_by(Application.id)
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    return render_template(
        "staff/referrals.html",
        rows=rows,
        total=total,
        page=page,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
    )


@bp.route("/applications/<int:application_id>", methods=["GET", "POST"])
@role_required(Role.UNDERWRITER, Role.ADMIN)
@owned(Application, "application_id")
def application(application: Application):
    errors: dict = {}
    status = 200
    if request.method == "POST":
        session = get_session()
        try:
            data = UnderwriterDecisionSchema().load(
                {"status": request.form.get("status", ""), "note": request.form.get("note", "")}
            )
            verdict = Verdict(ApplicationStatus(data["status"]), data["note"], current_actor().id)
            decide_referral(
                session=session, application_id=application.id, verdict=verdict, now=utcnow()
            )
            session.commit()
            flash(f"Application {application.id} {data['status']}.", "info")
            return redirect(url_for("staff.referrals"), 303)
        except ValidationError as exc:
            errors, status = flatten_errors(exc.messages), 422
        except LendingError as exc:  # decided meanwhile by someone else: 409, shown as it is now
            session.rollback()
            errors, status = {"_schema": [exc.message]}, exc.status
    return _detail(application, errors), status


def _detail(application: Application, errors: dict):
    session = get_session()
    decisions = session.exec(
        select(Decision).where(Decision.application_id == application.id).order_by(Decision.id)
    ).all()
    return render_template(
        "staff/application.html",
        app_=application,
        errors=errors,
        decisions=decisions,
        applicant=session.get(Applicant, application.applicant_id),
        product=session.get(Product, application.product_id),
        retailer=session.get(Retailer, application.retailer_id),
        device=session.get(DeviceModel, application.device_model_id)
        if application.device_model_id
        else None,
        values=request.form,
    )


# The other staff modules register their routes on bp.
from lending.web import (  # noqa: E402,F401
    staff_approvals,
    staff_dashboard,
    staff_incentives,
    staff_ledger,
    staff_ops,
    staff_products,
)
