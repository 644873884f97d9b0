"""Post a payment exactly once, allocate it with the finance engine, and reverse it.

Exactly once rests on two things, not luck: the loan row is locked (SELECT ... FOR UPDATE)
before the existing payment is looked up again and the new one allocated, so two payments
on one loan are applied one after the other; and the unique idempotency key and (channel,
reference) catch a duplicate that slips past, after which the first answer is returned.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from lending.errors import Conflict, InvalidInput, NotFound
from lending.finance.allocation import Allocation, allocate, apply_allocation
from lending.models import Payment
from lending.models.enums import LoanStatus, PaymentChannel, PaymentStatus
from lending.schemas.payments import PaymentResultSchema, ReversalResultSchema
from lending.services import audit
from lending.services.lifecycle import move
from lending.services.loan_book import (
    OPEN_STATUSES,
    LoanBook,
    business_day,
    load_book,
    lock_loan,
    outstanding,
)
from lending.services.payment_rows import undo_allocation, write_allocation

CLOCK_SKEW = timedelta(minutes=5)  # a gateway's clock may run a little ahead of ours


@dataclass(frozen=True)
class PaymentRequest:
    """A validated payment: from the counter (with an idempotency key) or a gateway."""

    loan_id: int
    amount: Decimal
    paid_at: datetime
    channel: PaymentChannel
    reference: str | None = None
    idempotency_key: str | None = None
    user_id: int | None = None

    @property
    def request_hash(self) -> str:
        """A fingerprint of what is paid, so a reused key with another body is told apart."""
        canonical = {
            "loan_id": self.loan_id,
            "amount": str(self.amount),
            "paid_at": self.paid_at.astimezone(UTC).isoformat(),
            "channel": str(self.channel),
            "reference": self.reference,
        }
        return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Posted:
    """The payment and its answer; `replayed` when it had been posted before."""

    payment: Payment
    document: dict
    replayed: bool


def post_payment(
    *, session: Session, request: PaymentRequest, now: datetime, timezone: str
) -> Posted:
    """Record and allocate a payment once; a repeat returns the first answer, a clash is 409."""
    earlier = _earlier(session, request)
    if earlier is not None:
        return _replay(earlier, request)
    loan = lock_loan(session, request.loan_id)
    earlier = _earlier(session, request)  # posted while we waited for the lock
    if earlier is not None:
        return _replay(earlier, request)
    _check(loan, request, now, timezone)
    book = load_book(session, loan)
    on = business_day(request.paid_at, timezone)
    allocation = allocate(book.state, request.amount, on)
    payment = _new_payment(request, allocation)
    session.add(payment)
    try:
        session.flush()
    except IntegrityError:  # the same key or reference committed on another loan's lock
        session.rollback()
        return _replay(_earlier(session, request), request)
    return Posted(payment, _settle(session, book, payment, allocation), False)


def _earlier(session: Session, request: PaymentRequest) -> Payment | None:
    fresh = {"populate_existing": True}
    if request.idempotency_key is not None:
        found = session.exec(
            select(Payment)
            .where(Payment.idempotency_key == request.idempotency_key)
            .execution_options(**fresh)
        ).first()
        if found is not None:
            return found
    if request.reference is None:
        return None
    return session.exec(
        select(Payment)
        .where(Payment.channel == request.channel, Payment.reference == request.reference)
        .execution_options(**fresh)
    ).first()


def _replay(earlier: Payment | None, request: PaymentRequest) -> Posted:
    if earlier is None:
        raise Conflict("This payment clashes with another one being posted; try again.")
    if earlier.request_hash != request.request_hash:
        if request.idempotency_key and earlier.idempotency_key == request.idempotency_key:
            raise Conflict("This Idempotency-Key was already used for a different payment.")
        raise Conflict(f"The reference {request.reference} is already recorded for a payment.")
    return Posted(earlier, earlier.response or {}, True)


def _check(loan, request: PaymentRequest, now: datetime, timezone: str) -> None:
    if loan.status not in OPEN_STATUSES:
        raise Conflict(f"This loan is {loan.status}; it takes no more payments.")
    if request.paid_at > now + CLOCK_SKEW:
        raise InvalidInput({"paid_at": ["A payment cannot be made in the future."]})
    if business_day(request.paid_at, timezone) < loan.disbursed_on:
        raise InvalidInput({"paid_at": ["A payment cannot be made before the loan was booked."]})


def _new_payment(request: PaymentRequest, allocation: Allocation) -> Payment:
    return Payment(
        loan_id=request.loan_id,
        amount=request.amount,
        unapplied=allocation.unapplied,
        paid_at=request.paid_at,
        channel=request.channel,
        reference=request.reference,
        idempotency_key=request.idempotency_key,
        request_hash=request.request_hash,
        posted_by_id=request.user_id,
    )


def _settle(session: Session, book: LoanBook, payment: Payment, allocation: Allocation) -> dict:
    """Write the allocation, close the loan if it is paid off, store and return the answer."""
    write_allocation(session, book, payment, allocation)
    after = apply_allocation(book.state, allocation)
    loan = book.loan
    if allocation.closes_loan:
        done = LoanStatus.SETTLED if allocation.on < loan.maturity_on else LoanStatus.CLOSED
        move(session, loan=loan, to=done, actor_id=payment.posted_by_id, on=allocation.on)
    document = PaymentResultSchema().dump(
        {
            "payment_id": payment.id,
            "loan_id": loan.id,
            "amount": payment.amount,
            "applied": allocation.applied,
            "unapplied": allocation.unapplied,
            "paid_at": payment.paid_at,
            "allocations": allocation.lines,
            "outstanding": outstanding(after),
            "loan_status": str(loan.status),
        }
    )
    payment.response = document
    audit.record(
        session,
        action="payment.posted",
        actor_id=payment.posted_by_id,
        obj=payment,
        after={"loan_id": loan.id, "amount": str(payment.amount), "channel": str(payment.channel)},
        detail={"unapplied": str(allocation.unapplied), "waived": str(allocation.waived_profit)},
    )
    session.flush()
    return document


@dataclass(frozen=True)
class Reversal:
    """Staff undo a payment (a bounced cheque, a wrong loan), saying why."""

    payment_id: int
    user_id: int
    reason: str


def reverse_payment(*, session: Session, reversal: Reversal, now: datetime, timezone: str) -> dict:
    """Undo a posted payment exactly (paid columns back as they were); reopen a closed loan."""
    user_id = reversal.user_id
    payment = session.get(Payment, reversal.payment_id)
    if payment is None:
        raise NotFound("No such payment.")
    loan = lock_loan(session, payment.loan_id)
    session.refresh(payment)  # after the lock: a concurrent reversal has committed by now
    if payment.status == PaymentStatus.REVERSED:
        raise Conflict("This payment has already been reversed.")
    book = load_book(session, loan)
    undo_allocation(session, book, payment)
    payment.status, payment.reversed_at = PaymentStatus.REVERSED, now
    if loan.status in (LoanStatus.SETTLED, LoanStatus.CLOSED):
        move(
            session,
            loan=loan,
            to=LoanStatus.ACTIVE,
            actor_id=user_id,
            on=business_day(now, timezone),
        )
    audit.record(
        session,
        action="payment.reversed",
        actor_id=user_id,
        obj=payment,
        before={"status": "posted", "amount": str(payment.amount)},
        after={"status": "reversed"},
        detail={"reason": reversal.reason, "loan_id": loan.id},
    )
    session.flush()
    return _reversal_document(session, payment, loan)


def _reversal_document(session: Session, payment: Payment, loan) -> dict:
    return ReversalResultSchema().dump(
        {
            "payment_id": payment.id,
            "status": str(payment.status),
            "reversed_at": payment.reversed_at,
            "outstanding": outstanding(load_book(session, loan).state),
            "loan_status": str(loan.status),
        }
    )
