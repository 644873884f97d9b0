"""Portal accounts: activation with an SMS code, and the language a borrower chooses."""

from flask import current_app, redirect, render_template, request, url_for
from flask import session as web_session
from flask_babel import gettext as _
from flask_login import current_user, login_user
from marshmallow import ValidationError

from lending.db import get_session
from lending.errors import InvalidInput
from lending.schemas.portal import ActivationSchema, CodeRequestSchema, LanguageSchema, form_data
from lending.services.activation import Keys, NewAccount, activate, request_code
from lending.web.context import utcnow
from lending.web.errors import flatten_errors
from lending.web.portal import bp

PENDING = "portal_activation"  # the code being entered, kept in the signed session cookie
YEAR = 365 * 24 * 3600


@bp.route("/activate", methods=["GET", "POST"])
def activate_start():
    if request.method == "GET":
        return render_template("portal/activate.html", values={}, errors={})
    values = form_data(request.form)
    try:
        data = CodeRequestSchema().load(values)
    except ValidationError as exc:
        errors = flatten_errors(exc.messages)
        return render_template("portal/activate.html", values=values, errors=errors), 422
    db = get_session()
    code_id = request_code(
        session=db, cnic=data["cnic"], mobile=data["mobile"], now=utcnow(), secret=_secret()
    )
    db.commit()
    web_session[PENDING] = code_id or 0  # the same answer whether or not the details matched
    return redirect(url_for("portal.activate_finish"), 303)


@bp.route("/activate/code", methods=["GET", "POST"])
def activate_finish():
    if PENDING not in web_session:
        return redirect(url_for("portal.activate_start"), 303)
    if request.method == "GET":
        return render_template("portal/activate_code.html", values={}, errors={})
    values = form_data(request.form)
    try:
        data = ActivationSchema().load(values)
        user = _activate(data)
    except ValidationError as exc:
        return _code_page(values, flatten_errors(exc.messages))
    except InvalidInput as exc:
        return _code_page(values, exc.errors)
    if user is None:
        return _code_page(values, {"code": [_("The code is not right or has expired.")]})
    web_session.pop(PENDING, None)
    login_user(user)
    return redirect(url_for("portal.loans"), 303)


def _activate(data: dict):
    """Check the code and open the account; the failed try is committed as well."""
    db = get_session()
    try:
        user = activate(
            session=db,
            code_id=web_session.get(PENDING),
            entered=NewAccount(code=data["code"], email=data["email"], password=data["password"]),
            keys=Keys(secret=_secret(), hasher=current_app.extensions["lending.hasher"]),
            now=utcnow(),
        )
    except InvalidInput:
        db.rollback()
        raise
    db.commit()
    return user


def _code_page(values: dict, errors: dict):
    values = {k: v for k, v in values.items() if not k.startswith("password")}
    return render_template("portal/activate_code.html", values=values, errors=errors), 422


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


@bp.route("/language", methods=["POST"])
def language():
    data = LanguageSchema().load(form_data(request.form))  # a bad value is a 422 page
    if current_user.is_authenticated:
        current_user.language = data["lang"]
        get_session().commit()
    target = data["next"]
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("main.index")  # only local paths: no open redirect
    response = redirect(target, 303)
    secure = current_app.extensions["lending.settings"].env == "production"
    response.set_cookie("lang", data["lang"], max_age=YEAR, samesite="Lax", secure=secure)
    return response
