"""The JSON API under /api/v1: bearer tokens, JSON errors, one module per resource."""

from flask import Blueprint, g, request

from lending.db import get_session
from lending.errors import Unauthorized
from lending.services.users import user_for_token
from lending.web.access import audit_refusal
from lending.web.context import utcnow

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def public(view):
    """Mark a view that needs no bearer token (public calculator, signed webhooks)."""
    view.public = True
    return view


@bp.before_request
def authenticate_token():
    view = bp_view()
    if view is None or getattr(view, "public", False):
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    user = (
        user_for_token(get_session(), token.strip(), now=utcnow())
        if scheme.lower() == "bearer"
        else None
    )
    if user is None:
        audit_refusal(
            "auth.token_refused",
            reason="missing" if not header else "invalid",
            token_prefix=token.strip()[:12],
        )
        raise Unauthorized("A valid bearer token is required.")
    g.api_user = user


def bp_view():
    from flask import current_app

    return current_app.view_functions.get(request.endpoint) if request.endpoint else None


from lending.web.api import (  # noqa: E402,F401  (the routes register on bp)
    applications,
    approvals,
    catalogue,
    devices,
    loans,
    payments,
    quote,
    reports,
)
