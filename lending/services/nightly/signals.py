"""Device signals: lock past the product's DPD threshold, unlock when cured, release when paid.

Signals go out as signed webhooks through the outbox. Payments are reconciled and the book aged
before this step, so a borrower who paid is never locked; delivery checks again (`still_due`).
"""

from datetime import date

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from lending.models import Loan, OutboxMessage, Product
from lending.models.enums import DeviceSignal, LoanStatus, OutboxChannel
from lending.services import audit
from lending.services.nightly.batches import id_ranges

PAID_OFF = (LoanStatus.SETTLED, LoanStatus.CLOSED)


def signal(engine: Engine, as_of: date, device_url: str) -> dict:
    """Queue lock, unlock and release signals for `as_of`."""
    counts = {str(s): 0 for s in DeviceSignal}
    threshold = select(Product.lock_after_dpd).where(
        Product.id == Loan.product_id).scalar_subquery()
    active = Loan.status == LoanStatus.ACTIVE
    wants_signal = (
        (active & ~Loan.device_locked & (Loan.days_past_due >= threshold))
        | (active & Loan.device_locked & (Loan.days_past_due == 0))
        | (Loan.status.in_(PAID_OFF) & ~Loan.device_released)
    )
    for lo, hi in id_ranges(engine, wants_signal):
        with Session(engine) as session, session.begin():
            for kind in signal_range(session, as_of, device_url, lo, hi):
                counts[str(kind)] += 1
    return counts


def signal_range(session: Session, as_of: date, url: str, lo: int, hi: int) -> list:
    """Signals for the loans of a key range whose device state must change."""
    rows = session.execute(
        select(Loan, Product.lock_after_dpd).join(Product, Product.id == Loan.product_id)
        .where(Loan.id >= lo, Loan.id <= hi).with_for_update(of=Loan)
    ).all()
    sent = []
    for loan, threshold in rows:
        kind = decide_signal(loan, threshold)
        if kind is not None:
            _queue(session, loan, kind, as_of, url)
            sent.append(kind)
    return sent


def decide_signal(loan: Loan, lock_after_dpd: int) -> DeviceSignal | None:
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


def _queue(session: Session, loan: Loan, kind: DeviceSignal, as_of: date, url: str) -> None:
    key = f"device:{loan.id}:{kind}:{as_of.isoformat()}"
    if kind == DeviceSignal.RELEASE:
        key = f"device:{loan.id}:release"
        loan.device_released = True
    else:
        loan.device_locked = kind == DeviceSignal.LOCK
    if session.execute(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)).first():
        return
    session.add(OutboxMessage(
        channel=OutboxChannel.WEBHOOK, recipient=url or "device-webhook-not-configured",
        dedupe_key=key, loan_id=loan.id, subject=str(kind),
        payload={"event": str(kind), "loan_id": loan.id, "imei": loan.imei,
                 "as_of": as_of.isoformat(), "days_past_due": loan.days_past_due}))
    audit.record(session, action=f"device.{kind}", obj=loan,
                 after={"as_of": as_of.isoformat(), "days_past_due": loan.days_past_due})


def still_due(session: Session, message: OutboxMessage) -> bool:
    """At delivery: a lock is still right only if the loan is still locked and overdue."""
    if not message.payload or message.payload.get("event") != DeviceSignal.LOCK:
        return True
    loan = session.get(Loan, message.loan_id)
    return bool(loan and loan.status == LoanStatus.ACTIVE and loan.device_locked
                and loan.days_past_due > 0)



