"""Staff pages for the device registry, incentive programmes and the monthly claims."""

import re

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import func
from sqlmodel import select

from lending.db import get_session
from lending.errors import LendingError
from lending.models import DeviceModel, DeviceTac, IncentiveProgramme, Manufacturer
from lending.models.enums import Role
from lending.schemas import flatten_errors
from lending.schemas.registry import (
    MONTH,
    ClaimsQuerySchema,
    ProgrammeSchema,
    SubsidyReceiptSchema,
)
from lending.schemas.staff import form_args
from lending.services.claims import (
    claims_report,
    programme_usage,
    received,
    reconciled,
    record_receipt,
    to_csv,
    totals,
)
from lending.services.programmes import create_programme, revise_programme
from lending.services.registry import import_devices
from lending.web.access import current_actor, role_required
from lending.web.context import business_date, utcnow
from lending.web.staff import PAGE_SIZE, bp


@bp.route("/registry", methods=["GET", "POST"])
@role_required(Role.ADMIN, Role.UNDERWRITER)
def registry():
    report = None
    if request.method == "POST":
        if current_actor().role != Role.ADMIN:
            flash("Only an administrator may import the registry.", "error")
        elif not request.files.get("file") or not request.files["file"].filename:
            flash("Choose a CSV file to import.", "error")
        else:
            session = get_session()
            text = request.files["file"].read().decode("utf-8-sig", errors="replace")
            report = import_devices(session, text, actor_id=current_actor().id)
            session.commit()
    return _registry_page(report)


def _registry_page(report):
    page = max(request.args.get("page", 1, type=int), 1)
    local = request.args.get("local", "")
    session = get_session()
    query = select(DeviceModel, Manufacturer).join(Manufacturer)
    if local in ("yes", "no"):
        query = query.where(Manufacturer.assembled_in_pk == (local == "yes"))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(Manufacturer.name, DeviceModel.name)
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    tacs: dict[int, list[str]] = {}
    for tac in session.exec(
        select(DeviceTac).where(DeviceTac.device_model_id.in_([m.id for m, _ in rows]))
    ):
        tacs.setdefault(tac.device_model_id, []).append(tac.tac)
    return render_template(
        "staff/registry.html",
        rows=rows,
        tacs=tacs,
        report=report,
        page=page,
        total=total,
        local=local,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
    )


@bp.route("/programmes", methods=["GET", "POST"])
@role_required(Role.ADMIN, Role.UNDERWRITER)
def programmes():
    errors: dict = {}
    if request.method == "POST":
        errors = _save_programme(None)
        if not errors:
            return redirect(url_for("staff.programmes"), 303)
    return _programmes_page(errors, None), 422 if errors else 200


@bp.route("/programmes/<code>", methods=["GET", "POST"])
@role_required(Role.ADMIN, Role.UNDERWRITER)
def programme(code: str):
    errors: dict = {}
    if request.method == "POST":
        errors = _save_programme(code)
        if not errors:
            return redirect(url_for("staff.programmes"), 303)
    return _programmes_page(errors, code), 422 if errors else 200


def _save_programme(code: str | None) -> dict:
    if current_actor().role != Role.ADMIN:
        return {"_schema": ["Only an administrator may change programmes."]}
    form = {k: v for k, v in request.form.items() if k != "csrf_token" and v != ""}
    form.setdefault("local_only", "false")
    if code:
        form["code"] = code
    session = get_session()
    try:
        data = ProgrammeSchema().load(form)
        if code:
            revise_programme(session=session, code=code, data=data, user_id=current_actor().id)
        else:
            create_programme(session=session, data=data, user_id=current_actor().id)
    except ValidationError as exc:
        return flatten_errors(exc.messages)
    except LendingError as exc:
        session.rollback()
        return {"_schema": [exc.message]}
    session.commit()
    flash(f"Programme {data['code']} saved.", "info")
    return {}


def _programmes_page(errors: dict, code: str | None):
    session = get_session()
    rows = session.exec(
        select(IncentiveProgramme)
        .where(IncentiveProgramme.current)
        .order_by(IncentiveProgramme.code)
    ).all()
    editing = next((p for p in rows if p.code == code), None)
    values = request.form if errors else (_as_form(editing) if editing else {})
    return render_template(
        "staff/programmes.html",
        rows=rows,
        errors=errors,
        values=values,
        editing=editing,
        usage=programme_usage(session),
    )


def _as_form(p: IncentiveProgramme) -> dict:
    fields = (
        "name",
        "sponsor",
        "valid_from",
        "valid_to",
        "max_device_price",
        "markup_discount_bp",
        "min_down_payment_pct",
        "subsidy_per_loan",
        "budget_count",
        "budget_amount",
    )
    values = {f: "" if getattr(p, f) is None else str(getattr(p, f)) for f in fields}
    values["local_only"] = "true" if p.local_only else "false"
    return values


@bp.route("/claims")
@role_required(Role.ADMIN, Role.UNDERWRITER)
def claims():
    month = request.args.get("month") or business_date().strftime("%Y-%m")
    try:
        args = ClaimsQuerySchema().load(
            {"month": month, "format": request.args.get("format", "json")}
        )
    except ValidationError as exc:
        return render_template(
            "staff/claims.html",
            month=month,
            lines=[],
            totals=None,
            errors=flatten_errors(exc.messages),
        ), 422
    lines = claims_report(get_session(), args["month"])
    if args["format"] == "csv":
        return Response(
            to_csv(args["month"], lines),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="incentive-claims-{month}.csv"'},
        )
    return _claims_page(args["month"], {}, 200, lines)


def _claims_page(month: str, receipt_errors: dict, status: int, lines=None):
    """The month's claim, its reconciliation with the ledger, and the sponsors' payments form
    (with its errors, if a payment was refused)."""
    session = get_session()
    if lines is None:
        lines = claims_report(session, month)
    return render_template(
        "staff/claims.html",
        month=month,
        lines=lines,
        totals=totals(lines),
        ledger=reconciled(session, month, lines),
        paid=received(session, month),
        errors={},
        receipt_errors=receipt_errors,
        values=request.form,
    ), status


@bp.post("/claims/receipts")
@role_required(Role.ADMIN, Role.UNDERWRITER)
def claim_receipt():
    """Record a sponsor's payment of the month's claim shown (the form under the claim)."""
    names = ("month", "programme", "amount", "reference", "received_on")
    month = request.form.get("month", "")
    if not re.fullmatch(MONTH, month):
        month = business_date().strftime("%Y-%m")  # the page shown with the field errors
    try:
        data = SubsidyReceiptSchema().load(form_args(request.form, names))
        record_receipt(
            get_session(),
            month=data["month"],
            programme_code=data["programme"],
            amount=data["amount"],
            reference=data["reference"],
            received_on=data["received_on"],
            user_id=current_actor().id,
            now=utcnow(),
            timezone=current_app.extensions["lending.settings"].timezone,
        )
    except ValidationError as exc:
        return _claims_page(month, flatten_errors(exc.messages), 422)
    except LendingError as exc:
        get_session().rollback()
        errors = getattr(exc, "errors", None) or {"reference": [exc.message]}
        return _claims_page(month, errors, exc.status)
    get_session().commit()
    flash(f"The sponsor's payment of Rs {data['amount']:,} is recorded.", "info")
    return redirect(url_for("staff.claims", month=data["month"]), 303)
