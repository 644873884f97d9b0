"""The counter: a new application, the instant answer, the Key Fact Statement, acceptance."""

from flask import flash, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlmodel import select

from lending.db import get_session
from lending.errors import InvalidInput, LendingError
from lending.finance.errors import TermsError
from lending.models import Applicant, Application, Loan, Product
from lending.models.enums import EmploymentType, Role
from lending.schemas import flatten_errors
from lending.schemas.applications import ApplicationInputSchema
from lending.services.applications import Origin, submit_application
from lending.services.booking import accept_offer
from lending.web.access import current_actor, owned, role_required
from lending.web.context import decision_context
from lending.web.retailer import bp


def nested_form(form) -> dict:
    """The flat form (`applicant.cnic`, `device.imei`, ...) as the API's nested document."""
    data = {"applicant": {}, "device": {}}
    for key, value in form.items():
        if key == "csrf_token" or value == "":
            continue
        group, _, name = key.partition(".")
        if name and group in data:
            data[group][name] = value
        elif key in ("down_payment", "tenor", "product_code"):
            data[key] = int(value) if key == "tenor" and value.isdigit() else value
    return data


def _form_page(values: dict, errors: dict, status: int = 200):
    products = (
        get_session().exec(select(Product).where(Product.active).order_by(Product.code)).all()
    )
    tenors = sorted({t for p in products for t in p.tenors})
    return render_template(
        "retailer/new.html",
        values=values,
        errors=errors,
        products=products,
        tenors=tenors,
        employment_types=list(EmploymentType),
    ), status


@bp.route("/applications/new", methods=["GET", "POST"])
@role_required(Role.RETAILER)
def new_application():
    if request.method == "GET":
        return _form_page({}, {})
    values = request.form.to_dict()
    session = get_session()
    try:
        data = ApplicationInputSchema().load(nested_form(request.form))
        actor = current_actor()
        application = submit_application(
            session=session,
            data=data,
            context=decision_context(),
            origin=Origin(retailer_id=actor.retailer_id, user_id=actor.id),
        )
    except ValidationError as exc:
        return _form_page(values, flatten_errors(exc.messages), 422)
    except (InvalidInput, TermsError) as exc:
        session.rollback()
        return _form_page(values, exc.errors, 422)
    session.commit()
    return redirect(url_for("retailer.application", application_id=application.id), 303)


@bp.route("/applications/<int:application_id>/kfs")
@role_required(Role.RETAILER, Role.UNDERWRITER, Role.ADMIN)
@owned(Application, "application_id")
def key_facts(application: Application):
    session = get_session()
    return render_template(
        "retailer/kfs.html",
        app_=application,
        applicant=session.get(Applicant, application.applicant_id),
        product=session.get(Product, application.product_id),
    )


@bp.route("/applications/<int:application_id>/accept", methods=["POST"])
@role_required(Role.RETAILER)
@owned(Application, "application_id")
def accept(application: Application):
    if request.form.get("kfs_read") != "yes":
        flash("Show the customer the Key Fact Statement and tick the box first.", "error")
        return redirect(url_for("retailer.application", application_id=application.id), 303)
    session = get_session()
    context = decision_context()
    try:
        loan = accept_offer(
            session=session,
            application_id=application.id,
            now=context.now,
            user_id=current_actor().id,
            timezone=context.timezone,
        )
    except LendingError as exc:
        session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("retailer.application", application_id=application.id), 303)
    session.commit()
    flash(f"Loan {loan.id} is booked. Hand over the phone.", "info")
    return redirect(url_for("retailer.application", application_id=application.id), 303)


def loan_of(application: Application) -> Loan | None:
    """The loan booked from an application, if any."""
    return get_session().exec(select(Loan).where(Loan.application_id == application.id)).first()
