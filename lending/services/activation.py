"""Borrower portal accounts: a one-time code by SMS (through the outbox), then a password.

The code is kept only as an HMAC digest under the app's secret, expires after a few minutes,
allows a few attempts, and at most a few codes are sent an hour, so guessing is hopeless and
the SMS cannot be used to flood a phone. Whether a CNIC and mobile matched is never revealed.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from sqlalchemy import func
from sqlmodel import Session, select

from lending.errors import InvalidInput
from lending.models import ActivationCode, Applicant, Loan, OutboxMessage, User
from lending.models.enums import Language, OutboxChannel, Role
from lending.services import audit

CODE_TTL = timedelta(minutes=10)
MAX_ATTEMPTS = 5
MAX_CODES_PER_HOUR = 3
SMS = {
    Language.ENGLISH: "Qist: your code is {code}. It expires in 10 minutes. Never share it.",
    Language.URDU: "قسط: آپ کا کوڈ {code} ہے۔ یہ 10 منٹ میں ختم ہو جائے گا۔ کسی کو نہ بتائیں۔",
}


@dataclass(frozen=True)
class Keys:
    """What activation needs from the app: the HMAC secret and the password hasher."""

    secret: str
    hasher: PasswordHasher


@dataclass(frozen=True)
class NewAccount:
    """What the borrower types on the second step: the code, a log-in e-mail, a password."""

    code: str
    email: str
    password: str


def digest(secret: str, applicant_id: int, code: str) -> str:
    """The stored form of a code, bound to its applicant."""
    message = f"{applicant_id}:{code}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def request_code(
    *, session: Session, cnic: str, mobile: str, now: datetime, secret: str
) -> int | None:
    """Queue an SMS code if CNIC and mobile belong to a borrower with a loan; return its id."""
    applicant = session.exec(
        select(Applicant).where(Applicant.cnic == cnic, Applicant.mobile == mobile)
    ).first()
    if applicant is None or not _has_loan(session, applicant.id):
        audit.record(session, action="portal.code_refused", detail={"reason": "no_match"}, at=now)
        return None
    if _recent_codes(session, applicant.id, now) >= MAX_CODES_PER_HOUR:
        audit.record(
            session,
            action="portal.code_refused",
            obj=applicant,
            detail={"reason": "rate"},
            at=now,
        )
        return None
    for old in _live_codes(session, applicant.id, now):
        old.expires_at = now  # only the newest code works
    row = _send_code(session, applicant, now, secret)
    audit.record(session, action="portal.code_sent", obj=applicant, at=now)
    session.flush()
    return row.id


def _send_code(
    session: Session, applicant: Applicant, now: datetime, secret: str
) -> ActivationCode:
    """Store a new code's digest and queue the code itself as an SMS."""
    code = f"{secrets.randbelow(1_000_000):06d}"
    row = ActivationCode(
        applicant_id=applicant.id,
        code_hash=digest(secret, applicant.id, code),
        expires_at=now + CODE_TTL,
        created_at=now,  # the hourly limit counts on the same clock as expiry
    )
    session.add(row)
    session.flush()
    session.add(
        OutboxMessage(
            channel=OutboxChannel.SMS,
            recipient=applicant.mobile,
            body=SMS[applicant.language].format(code=code),
            dedupe_key=f"activation:{row.id}",
            created_at=now,
        )
    )
    return row


def _has_loan(session: Session, applicant_id: int) -> bool:
    return (
        session.exec(select(Loan.id).where(Loan.applicant_id == applicant_id)).first() is not None
    )


def _recent_codes(session: Session, applicant_id: int, now: datetime) -> int:
    return session.exec(
        select(func.count())
        .select_from(ActivationCode)
        .where(
            ActivationCode.applicant_id == applicant_id,
            ActivationCode.created_at > now - timedelta(hours=1),
        )
    ).one()


def _live_codes(session: Session, applicant_id: int, now: datetime) -> list[ActivationCode]:
    return list(
        session.exec(
            select(ActivationCode).where(
                ActivationCode.applicant_id == applicant_id,
                ActivationCode.used_at.is_(None),
                ActivationCode.expires_at > now,
            )
        ).all()
    )


def activate(
    *, session: Session, code_id: int | None, entered: NewAccount, keys: Keys, now: datetime
) -> User | None:
    """Open (or reset) the borrower's account if the code is right; None records a failed try."""
    row = _usable(session, code_id, now)
    if row is None:
        return None
    if not hmac.compare_digest(row.code_hash, digest(keys.secret, row.applicant_id, entered.code)):
        row.attempts += 1
        audit.record(
            session,
            action="portal.code_wrong",
            object_type="applicants",
            object_id=str(row.applicant_id),
            at=now,
        )
        session.flush()
        return None
    user = _account(session, row.applicant_id, entered, keys.hasher, now)
    row.used_at = now
    audit.record(session, action="portal.activated", actor_id=user.id, obj=user, at=now)
    session.flush()
    return user


def _usable(session: Session, code_id: int | None, now: datetime) -> ActivationCode | None:
    if not code_id:
        return None
    row = session.exec(
        select(ActivationCode).where(ActivationCode.id == code_id).with_for_update()
    ).first()
    if row is None or row.used_at or row.expires_at <= now or row.attempts >= MAX_ATTEMPTS:
        return None
    return row


def _account(
    session: Session, applicant_id: int, entered: NewAccount, hasher, now: datetime
) -> User:
    """The applicant's borrower log-in, created or given the new e-mail and password."""
    email = entered.email.strip().lower()
    user = session.exec(
        select(User).where(User.applicant_id == applicant_id, User.role == Role.BORROWER)
    ).first()
    taken = session.exec(select(User).where(User.email == email)).first()
    if taken is not None and taken is not user:
        raise InvalidInput({"email": ["This e-mail is already in use; choose another."]})
    applicant = session.get(Applicant, applicant_id)
    if user is None:
        user = User(email=email, role=Role.BORROWER, applicant_id=applicant_id, created_at=now)
        user.full_name, user.language = applicant.full_name, applicant.language
        session.add(user)
    user.email, user.password_hash = email, hasher.hash(entered.password)
    user.active, user.failed_logins = True, 0
    session.flush()
    return user
