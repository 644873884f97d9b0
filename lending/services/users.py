"""Users, log-in and API tokens.

Every function takes `now` from its caller's clock (the request's `utcnow()`, a command's
clock), so lock-outs, token expiry and audit times follow a pinned clock. `now` may still be
left out by callers not yet passing it; then it is the current time.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from sqlalchemy import bindparam, or_, update
from sqlmodel import Session, select

from lending.errors import InvalidInput
from lending.models import ApiToken, Retailer, User
from lending.models.enums import Role
from lending.security import new_token, token_digest, verify_password
from lending.services import audit


def create_user(
    session: Session,
    *,
    email: str,
    role: Role,
    hasher: PasswordHasher,
    password: str | None = None,
    retailer: Retailer | None = None,
    full_name: str = "",
    now: datetime | None = None,
) -> User:
    """Create a user; a retailer agent must belong to a shop."""
    now = now or _now()
    email = email.strip().lower()
    if role == Role.RETAILER and retailer is None:
        raise InvalidInput({"retailer": ["A retailer agent must belong to a shop."]})
    if session.exec(select(User).where(User.email == email)).first():
        raise InvalidInput({"email": ["A user with this e-mail already exists."]})
    user = User(
        email=email,
        role=role,
        full_name=full_name,
        retailer_id=retailer.id if retailer else None,
        password_hash=hasher.hash(password) if password else None,
        created_at=now,
    )
    session.add(user)
    session.flush()
    audit.record(
        session, action="user.created", obj=user, after={"email": email, "role": role}, at=now
    )
    return user


@dataclass(frozen=True)
class Lockout:
    """How many failed log-ins in a row lock an account, and for how many minutes."""

    max_failures: int = 5
    minutes: int = 15


def authenticate(
    session: Session,
    *,
    email: str,
    password: str,
    hasher: PasswordHasher,
    ip: str = "",
    lockout: Lockout = Lockout(),
    now: datetime | None = None,
) -> User | None:
    """Return the user for good credentials; record the attempt either way; lock after many."""
    user = session.exec(select(User).where(User.email == email.strip().lower())).first()
    ok = verify_password(hasher, user.password_hash if user else None, password)
    now = now or _now()
    attempt = _Attempt(email, ip, now)
    if user is not None and user.locked_until and user.locked_until > now:
        _record_failure(session, user, attempt, action="auth.login_locked")
        return None
    if not ok or not user.active:
        if user is not None:
            _count_failure(session, user, now, lockout)
        _record_failure(session, user, attempt, action="auth.login_failed")
        return None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    user.failed_logins, user.locked_until = 0, None
    user.last_login_at = now
    audit.record(session, action="auth.login", actor_id=user.id, obj=user, ip=ip, at=now)
    return user


def _count_failure(session: Session, user: User, now: datetime, lockout: Lockout) -> None:
    user.failed_logins += 1
    if user.failed_logins >= lockout.max_failures:
        user.failed_logins, user.locked_until = 0, now + timedelta(minutes=lockout.minutes)
        audit.record(
            session,
            action="auth.locked",
            actor_id=user.id,
            obj=user,
            detail={"until": user.locked_until.isoformat()},
            at=now,
        )


@dataclass(frozen=True)
class _Attempt:
    """A log-in attempt as the audit log records it."""

    email: str
    ip: str
    at: datetime


def _record_failure(session: Session, user: User | None, attempt: _Attempt, action: str) -> None:
    audit.record(
        session,
        action=action,
        actor_id=user.id if user else None,
        obj=user,
        detail={"email": attempt.email.strip().lower()[:254]},
        ip=attempt.ip,
        at=attempt.at,
    )


def issue_token(
    session: Session,
    *,
    user: User,
    name: str = "",
    days: int | None = 365,
    token: str | None = None,
    now: datetime | None = None,
) -> str:
    """Create an API token for a user, valid `days` from `now` (None: for ever), and return
    it; only its digest is stored."""
    token, now = token or new_token(), now or _now()
    session.add(
        ApiToken(
            user_id=user.id,
            name=name,
            token_hash=token_digest(token),
            prefix=token[:12],
            expires_at=now + timedelta(days=days) if days else None,
            created_at=now,
        )
    )
    session.flush()
    audit.record(
        session, action="token.issued", actor_id=user.id, obj=user, detail={"name": name}, at=now
    )
    return token


@dataclass(frozen=True)
class TokenActor:
    """Who an API token speaks for: what the API's access checks and audit need of the user,
    read in the token's own query without loading the whole user."""

    id: int
    role: Role
    retailer_id: int | None
    applicant_id: int | None


_USERS, _TOKENS = User.__table__, ApiToken.__table__
# Built once, run by every API request (a Core query: no ORM identity work for a lookup).
_ACTOR_FOR_TOKEN = (
    select(
        _USERS.c.id,
        _USERS.c.role,
        _USERS.c.retailer_id,
        _USERS.c.applicant_id,
        _TOKENS.c.id.label("token_id"),
        _TOKENS.c.last_used_on,
    )
    .join(_TOKENS, _TOKENS.c.user_id == _USERS.c.id)
    .where(
        _TOKENS.c.token_hash == bindparam("digest"),
        _TOKENS.c.revoked_at.is_(None),
        or_(_TOKENS.c.expires_at.is_(None), _TOKENS.c.expires_at > bindparam("now")),
        _USERS.c.active,
    )
)


def user_for_token(
    session: Session, token: str, *, now: datetime | None = None
) -> TokenActor | None:
    """The active user behind a token valid at `now` (unexpired, unrevoked): one query,
    checked on every request (no cache: a revoked token or a deactivated user stops at once).

    The day a token is first used each day is written and committed at once (its own small
    transaction, one a day), so a read-only request still records it."""
    now = now or _now()
    params = {"digest": token_digest(token), "now": now}
    row = session.connection().execute(_ACTOR_FOR_TOKEN, params).first()
    if row is None:
        return None
    if row.last_used_on != now.date():
        session.execute(
            update(ApiToken).where(ApiToken.id == row.token_id).values(last_used_on=now.date())
        )
        session.commit()
    return TokenActor(row.id, row.role, row.retailer_id, row.applicant_id)


def revoke_tokens(session: Session, *, user: User, now: datetime | None = None) -> int:
    """Revoke every live token of a user at `now`; return how many."""
    now = now or _now()
    rows = session.exec(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).all()
    for row in rows:
        row.revoked_at = now
    audit.record(
        session,
        action="token.revoked",
        actor_id=user.id,
        obj=user,
        detail={"count": len(rows)},
        at=now,
    )
    return len(rows)


def _now() -> datetime:
    # Only for callers that do not pass their clock yet (see the module's docstring).
    return datetime.now(UTC)
