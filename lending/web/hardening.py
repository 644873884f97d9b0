"""Abuse and browser defences: log-in rate limit, security headers on every response."""

from flask import Flask, Response
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.routing import IntegerConverter

# The pages load scripts and styles from /static only: no inline script, style or handler.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=31536000; includeSubDomains"


def register_hardening(app: Flask) -> None:
    """Rate-limit log-in attempts per client address and add the security headers."""
    settings = app.extensions["lending.settings"]
    # One limiter per app, so that each app (and each test) counts in its own storage.
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=settings.ratelimit_storage_uri,
        headers_enabled=True,
    )
    app.extensions["lending.limiter"] = limiter
    login = app.view_functions["auth.login"]
    app.view_functions["auth.login"] = limiter.limit(settings.login_rate_limit, methods=["POST"])(
        login
    )
    hsts = settings.env != "development"

    @app.after_request
    def security_headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if hsts:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response


class DatabaseInteger(IntegerConverter):
    """`<int:...>` ids no larger than an SQL INTEGER: a bigger one is a 404, not a driver error."""

    def __init__(self, url_map, *args, **kwargs) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)
