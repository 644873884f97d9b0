"""Staff pages of the general ledger: the trial balance, an account's statement, the close."""

from datetime import date, timedelta

from flask import flash, redirect, render_template, request, url_for
from marshmallow import Schema, ValidationError, fields, validate

from lending.db import get_session
from lending.errors import LendingError
from lending.models.enums import Role
from lending.schemas import flatten_errors
from lending.schemas.registry import MONTH
from lending.schemas.staff import DateRangeSchema, form_args
from lending.services import ledger
from lending.web.access import current_actor, role_required
from lending.web.context import business_date, utcnow
from lending.web.staff import bp

STAFF = (Role.ADMIN, Role.UNDERWRITER)
STATEMENT_LINES = 500  # a longer range is narrowed, not cut silently


class AsOfSchema(Schema):
    as_of = fields.Date(load_default=None)


class CloseSchema(Schema):
    through = fields.Date(required=True)


def _load(schema: Schema, names: tuple[str, ...], source) -> tuple[dict, dict]:
    try:
        return schema.load(form_args(source, names)), {}
    except ValidationError as exc:
        return schema.load({}), flatten_errors(exc.messages)


@bp.get("/ledger")
@role_required(*STAFF)
def trial_balance():
    args, errors = _load(AsOfSchema(), ("as_of",), request.args)
    return _trial_balance_page(args["as_of"] or business_date(), errors, {})


def _trial_balance_page(as_of, errors: dict, close_errors: dict, status: int = 200):
    session = get_session()
    balance = ledger.trial_balance(session, as_of)
    status = 422 if errors or close_errors else status
    return render_template(
        "staff/ledger.html",
        balance=balance,
        closed=ledger.closed_through(session),
        errors=errors,
        close_errors=close_errors,
        values=request.values,
        today=business_date(),
    ), status


@bp.post("/ledger/close")
@role_required(Role.ADMIN)
def close_period():
    args, errors = _load(CloseSchema(), ("through",), request.form)
    if errors:
        return _trial_balance_page(business_date(), {}, errors)
    try:
        ledger.close_period(
            get_session(), args["through"], user_id=current_actor().id, now=utcnow()
        )
    except LendingError as exc:
        return _trial_balance_page(business_date(), {}, {"through": [exc.message]})
    get_session().commit()
    flash(f"The books are closed through {args['through']}.", "info")
    return redirect(url_for("staff.trial_balance", as_of=args["through"].isoformat()), 303)


@bp.get("/ledger/accounts/<code>")
@role_required(*STAFF)
def account_statement(code: str):
    args, errors = _load(DateRangeSchema(), ("date_from", "date_to"), request.args)
    end = args["date_to"] or business_date()
    start = args["date_from"] or end.replace(day=1)
    account, opening, lines = ledger.statement(
        get_session(), code, start, end, limit=STATEMENT_LINES + 1
    )
    more = len(lines) > STATEMENT_LINES
    return render_template(
        "staff/ledger_account.html",
        account=account,
        opening=opening,
        lines=lines[:STATEMENT_LINES],
        more=more,
        closing=lines[STATEMENT_LINES - 1 if more else -1].balance if lines else opening,
        start=start,
        end=end,
        errors=errors,
        values=request.args,
        day_before=start - timedelta(days=1) if start > date.min else start,
    ), 422 if errors else 200


class MonthSchema(Schema):
    month = fields.String(
        load_default=None,
        validate=validate.Regexp(MONTH, error="Use YYYY-MM, from 2000 to 2099."),
    )


@bp.get("/ledger/income")
@role_required(*STAFF)
def income_statement():
    args, errors = _load(MonthSchema(), ("month",), request.args)
    today = business_date()
    first = today.replace(day=1)
    if args["month"]:
        year, month = map(int, args["month"].split("-"))
        first = date(year, month, 1)
    statement = ledger.income_statement(get_session(), first)
    return render_template(
        "staff/ledger_income.html", statement=statement, errors=errors, values=request.args
    ), 422 if errors else 200
