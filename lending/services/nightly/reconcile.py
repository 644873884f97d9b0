"""Reconcile: post the payments wallets and banks reported up to the date, before ageing."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from lending.errors import LendingError
from lending.models import PaymentReceipt
from lending.models.enums import ReceiptStatus
from lending.services.payments import PaymentRequest, post_payment


def end_of_day(as_of: date, timezone: str) -> datetime:
    """Midnight after the business date, as an aware datetime."""
    return datetime.combine(as_of + timedelta(days=1), time(), tzinfo=ZoneInfo(timezone))


def reconcile(engine: Engine, as_of: date, timezone: str) -> dict:
    """Post each received payment up to the end of `as_of`, each in its own transaction."""
    counts = {"posted": 0, "already_posted": 0, "rejected": 0}
    cutoff = end_of_day(as_of, timezone)
    with Session(engine) as session:
        ids = (
            session.execute(
                select(PaymentReceipt.id)
                .where(
                    PaymentReceipt.status == ReceiptStatus.RECEIVED, PaymentReceipt.paid_at < cutoff
                )
                .order_by(PaymentReceipt.paid_at, PaymentReceipt.id)
            )
            .scalars()
            .all()
        )
    for receipt_id in ids:
        counts[_post_one(engine, receipt_id, timezone)] += 1
    return counts


def _post_one(engine: Engine, receipt_id: int, timezone: str) -> str:
    with Session(engine, expire_on_commit=False) as session:
        receipt = session.get(PaymentReceipt, receipt_id)
        request = PaymentRequest(
            loan_id=receipt.loan_id,
            amount=receipt.amount,
            paid_at=receipt.paid_at,
            channel=receipt.channel,
            reference=receipt.reference,
        )
        try:
            posted = post_payment(
                session=session, request=request, now=receipt.paid_at, timezone=timezone
            )
        except LendingError as exc:
            session.rollback()
            receipt = session.get(PaymentReceipt, receipt_id)
            receipt.status, receipt.error = ReceiptStatus.REJECTED, exc.message[:500]
            session.commit()
            return "rejected"
        receipt = session.get(PaymentReceipt, receipt_id)
        receipt.status, receipt.payment_id = ReceiptStatus.POSTED, posted.payment.id
        session.commit()
        return "already_posted" if posted.replayed else "posted"
