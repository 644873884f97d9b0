"""Log-in and log-out pages (Flask-Login sessions, argon2 passwords, CSRF-protected form)."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import LoginManager, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, Length

from lending.db import get_session
from lending.models import User
from lending.models.enums import Role
from lending.services import audit
from lending.services.users import Lockout, authenticate
from lending.web.context import utcnow

bp = Blueprint("auth", __name__, url_prefix="/auth")
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to see that page."


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    user = get_session().get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.active else None


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


def lockout_policy() -> Lockout:
    """The lock-out of this deployment's settings."""
    settings = current_app.extensions["lending.settings"]
    return Lockout(settings.login_max_failures, settings.login_lock_minutes)


def landing_for(user: User) -> str:
    """Where a user goes after logging in."""
    if user.role == Role.RETAILER:
        return url_for("retailer.new_application")
    if user.role in (Role.UNDERWRITER, Role.ADMIN):
        return url_for("staff.referrals")
    if user.role == Role.BORROWER:
        return url_for("portal.loans")
    return url_for("main.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        session = get_session()
        user = authenticate(
            session,
            email=form.email.data,
            password=form.password.data,
            hasher=current_app.extensions["lending.hasher"],
            ip=request.remote_addr or "",
            lockout=lockout_policy(),
            now=utcnow(),
        )
        session.commit()  # the failed attempt is recorded too
        if user is not None:
            login_user(user)
            target = request.args.get("next", "")
            # Only local paths: an open redirect would make the log-in page a phishing tool.
            if not target.startswith("/") or target.startswith("//"):
                target = landing_for(user)
            return redirect(target)
        flash("The e-mail or password is not right.", "error")
        return render_template("auth/login.html", form=form), 401
    status = 422 if form.errors else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    session = get_session()
    from flask_login import current_user

    audit.record(session, action="auth.logout", actor_id=current_user.id, obj=current_user)
    session.commit()
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("main.index"))
