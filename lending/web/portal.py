"""The borrower portal: my loans, a loan's schedule, payments, reminders, payoff, statement."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlmodel import select

from lending.db import get_session
from lending.errors import LendingError
from lending.models import Applicant, Loan
from lending.models.enums import LoanStatus, Role
from lending.schemas.portal import PayoffFormSchema
from lending.services.lifecycle import cancel_in_cooling_off, cancellable
from lending.services.loan_view import loan_view, payments_of, quote_payoff, reminders_of
from lending.web.access import current_actor, owned, role_required, visible_to
from lending.web.context import business_date, utcnow
from lending.web.errors import flatten_errors

bp = Blueprint("portal", __name__, url_prefix="/portal")


@bp.route("/")
@role_required(Role.BORROWER)
def loans():
    session = get_session()
    rows = session.exec(
        select(Loan).where(visible_to(current_actor(), Loan)).order_by(Loan.id.desc())
    ).all()
    today = business_date()
    return render_template("portal/loans.html", views=[loan_view(session, x, today) for x in rows])


@bp.route("/loans/<int:loan_id>")
@role_required(Role.BORROWER)
@owned(Loan, "loan_id")
def loan(loan: Loan):
    session = get_session()
    quote, errors = _payoff(loan)
    return render_template(
        "portal/loan.html",
        view=loan_view(session, loan, business_date()),
        payments=payments_of(session, loan),
        reminders=reminders_of(session, loan),
        quote=quote,
        errors=errors,
        as_of=request.args.get("as_of", business_date().isoformat()),
        can_cancel=cancellable(session, loan, utcnow()),
    ), 422 if errors else 200


def _payoff(loan: Loan):
    """The payoff quote for ?as_of=, with the form's errors (none asked: no quote)."""
    if "as_of" not in request.args or loan.status != LoanStatus.ACTIVE:
        return None, {}
    try:
        as_of = PayoffFormSchema().load({"as_of": request.args["as_of"]})["as_of"]
        return quote_payoff(session=get_session(), loan=loan, as_of=as_of), {}
    except ValidationError as exc:
        return None, flatten_errors(exc.messages)
    except LendingError as exc:
        return None, getattr(exc, "errors", {"as_of": [exc.message]})


@bp.route("/loans/<int:loan_id>/statement")
@role_required(Role.BORROWER)
@owned(Loan, "loan_id")
def statement(loan: Loan):
    session = get_session()
    return render_template(
        "portal/statement.html",
        view=loan_view(session, loan, business_date()),
        payments=payments_of(session, loan),
        applicant=session.get(Applicant, loan.applicant_id),
        printed_at=utcnow(),
    )


@bp.route("/loans/<int:loan_id>/cancel", methods=["POST"])
@role_required(Role.BORROWER)
@owned(Loan, "loan_id")
def cancel(loan: Loan):
    session = get_session()
    try:
        cancel_in_cooling_off(
            session=session,
            loan_id=loan.id,
            user_id=current_actor().id,
            now=utcnow(),
            timezone=current_app.extensions["lending.settings"].timezone,
        )
    except LendingError as exc:
        session.rollback()
        flash(_(exc.message), "error")
        return redirect(url_for("portal.loan", loan_id=loan.id), 303)
    session.commit()
    flash(_("Your loan is cancelled. Return the phone to the shop for your refund."), "info")
    return redirect(url_for("portal.loan", loan_id=loan.id), 303)


from lending.web import portal_account  # noqa: E402,F401  (activation and language on bp)
