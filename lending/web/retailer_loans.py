"""The shop's loans with their status: scoped to the shop and paged on the database side."""

from flask import redirect, render_template, request, url_for
from sqlalchemy import func, type_coerce
from sqlmodel import select

from lending.db import get_session
from lending.models import Applicant, Instalment, Loan
from lending.models.enums import Bucket, LoanStatus, Role
from lending.models.types import Money
from lending.schemas.staff import LoanFilterSchema
from lending.web.access import current_actor, owned, role_required, visible_to
from lending.web.paging import Page, load_filters, paginate
from lending.web.retailer import bp

SHOP_AND_STAFF = (Role.RETAILER, Role.UNDERWRITER, Role.ADMIN)


def outstanding_principal():
    """Per loan, in SQL: the principal scheduled less the principal paid."""
    owed = func.coalesce(func.sum(Instalment.principal - Instalment.paid_principal), 0)
    return type_coerce(select(owed).where(Instalment.loan_id == Loan.id).scalar_subquery(), Money())


@bp.get("/loans")
@role_required(*SHOP_AND_STAFF)
def loans():
    args, errors = load_filters(LoanFilterSchema(), ("status", "bucket", "page"))
    query = (
        select(Loan, Applicant.full_name, outstanding_principal())
        .join(Applicant, Applicant.id == Loan.applicant_id)
        .where(visible_to(current_actor(), Loan))
        .order_by(Loan.id.desc())
    )
    if args["status"]:
        query = query.where(Loan.status == args["status"])
    if args["bucket"]:
        query = query.where(Loan.bucket == args["bucket"])
    page = Page.empty(args) if errors else paginate(get_session(), query, args["page"], args)
    return render_template(
        "retailer/loans.html",
        page=page,
        values=request.args if errors else args,
        errors=errors,
        statuses=list(LoanStatus),
        buckets=list(Bucket),
    ), 422 if errors else 200


@bp.get("/loans/<int:loan_id>")
@role_required(*SHOP_AND_STAFF)
@owned(Loan, "loan_id")
def loan(loan: Loan):
    return redirect(url_for("retailer.application", application_id=loan.application_id))
