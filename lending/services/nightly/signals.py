"""Device signals: lock past the product's DPD threshold, unlock when cured, release when paid.

Signals go out as signed webhooks through the outbox. Payments are reconciled and the book aged
before this step, so a borrower who paid is never locked; delivery checks again (`still_due`).
"""

from datetime import date

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from lending.models import Loan, OutboxMessage
from lending.models.enums import DeviceSignal, LoanStatus, OutboxChannel, OutboxStatus
from lending.models.products import ProductVersion
from lending.models.types import utcnow
from lending.services import audit
from lending.services.nightly.batches import id_ranges
from lending.services.products import booked_version

PAID_OFF = (LoanStatus.SETTLED, LoanStatus.CLOSED)


def signal(engine: Engine, as_of: date, device_url: str) -> dict:
    """Queue lock, unlock and release signals for `as_of`."""
    counts = {str(s): 0 for s in DeviceSignal}
    for lo, hi in id_ranges(engine, wants_signal()):
        with Session(engine) as session, session.begin():
            for kind in signal_range(session, as_of, device_url, lo, hi):
                counts[str(kind)] += 1
    return counts


def wants_signal(threshold=None):
    """The loans whose device state must change: overdue past the threshold (the booked
    version's, or `threshold` where the query joins it) and not locked, locked and cured, or
    paid off and not released."""
    if threshold is None:
        threshold = select(ProductVersion.lock_after_dpd).where(booked_version()).scalar_subquery()
    active = Loan.status == LoanStatus.ACTIVE
    return (
        (active & ~Loan.device_locked & (Loan.days_past_due >= threshold))
        | (active & Loan.device_locked & (Loan.days_past_due == 0))
        | (Loan.status.in_(PAID_OFF) & ~Loan.device_released)
    )


def signal_range(session: Session, as_of: date, url: str, lo: int, hi: int) -> list:
    """Signals for the loans of a key range whose device state must change, in bulk."""
    rows = session.execute(
        select(
            Loan.id,
            Loan.imei,
            Loan.status,
            Loan.days_past_due,
            Loan.device_locked,
            Loan.device_released,
            ProductVersion.lock_after_dpd,
        )
        .join(ProductVersion, booked_version())
        # Only the loans that want a signal: a range of them can span most of the book.
        .where(Loan.id >= lo, Loan.id <= hi, wants_signal(ProductVersion.lock_after_dpd))
        .with_for_update(of=Loan)
    ).all()
    planned = [(row, kind) for row in rows if (kind := decide_signal(row, row.lock_after_dpd))]
    if not planned:
        return []
    session.execute(update(Loan), [_new_state(row, kind) for row, kind in planned])
    keys = {_key(row.id, kind, as_of): (row, kind) for row, kind in planned}
    queued = set(
        session.execute(
            select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(list(keys)))
        ).scalars()
    )
    fresh = [(key, row, kind) for key, (row, kind) in keys.items() if key not in queued]
    if fresh:
        session.execute(
            insert(OutboxMessage), [_message(k, r, kind, as_of, url) for k, r, kind in fresh]
        )
        audit.record_many(
            session,
            [
                audit.event_row(
                    action=f"device.{kind}",
                    object_type="loans",
                    object_id=row.id,
                    after={"as_of": as_of.isoformat(), "days_past_due": row.days_past_due},
                )
                for _key_, row, kind in fresh
            ],
        )
    return [kind for _row, kind in planned]


def decide_signal(loan, lock_after_dpd: int) -> DeviceSignal | None:
    """The signal a loan's device needs now, if any."""
    if loan.status in PAID_OFF and not loan.device_released:
        return DeviceSignal.RELEASE
    if loan.status != LoanStatus.ACTIVE:
        return None
    if not loan.device_locked and loan.days_past_due >= lock_after_dpd:
        return DeviceSignal.LOCK
    if loan.device_locked and loan.days_past_due == 0:
        return DeviceSignal.UNLOCK
    return None


def _key(loan_id: int, kind: DeviceSignal, as_of: date) -> str:
    if kind == DeviceSignal.RELEASE:
        return f"device:{loan_id}:release"
    return f"device:{loan_id}:{kind}:{as_of.isoformat()}"


def _new_state(row, kind: DeviceSignal) -> dict:
    if kind == DeviceSignal.RELEASE:
        return {"id": row.id, "device_released": True}
    return {"id": row.id, "device_locked": kind == DeviceSignal.LOCK}


def _message(key: str, row, kind: DeviceSignal, as_of: date, url: str) -> dict:
    return {
        "channel": OutboxChannel.WEBHOOK,
        "recipient": url or "device-webhook",
        "subject": str(kind),
        "body": "",
        "dedupe_key": key,
        "loan_id": row.id,
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "last_error": "",
        "created_at": utcnow(),
        "payload": {
            "event": str(kind),
            "loan_id": row.id,
            "imei": row.imei,
            "as_of": as_of.isoformat(),
            "days_past_due": row.days_past_due,
        },
    }


def still_due(session: Session, message: OutboxMessage) -> bool:
    """At delivery: a lock is still right only if the loan is still locked and overdue."""
    if not message.payload or message.payload.get("event") != DeviceSignal.LOCK:
        return True
    loan = session.get(Loan, message.loan_id)
    return bool(
        loan and loan.status == LoanStatus.ACTIVE and loan.device_locked and loan.days_past_due > 0
    )
