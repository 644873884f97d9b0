"""Who may do what: one decorator for roles, one for ownership; foreign objects are 404."""

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from flask import g, request
from flask_login import current_user
from sqlalchemy import false, true

from lending.db import get_session
from lending.errors import Forbidden, NotFound, Unauthorized
from lending.models import User
from lending.models.enums import STAFF_ROLES, Role
from lending.services import audit
from lending.services.users import TokenActor


def current_actor() -> "User | TokenActor | None":
    """The user behind this request: the API token's (a `TokenActor`: id, role, shop,
    applicant), else the logged-in page user."""
    user = g.get("api_user")
    if user is not None:
        return user
    if current_user and current_user.is_authenticated:
        return current_user._get_current_object()
    return None


def is_api_request() -> bool:
    """True for the JSON API, whose errors are JSON and never redirect."""
    return request.path.startswith("/api/")


def audit_refusal(action: str, **detail: Any) -> None:
    """Write a security event now, even though the request itself will fail."""
    actor = current_actor()
    session = get_session()
    session.rollback()
    audit.record(
        session,
        action=action,
        actor_id=actor.id if actor else None,
        detail={"path": request.path, "method": request.method, **detail},
        ip=request.remote_addr or "",
        request_id=g.get("request_id", ""),
        object_type=detail.get("object_type", ""),
        object_id=detail.get("object_id", ""),
    )
    session.commit()


def role_required(*roles: Role) -> Callable:
    """Let only users of these roles through: 401 without a user, 403 with a wrong role."""
    allowed = frozenset(roles)

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            actor = current_actor()
            if actor is None:
                if is_api_request():
                    raise Unauthorized("A valid bearer token is required.")
                from lending.web.auth import login_manager

                return login_manager.unauthorized()
            if actor.role not in allowed:
                audit_refusal("access.denied_role", role=str(actor.role))
                raise Forbidden()
            return view(*args, **kwargs)

        wrapper.allowed_roles = allowed  # read by the access-matrix test and the OpenAPI doc
        return wrapper

    return decorator


def can_see(actor: User, obj: Any) -> bool:
    """Staff see everything; a retailer sees its shop's objects; a borrower their own."""
    if actor.role in STAFF_ROLES:
        return True
    fields = getattr(obj, "owner_fields", {})
    if actor.role == Role.RETAILER and "retailer" in fields:
        return (
            actor.retailer_id is not None and getattr(obj, fields["retailer"]) == actor.retailer_id
        )
    if actor.role == Role.BORROWER and "borrower" in fields:
        return (
            actor.applicant_id is not None
            and getattr(obj, fields["borrower"]) == actor.applicant_id
        )
    return False


def visible_to(actor: User, model: type) -> Any:
    """The SQL condition that limits a list query to what the actor may see."""
    if actor.role in STAFF_ROLES:
        return true()
    fields = getattr(model, "owner_fields", {})
    if actor.role == Role.RETAILER and "retailer" in fields and actor.retailer_id:
        return getattr(model, fields["retailer"]) == actor.retailer_id
    if actor.role == Role.BORROWER and "borrower" in fields and actor.applicant_id:
        return getattr(model, fields["borrower"]) == actor.applicant_id
    return false()


def owned(model: type, arg: str, as_: str | None = None) -> Callable:
    """Load `model` by the URL argument `arg` and pass it on; missing or foreign is 404."""
    name = as_ or arg.removesuffix("_id")

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            actor = current_actor()
            if actor is None:
                raise Unauthorized("A valid bearer token is required.")
            obj = get_session().get(model, kwargs.pop(arg))
            if obj is None:
                raise NotFound()
            if not can_see(actor, obj):
                audit_refusal(
                    "access.foreign_object", object_type=model.__tablename__, object_id=str(obj.id)
                )
                raise NotFound()
            kwargs[name] = obj
            return view(*args, **kwargs)

        return wrapper

    return decorator


def any_role() -> Iterable[Role]:
    """Every role, for routes any logged-in user may reach."""
    return tuple(Role)
