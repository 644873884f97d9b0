"""Staff pages for products: the list, and create or edit (administrators) as new versions."""

from decimal import Decimal

from flask import flash, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import func
from sqlmodel import select

from lending.db import get_session
from lending.errors import LendingError, NotFound
from lending.models import Loan, Product, ProductVersion
from lending.models.enums import DayCount, Frequency, Method, Role
from lending.models.products import TERM_FIELDS
from lending.schemas import flatten_errors
from lending.schemas.common import rate_text
from lending.schemas.products import OFFERED_PREPAYMENT, ProductInputSchema
from lending.schemas.staff import PageArgs
from lending.services.products import create_product, revise_product
from lending.web.access import current_actor, role_required
from lending.web.paging import paginate
from lending.web.staff import bp

STAFF = (Role.ADMIN, Role.UNDERWRITER)
CHECKBOXES = ("islamic", "fee_financed", "roll_holidays", "active")
# The selects' options.
KINDS = (
    ("method", Method),
    ("frequency", Frequency),
    ("day_count", DayCount),
    ("prepayment", OFFERED_PREPAYMENT),
)


@bp.get("/products")
@role_required(*STAFF)
def products():
    args = PageArgs().load({"page": request.args.get("page", "1")})
    active = request.args.get("active", "")
    query = select(Product).order_by(Product.code)
    if active in ("yes", "no"):
        query = query.where(Product.active == (active == "yes"))
    page = paginate(get_session(), query, args["page"], {"active": active})
    return render_template("staff/products.html", page=page, active=active)


@bp.route("/products/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def new_product():
    errors: dict = {}
    if request.method == "POST":
        errors = _save(None)
        if not errors:
            return redirect(url_for("staff.products"), 303)
    values = request.form if request.method == "POST" else _defaults()
    return _form_page(None, values, errors), 422 if errors else 200


@bp.get("/products/<code>")
@role_required(*STAFF)
def product(code: str):
    current = _product(code)
    return _form_page(current, as_form(current), {})


@bp.post("/products/<code>")
@role_required(Role.ADMIN)
def edit_product(code: str):
    current = _product(code)
    errors = _save(code)
    if not errors:
        return redirect(url_for("staff.product", code=code), 303)
    return _form_page(current, request.form, errors), 422


def _product(code: str) -> Product:
    found = get_session().exec(select(Product).where(Product.code == code)).first()
    if found is None:
        raise NotFound(f"No product {code}.")
    return found


def form_data(form, code: str | None) -> dict:
    """The posted form as the schema's input: blanks dropped, unticked boxes false."""
    data = {k: v for k, v in form.items() if k not in ("csrf_token", "based_on") and v != ""}
    for box in CHECKBOXES:
        data[box] = "true" if form.get(box) else "false"
    if code:
        data["code"] = code
    return data


def _save(code: str | None) -> dict:
    session = get_session()
    based_on = request.form.get("based_on", type=int)
    try:
        data = ProductInputSchema().load(form_data(request.form, code))
        if code:
            revise_product(
                session=session, code=code, data=data, user_id=current_actor().id, based_on=based_on
            )
        else:
            create_product(session=session, data=data, user_id=current_actor().id)
    except ValidationError as exc:
        return flatten_errors(exc.messages)
    except LendingError as exc:
        session.rollback()
        return getattr(exc, "errors", None) or {"_schema": [exc.message]}
    session.commit()
    flash(f"Product {data['code']} saved.", "info")
    return {}


def _form_page(current: Product | None, values, errors: dict):
    return render_template(
        "staff/product.html",
        product=current,
        values=values,
        errors=errors,
        versions=_versions(current) if current else [],
        choices={name: [(str(e), str(e).replace("_", " ")) for e in kind] for name, kind in KINDS},
    )


def _versions(current: Product) -> list:
    """The product's versions, newest first, with the loans booked under each."""
    booked = (
        select(Loan.product_version, func.count().label("loans"))
        .where(Loan.product_id == current.id)
        .group_by(Loan.product_version)
        .subquery()
    )
    return (
        get_session()
        .exec(
            select(ProductVersion, func.coalesce(booked.c.loans, 0))
            .outerjoin(booked, booked.c.product_version == ProductVersion.version)
            .where(ProductVersion.product_id == current.id)
            .order_by(ProductVersion.version.desc())
            .limit(50)
        )
        .all()
    )


def as_form(product: Product) -> dict:
    """A product's values as the form shows them."""
    values = {}
    for name in (*TERM_FIELDS, "active"):
        value = getattr(product, name)
        if isinstance(value, bool):
            values[name] = "true" if value else ""
        elif isinstance(value, list):
            values[name] = ", ".join(str(v) for v in value)
        elif name == "rounding":
            values[name] = f"{value.normalize():f}"  # the select's "1" or "0.01"
        elif isinstance(value, Decimal):
            values[name] = rate_text(value)  # as stored, at least two places: 36.00, 9.4822
        else:
            values[name] = "" if value is None else str(value)
    return values


def _defaults() -> dict:
    """A new product's form, with the model's defaults."""
    blank = Product(code="", name="", method=Method.REDUCING, annual_rate=Decimal("0"))
    return {**as_form(blank), "annual_rate": "", "tenors": "3, 6, 12"}
