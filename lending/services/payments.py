"""Post a payment exactly once, reverse one, waive a late fee, refund a credit: each is a new
loan transaction, and the loan is replayed (`services/replay.py`) to store what it changes.

Exactly once rests on two things, not luck: the loan row is locked (SELECT ... FOR UPDATE)
before the existing payment is looked up again and the new one replayed, so two payments on
one loan are applied one after the other; and the unique idempotency key and (channel, scope,
reference) catch a duplicate that slips past, after which the first answer is returned.

A payment dated on or after everything stored starts from the stored state (what the last
replay wrote; the nightly check holds it equal to a full replay); one dated before replays
the whole history. Reads, then the replay (pure), then writes: a payment that would be
refused (more than settles the loan, a refund of more than the credit) is refused before
anything is written.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import bindparam, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from lending.errors import Conflict, InvalidInput, LendingError, NotFound
from lending.finance.enums import TxnKind
from lending.finance.replay import Replay, Txn
from lending.models import Loan, LoanTransaction, Payment
from lending.models.enums import COUNTER_CHANNELS, PaymentChannel, PaymentStatus
from lending.schemas.payments import PaymentResultSchema, ReversalResultSchema
from lending.services import audit, ledger
from lending.services.loan_book import OPEN_STATUSES, business_day, lock_loan, outstanding
from lending.services.replay import PENDING, Cause, Loaded, load, replayed, rules_of, store
from lending.services.resume import can_resume, load_stored, may_resume, resumed

CLOCK_SKEW = timedelta(minutes=5)  # a gateway's clock may run a little ahead of ours
# Built once per process: a schema's construction deep-copies its fields.
_PAYMENT_RESULT = PaymentResultSchema()
_REVERSAL_RESULT = ReversalResultSchema()


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
    allow_overpayment: bool = False  # staff only: keep money beyond the payoff as a credit

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


def scope_of(channel: PaymentChannel, loan: Loan) -> str:
    """Where a reference is unique: a gateway's on its rail, a shop's receipt in the shop."""
    return f"r{loan.retailer_id}" if channel in COUNTER_CHANNELS else ""


def post_payment(
    *, session: Session, request: PaymentRequest, now: datetime, timezone: str
) -> Posted:
    """Record and allocate a payment once; a repeat returns the first answer, a clash is 409."""
    try:
        (answer,) = post_payments(
            session=session,
            loan_id=request.loan_id,
            requests=[request],
            now=now,
            timezone=timezone,
        )
    except IntegrityError:  # the same key or reference committed on another loan's lock
        session.rollback()
        return _replay_answer(_by_key(session, request), request)
    if isinstance(answer, LendingError):
        raise answer
    return answer


def post_payments(
    *,
    session: Session,
    loan_id: int,
    requests: list[PaymentRequest],
    now: datetime,
    timezone: str,
) -> list[Posted | LendingError]:
    """Post payments on one loan in one replay (a settlement file's rows for the loan), each
    once; answer each with its Posted, or the error that refused it (nothing written for it).

    IntegrityError (a key or reference committed meanwhile by a payment on another loan)
    is left to the caller, which rolls back and asks again.
    """
    loan = lock_loan(session, loan_id)
    answers: list[Posted | LendingError | None] = []
    for request in requests:
        answers.append(_earlier_or_refused(session, loan, request, now, timezone))
    new = [(k, r) for k, (r, a) in enumerate(zip(requests, answers, strict=True)) if a is None]
    if not new:
        return answers
    days = [business_day(r.paid_at, timezone) for _, r in new]
    through = max(business_day(now, timezone), *days)
    pending = [
        Txn(PENDING + j, TxnKind.PAYMENT, day, r.amount)
        for j, ((_, r), day) in enumerate(zip(new, days, strict=True))
    ]
    first = min(days)
    loaded = load_stored(session, loan) if may_resume(loan, first) else None
    if loaded is not None and can_resume(loaded, first):
        result = resumed(loaded, through, *pending)  # dated after all stored: resume from it
    else:  # a backdated payment (or a loan not yet replayed): the whole history again
        loaded = load(session, loan)
        result = replayed(loaded, through, *pending)
    _refuse_overpayment(session, loaded, result, [r for _, r in new])
    payments = [
        _new_payment(r, result.unapplied[PENDING + j], scope_of(r.channel, loan), now)
        for j, (_, r) in enumerate(new)
    ]
    session.add_all(payments)
    session.flush()
    txns = [
        _transaction(loan, TxnKind.PAYMENT, day, r.amount, r.user_id, now, payment_id=p.id)
        for (_, r), day, p in zip(new, days, payments, strict=True)
    ]
    session.add_all(txns)
    session.flush()
    money = tuple((ledger.clearing(p.channel), p.amount) for p in payments)
    cause = Cause(tuple(txns), new[0][1].user_id, now, through, money, timezone)
    store(session, loaded, result, cause)
    for j, ((k, _), payment) in enumerate(zip(new, payments, strict=True)):
        answers[k] = Posted(
            payment, _answer(session, loaded, payment, result, PENDING + j, now), False
        )
    return answers


def _earlier_or_refused(session, loan, request, now, timezone) -> Posted | LendingError | None:
    """The first answer to a repeat, the error that refuses a payment, or None: post it."""
    earlier = _earlier(session, request, scope_of(request.channel, loan))
    try:
        if earlier is not None:  # posted before, or while we waited for the lock
            return _replay_answer(earlier, request)
        _check(loan, request, now, timezone)
    except LendingError as exc:
        return exc
    return None


# Built once (bind parameters): building a SELECT costs more than running it. What these
# reads use of a payment (its key, request hash and stored answer) is written with it and
# never changes, so a copy already in the session is as good as the row.
_BY_KEY = select(Payment).where(Payment.idempotency_key == bindparam("key"))
_BY_KEY_OR_REFERENCE = select(Payment).where(
    or_(
        Payment.idempotency_key == bindparam("key"),
        (Payment.channel == bindparam("channel"))
        & (Payment.scope == bindparam("scope"))
        & (Payment.reference == bindparam("reference")),
    )
)


def _earlier(session: Session, request: PaymentRequest, scope: str) -> Payment | None:
    """The payment posted before with this request's key, else with its reference, in one
    read (a key or reference the request does not have matches nothing: `= NULL`)."""
    found = session.exec(
        _BY_KEY_OR_REFERENCE,
        params={
            "key": request.idempotency_key,
            "channel": request.channel,
            "scope": scope,
            "reference": request.reference,
        },
    ).all()
    by_key = [p for p in found if p.idempotency_key == request.idempotency_key]
    return next(iter(by_key or found), None)


def _by_key(session: Session, request: PaymentRequest) -> Payment | None:
    # No key matches nothing (`= NULL`).
    return session.exec(_BY_KEY, params={"key": request.idempotency_key}).first()


def _replay_answer(earlier: Payment | None, request: PaymentRequest) -> Posted:
    if earlier is None:
        raise Conflict("This payment clashes with another one being posted; try again.")
    if earlier.request_hash != request.request_hash:
        if request.idempotency_key and earlier.idempotency_key == request.idempotency_key:
            raise Conflict("This Idempotency-Key was already used for a different payment.")
        # Say nothing of the other payment: not its loan, amount or date.
        raise Conflict("This reference is already used for another payment.")
    return Posted(earlier, earlier.response or {}, True)


def _check(loan: Loan, request: PaymentRequest, now: datetime, timezone: str) -> None:
    if loan.status not in OPEN_STATUSES:
        raise Conflict(f"This loan is {loan.status}; it takes no more payments.")
    if request.paid_at > now + CLOCK_SKEW:
        raise InvalidInput({"paid_at": ["A payment cannot be made in the future."]})
    if business_day(request.paid_at, timezone) < loan.disbursed_on:
        raise InvalidInput({"paid_at": ["A payment cannot be made before the loan was booked."]})


def _refuse_overpayment(session, loaded: Loaded, result: Replay, requests) -> None:
    """More than settles the loan (plus the product's tolerance) is a typo until staff say
    not; money that a rail has already moved (a gateway's, a settlement file's) is kept."""
    if all(r.allow_overpayment for r in requests):
        return
    extra = result.credit_balance - loaded.loan.credit_balance
    tolerance = rules_of(session, loaded.loan).overpayment_tolerance
    if extra > tolerance:
        settles = sum(r.amount for r in requests) - extra
        raise InvalidInput(
            {
                "amount": [
                    f"This is Rs {extra:,} more than the Rs {settles:,} that settles the loan "
                    "on this date. Check the amount; staff can accept it and refund the rest."
                ]
            }
        )


def _new_payment(request: PaymentRequest, unapplied: Decimal, scope: str, now) -> Payment:
    return Payment(
        loan_id=request.loan_id,
        amount=request.amount,
        unapplied=unapplied,
        paid_at=request.paid_at,
        channel=request.channel,
        reference=request.reference,
        scope=scope,
        idempotency_key=request.idempotency_key,
        request_hash=request.request_hash,
        posted_by_id=request.user_id,
        created_at=now,
    )


def _transaction(loan: Loan, kind: TxnKind, on, amount, user_id, now, **extra) -> LoanTransaction:
    return LoanTransaction(
        loan_id=loan.id,
        kind=kind,
        value_date=on,
        amount=amount,
        created_by_id=user_id,
        created_at=now,
        **extra,
    )


def _answer(session, loaded: Loaded, payment: Payment, result: Replay, txn_id, now) -> dict:
    """The answer to a posted payment, stored on it for a repeat of the same request."""
    loan = loaded.loan
    lines = result.allocations[txn_id]
    unapplied = result.unapplied[txn_id]
    document = _PAYMENT_RESULT.dump(
        {
            "payment_id": payment.id,
            "loan_id": loan.id,
            "amount": payment.amount,
            "applied": payment.amount - unapplied,
            "unapplied": unapplied,
            "paid_at": payment.paid_at,
            "allocations": lines,
            "outstanding": outstanding(result.state),
            "loan_status": str(loan.status),
            "credit_balance": loan.credit_balance,
        }
    )
    payment.response = document
    audit.record(
        session,
        action="payment.posted",
        actor_id=payment.posted_by_id,
        obj=payment,
        at=now,
        after={"loan_id": loan.id, "amount": str(payment.amount), "channel": str(payment.channel)},
        detail={"unapplied": str(unapplied), "credit_balance": str(loan.credit_balance)},
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
    """Reverse a payment: a REVERSAL transaction, and the loan replayed without the payment."""
    payment = session.get(Payment, reversal.payment_id)
    if payment is None:
        raise NotFound("No such payment.")
    loan = lock_loan(session, payment.loan_id)
    session.refresh(payment)  # after the lock: a concurrent reversal has committed by now
    if payment.status == PaymentStatus.REVERSED:
        raise Conflict("This payment has already been reversed.")
    loaded = load(session, loan)
    original = next(
        t for t in loaded.transactions if t.kind is TxnKind.PAYMENT and t.payment_id == payment.id
    )
    today = business_day(now, timezone)
    pending = Txn(PENDING, TxnKind.REVERSAL, today, payment.amount, reverses=original.id)
    result = replayed(loaded, today, pending)
    txn = _transaction(
        loan,
        TxnKind.REVERSAL,
        today,
        payment.amount,
        reversal.user_id,
        now,
        payment_id=payment.id,
        reverses_id=original.id,
        note=reversal.reason[:500],
    )
    session.add(txn)
    session.flush()
    money = ((ledger.clearing(payment.channel), -payment.amount),)
    store(session, loaded, result, Cause((txn,), reversal.user_id, now, today, money, timezone))
    payment.status, payment.reversed_at = PaymentStatus.REVERSED, now
    audit.record(
        session,
        action="payment.reversed",
        actor_id=reversal.user_id,
        obj=payment,
        at=now,
        before={"status": "posted", "amount": str(payment.amount)},
        after={"status": "reversed"},
        detail={"reason": reversal.reason, "loan_id": loan.id},
    )
    session.flush()
    return _REVERSAL_RESULT.dump(
        {
            "payment_id": payment.id,
            "status": str(payment.status),
            "reversed_at": payment.reversed_at,
            "outstanding": outstanding(result.state),
            "loan_status": str(loan.status),
        }
    )
