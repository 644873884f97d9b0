"""Device-loan platform: the Flask application factory."""

import os
import uuid
from pathlib import Path

from flask import Flask, g, request
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect

from lending import db, regulation
from lending.config import load_settings
from lending.logging import configure_logging
from lending.security import password_hasher

csrf = CSRFProtect()
babel = Babel()
LANGUAGES = ("en", "ur")


def create_app(overrides: dict | None = None) -> Flask:
    """Build the app: settings, database, extensions, blueprints, errors, CLI."""
    app = Flask(__name__, instance_relative_config=True)
    settings = load_settings(app.instance_path, overrides)
    configure(app, settings)
    configure_logging(app)
    db.init_app(app)
    register_extensions(app)
    register_blueprints(app)
    register_hardening(app)
    register_errors(app)
    register_cli(app)
    return app


def configure(app: Flask, settings) -> None:
    """Copy the typed settings into Flask's config."""
    app.extensions["lending.settings"] = settings
    regulation.activate(settings.regulator_profile)  # classification and provisioning
    regulation.use_basis(settings.accounting_basis)  # when profit is income
    app.config.update(
        SECRET_KEY=settings.secret_key,
        DATABASE_URL=settings.database_url,
        TESTING=settings.testing,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.env == "production",
        REMEMBER_COOKIE_SECURE=settings.env == "production",
        REMEMBER_COOKIE_HTTPONLY=True,
        BABEL_DEFAULT_LOCALE="en",
        BABEL_DEFAULT_TIMEZONE=settings.timezone,
        JSON_SORT_KEYS=False,
    )
    app.extensions["lending.hasher"] = password_hasher(
        settings.argon2_time_cost, settings.argon2_memory_cost
    )
    os.makedirs(app.instance_path, exist_ok=True)


def select_locale() -> str:
    """The user's saved language, else a `lang` cookie, else the browser's preference."""
    from flask_login import current_user

    if current_user and current_user.is_authenticated:
        return str(current_user.language)
    chosen = request.cookies.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or "en"


def register_extensions(app: Flask) -> None:
    """CSRF on every form, Flask-Login sessions, Flask-Babel."""
    from lending.i18n import compile_catalogues
    from lending.web.auth import login_manager
    from lending.web.filters import register_filters
    from lending.web.hardening import DatabaseInteger

    csrf.init_app(app)
    login_manager.init_app(app)
    app.url_map.converters["int"] = DatabaseInteger  # before the blueprints add their rules
    compiled = compile_catalogues(Path(app.instance_path) / "translations")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(compiled)
    babel.init_app(app, locale_selector=select_locale)
    register_filters(app)

    @app.before_request
    def assign_request_id() -> None:
        g.request_id = request.headers.get("X-Request-Id", "")[:36] or str(uuid.uuid4())

    @app.context_processor
    def page_language() -> dict:
        from flask_babel import get_locale

        return {"lang": str(get_locale() or "en")}


def register_blueprints(app: Flask) -> None:
    """One blueprint per audience; the API is token-authenticated and CSRF-exempt."""
    from lending.web import auth, main, openapi, portal, retailer, staff
    from lending.web.api import bp as api_bp

    csrf.exempt(api_bp)
    for bp in (main.bp, auth.bp, retailer.bp, staff.bp, portal.bp, api_bp, openapi.bp):
        app.register_blueprint(bp)


def register_hardening(app: Flask) -> None:
    """Log-in rate limit and security headers (after the blueprints: it wraps the log-in)."""
    from lending.web.hardening import register_hardening as register

    register(app)


def register_errors(app: Flask) -> None:
    """Map domain and HTTP errors to JSON or pages."""
    from lending.web.errors import register_error_handlers

    register_error_handlers(app)


def register_cli(app: Flask) -> None:
    """The `lending` / `flask --app lending` commands."""
    from lending.jobs.commands import register_commands

    register_commands(app.cli)
