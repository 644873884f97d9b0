"""Reconcile: post the payments wallets and banks reported up to the date, before ageing.

Set-based per loan: a loan's receipts are posted together, in one replay of the loan and one
transaction, many loans to a transaction. A batch that meets a clash (a reference committed
meanwhile by another loan's payment) is posted again one loan at a time, and a loan's refused
receipts are marked rejected with the reason.
"""

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from lending.errors import LendingError
from lending.models import PaymentReceipt
from lending.models.enums import ReceiptStatus
from lending.services.payments import PaymentRequest, post_payments

LOANS_PER_TRANSACTION = 200


def end_of_day(as_of: date, timezone: str) -> datetime:
    """Midnight after the business date, as an aware datetime."""
    return datetime.combine(as_of + timedelta(days=1), time(), tzinfo=ZoneInfo(timezone))


def reconcile(engine: Engine, as_of: date, timezone: str) -> dict:
    """Post each received payment up to the end of `as_of`."""
    counts = {"posted": 0, "already_posted": 0, "rejected": 0}
    cutoff = end_of_day(as_of, timezone)
    with Session(engine) as session:
        rows = session.execute(
            select(PaymentReceipt.id, PaymentReceipt.loan_id)
            .where(PaymentReceipt.status == ReceiptStatus.RECEIVED, PaymentReceipt.paid_at < cutoff)
            .order_by(PaymentReceipt.loan_id, PaymentReceipt.paid_at, PaymentReceipt.id)
        ).all()
    by_loan: dict[int, list[int]] = defaultdict(list)
    for receipt_id, loan_id in rows:
        by_loan[loan_id].append(receipt_id)
    loans = list(by_loan.items())
    for start in range(0, len(loans), LOANS_PER_TRANSACTION):
        chunk = loans[start : start + LOANS_PER_TRANSACTION]
        try:
            _post_chunk(engine, chunk, cutoff, timezone, counts)
        except IntegrityError:
            for one in chunk:  # again, each loan alone: only the clashing one is refused
                _post_chunk(engine, [one], cutoff, timezone, counts)
    return counts


def _post_chunk(engine: Engine, chunk, now: datetime, timezone: str, counts: dict) -> None:
    tally = dict.fromkeys(counts, 0)
    with Session(engine, expire_on_commit=False) as session, session.begin():
        wanted = [r for _loan_id, receipt_ids in chunk for r in receipt_ids]
        by_id = {  # the chunk's receipts in one read, not one each
            r.id: r
            for r in session.execute(
                select(PaymentReceipt).where(PaymentReceipt.id.in_(wanted))
            ).scalars()
        }
        for loan_id, receipt_ids in chunk:
            receipts = [by_id[r] for r in receipt_ids]
            try:
                answers = post_payments(
                    session=session,
                    loan_id=loan_id,
                    requests=[_request(r) for r in receipts],
                    now=now - timedelta(microseconds=1),  # the end of as_of, not the next day
                    timezone=timezone,
                )
            except LendingError as exc:  # the loan itself: gone, or its history refuses
                answers = [exc] * len(receipts)
            for receipt, answer in zip(receipts, answers, strict=True):
                tally[_mark(receipt, answer)] += 1
    for key, value in tally.items():  # counted once the transaction has committed
        counts[key] += value


def _request(receipt: PaymentReceipt) -> PaymentRequest:
    return PaymentRequest(
        loan_id=receipt.loan_id,
        amount=receipt.amount,
        paid_at=receipt.paid_at,
        channel=receipt.channel,
        reference=receipt.reference,
        allow_overpayment=True,  # the wallet or bank has moved the money: kept as a credit
    )


def _mark(receipt: PaymentReceipt, answer) -> str:
    if isinstance(answer, LendingError):
        receipt.status, receipt.error = ReceiptStatus.REJECTED, answer.message[:500]
        return "rejected"
    receipt.status, receipt.payment_id = ReceiptStatus.POSTED, answer.payment.id
    return "already_posted" if answer.replayed else "posted"
