"""The shop's pages: its applications (the counter form arrives with the decision engine)."""

from flask import Blueprint, render_template, request
from sqlalchemy import func
from sqlmodel import select

from lending.db import get_session
from lending.models import Applicant, Application
from lending.models.enums import ApplicationStatus, Role
from lending.web.access import current_actor, owned, role_required, visible_to

bp = Blueprint("retailer", __name__, url_prefix="/retailer")
PAGE_SIZE = 25


@bp.route("/applications")
@role_required(Role.RETAILER, Role.UNDERWRITER, Role.ADMIN)
def applications():
    actor = current_actor()
    page = max(request.args.get("page", 1, type=int), 1)
    status = request.args.get("status", "")
    condition = visible_to(actor, Application)
    if status in ApplicationStatus.__members__.values():
        condition = condition & (Application.status == status)
    session = get_session()
    total = session.exec(select(func.count()).select_from(Application).where(condition)).one()
    rows = session.exec(
        select(Application, Applicant)
        .join(Applicant)
        .where(condition)
        .order_by(Application.id.desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    return render_template(
        "retailer/applications.html",
        rows=rows,
        page=page,
        total=total,
        status=status,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        statuses=list(ApplicationStatus),
    )


@bp.route("/applications/<int:application_id>")
@role_required(Role.RETAILER, Role.UNDERWRITER, Role.ADMIN)
@owned(Application, "application_id")
def application(application: Application):
    from lending.web.context import utcnow
    from lending.web.counter import loan_of

    applicant = get_session().get(Applicant, application.applicant_id)
    return render_template(
        "retailer/application.html",
        app_=application,
        applicant=applicant,
        loan=loan_of(application),
        now=utcnow(),
        can_accept=current_actor().role == Role.RETAILER,
    )


from lending.web import counter, retailer_loans  # noqa: E402,F401  (their routes register on bp)
