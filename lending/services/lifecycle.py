"""The loan's status lifecycle in one place, the disbursement to the shop, and cooling-off."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func
from sqlmodel import Session, select

from lending.errors import Conflict
from lending.finance.money import ZERO
from lending.models import Disbursement, Fee, Loan, Payment
from lending.models.enums import DisbursementStatus, FeeKind, LoanStatus, PaymentStatus
from lending.services import audit, ledger
from lending.services.loan_book import business_day, lock_loan

S = LoanStatus
# Every status change of a loan is checked against this table, and nowhere else.
TRANSITIONS: dict[LoanStatus, frozenset[LoanStatus]] = {
    S.ACTIVE: frozenset({S.SETTLED, S.CLOSED, S.CANCELLED, S.WRITTEN_OFF}),
    S.WRITTEN_OFF: frozenset({S.SETTLED, S.CLOSED}),  # recovered in full after write-off
    S.SETTLED: frozenset({S.ACTIVE}),  # only the reversal of the settling payment reopens
    S.CLOSED: frozenset({S.ACTIVE}),
    S.CANCELLED: frozenset(),
}
FINAL = frozenset({S.SETTLED, S.CLOSED, S.CANCELLED})


def move(session: Session, *, loan: Loan, to: LoanStatus, actor_id: int | None, on: date) -> None:
    """Change a loan's status if the lifecycle allows it, else 409; audited."""
    if to not in TRANSITIONS[loan.status]:
        raise Conflict(f"A loan that is {loan.status} cannot become {to}.")
    before = str(loan.status)
    loan.status = to
    loan.closed_on = on if to in FINAL else None
    audit.record(
        session,
        action="loan.status_changed",
        actor_id=actor_id,
        obj=loan,
        before={"status": before},
        after={"status": str(to), "on": on.isoformat()},
    )


def record_disbursement(session: Session, *, loan: Loan, now: datetime) -> Disbursement:
    """Record the payment to the shop: the device price less the down payment it collected."""
    disbursement = Disbursement(
        loan_id=loan.id,
        retailer_id=loan.retailer_id,
        amount=loan.device_price - loan.down_payment,
        created_at=now,
    )
    session.add(disbursement)
    audit.record(
        session,
        action="disbursement.recorded",
        obj=loan,
        at=now,
        after={"retailer_id": loan.retailer_id, "amount": str(disbursement.amount)},
    )
    return disbursement


def cancel_in_cooling_off(
    *,
    session: Session,
    loan_id: int,
    user_id: int | None,
    now: datetime,
    timezone: str = "Asia/Karachi",
) -> Loan:
    """Cancel a loan at no cost inside its cooling-off period, before any payment."""
    loan = lock_loan(session, loan_id)
    if loan.status != LoanStatus.ACTIVE:
        raise Conflict(f"Only an active loan can be cancelled; this one is {loan.status}.")
    if loan.cooling_off_until is None or now >= loan.cooling_off_until:
        raise Conflict(
            "The cooling-off period of this loan has ended; it can no longer be cancelled."
        )
    if _posted_payments(session, loan.id):
        raise Conflict("A payment has been made on this loan; it can no longer be cancelled.")
    today = business_day(now, timezone)
    move(session, loan=loan, to=LoanStatus.CANCELLED, actor_id=user_id, on=today)
    detail = {
        "reclaim_from_retailer": str(_reverse_disbursement(session, loan, now)),
        "fee_refund": str(_waive_processing_fee(session, loan, now)),
    }
    ledger.post_cancellation(session, loan, today, now, user_id)
    audit.record(session, action="loan.cancelled", actor_id=user_id, obj=loan, detail=detail)
    session.flush()
    return loan


def _reverse_disbursement(session: Session, loan: Loan, now: datetime) -> Decimal:
    """Mark the shop's payment reversed (it is reclaimed); return its amount."""
    disbursement = session.exec(select(Disbursement).where(Disbursement.loan_id == loan.id)).first()
    if disbursement is None:
        return ZERO
    disbursement.status, disbursement.reversed_at = DisbursementStatus.REVERSED, now
    return disbursement.amount


def cancellable(session: Session, loan: Loan, now: datetime) -> bool:
    """Whether the borrower may still cancel: active, in cooling-off, nothing paid."""
    ends = loan.cooling_off_until
    in_time = ends is not None and now < ends
    return loan.status == LoanStatus.ACTIVE and in_time and not _posted_payments(session, loan.id)


def _posted_payments(session: Session, loan_id: int) -> int:
    return session.exec(
        select(func.count())
        .select_from(Payment)
        .where(Payment.loan_id == loan_id, Payment.status == PaymentStatus.POSTED)
    ).one()


def _waive_processing_fee(session: Session, loan: Loan, now: datetime) -> Decimal:
    """Waive the processing fee (cancelling costs nothing); return what was paid of it."""
    fees = _processing_fees(session, loan)
    for fee in fees:
        fee.waived_at = now
    return sum((fee.paid_amount for fee in fees), ZERO)


def _processing_fees(session: Session, loan: Loan) -> list[Fee]:
    return list(
        session.exec(
            select(Fee).where(
                Fee.loan_id == loan.id, Fee.kind == FeeKind.PROCESSING, Fee.waived_at.is_(None)
            )
        ).all()
    )
