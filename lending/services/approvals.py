"""Maker-checker: write-offs and refunds proposed by one member of staff, decided by another.

A proposal writes an `Approval` (pending) and an audit event; nothing moves. Approving it
does the operation in the same transaction as the decision: a refund pays the credit balance
back (`adjustments.refund_credit`: a REFUND transaction, its replay and journal entry); a
write-off appends a WRITE_OFF transaction of the principal outstanding, moves the loan to
`written_off` and charges the principal to the allowance for loan losses. The loan's
instalments stay as they are: the borrower still owes them, and what is paid afterwards is
posted as a recovery (`services/replay.py`). The proposer can never decide (403; the
database's CHECK refuses it too), and a proposal the loan no longer fits (paid meanwhile, its
credit refunded) is refused at approval with 409.
"""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import func
from sqlmodel import Session, select

from lending import regulation
from lending.errors import Conflict, Forbidden, InvalidInput, NotFound
from lending.finance.enums import TxnKind
from lending.models import Instalment, Loan, LoanTransaction
from lending.models.enums import ApprovalKind, ApprovalStatus, LoanStatus
from lending.models.ledger import Approval
from lending.services import audit, ledger
from lending.services.adjustments import Adjustment, refund_credit
from lending.services.lifecycle import move
from lending.services.loan_book import business_day, lock_loan


def principal_outstanding(session: Session, loan: Loan) -> Decimal:
    repaid = session.execute(
        select(func.sum(Instalment.paid_principal)).where(Instalment.loan_id == loan.id)
    ).scalar()
    return loan.principal - (repaid or Decimal("0"))


def _write_off_refusal(session: Session, loan: Loan) -> str | None:
    """Why a loan cannot be written off now, or None."""
    if loan.status != LoanStatus.ACTIVE:
        return f"Only an active loan can be written off; this one is {loan.status}."
    profile = regulation.active()
    if loan.days_past_due < profile.non_performing_from_dpd:
        return (
            f"Only a non-performing loan can be written off: this one is {loan.days_past_due} "
            f"days past due, and {profile.code} counts a loan non-performing from "
            f"{profile.non_performing_from_dpd} days."
        )
    if principal_outstanding(session, loan) <= 0:
        return "This loan has no principal left to write off."
    return None


def propose(
    session: Session,
    *,
    kind: ApprovalKind,
    loan_id: int,
    reason: str,
    user_id: int,
    now: datetime,
    amount: Decimal | None = None,
) -> Approval:
    """Propose a write-off (of the principal outstanding) or a refund (of an amount)."""
    loan = lock_loan(session, loan_id)
    waiting = session.execute(
        select(Approval.id).where(
            Approval.loan_id == loan.id,
            Approval.kind == kind,
            Approval.status == ApprovalStatus.PENDING,
        )
    ).scalar()
    if waiting is not None:
        raise Conflict(f"A {kind.value.replace('_', '-')} of this loan is already waiting for "
                       f"approval (#{waiting}).")  # fmt: skip
    if kind is ApprovalKind.WRITE_OFF:
        refusal = _write_off_refusal(session, loan)
        if refusal:
            raise Conflict(refusal)
        amount = principal_outstanding(session, loan)
    elif amount is None or amount > loan.credit_balance:
        raise InvalidInput(
            {"amount": [f"The loan's credit balance is Rs {loan.credit_balance:,}."]}
        )
    approval = Approval(
        kind=kind,
        loan_id=loan.id,
        amount=amount,
        reason=reason[:500],
        proposed_by_id=user_id,
        proposed_at=now,
    )
    session.add(approval)
    session.flush()
    audit.record(
        session,
        action="approval.proposed",
        actor_id=user_id,
        obj=approval,
        at=now,
        after={"kind": kind.value, "loan_id": loan.id, "amount": str(amount)},
        detail={"reason": reason},
    )
    return approval


def decide(
    session: Session,
    *,
    approval_id: int,
    approve: bool,
    note: str,
    user_id: int,
    now: datetime,
    timezone: str,
) -> Approval:
    """Approve (and do) or reject a proposal; never by its proposer."""
    found = session.get(Approval, approval_id)
    if found is None:
        raise NotFound("No such approval.")
    lock_loan(session, found.loan_id)  # decisions on one loan one at a time
    session.refresh(found)  # after the lock: a decision that committed meanwhile shows
    if found.status != ApprovalStatus.PENDING:
        raise Conflict(f"This proposal was already {found.status}.")
    if found.proposed_by_id == user_id:
        raise Forbidden("The member of staff who proposed this cannot decide it: another must.")
    if approve:
        if found.kind is ApprovalKind.REFUND:
            adjustment = Adjustment(found.loan_id, user_id, found.reason, amount=found.amount)
            result = refund_credit(
                session=session, adjustment=adjustment, now=now, timezone=timezone
            )
            found.transaction_id = result["transaction_id"]
        else:
            found.transaction_id = _write_off(session, found, user_id, now, timezone).id
    found.status = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
    found.decided_by_id, found.decided_at, found.note = user_id, now, note[:500]
    audit.record(
        session,
        action=f"approval.{found.status.value}",
        actor_id=user_id,
        obj=found,
        at=now,
        after={"kind": found.kind.value, "loan_id": found.loan_id, "amount": str(found.amount)},
        detail={"note": note},
    )
    session.flush()
    return found


def _write_off(
    session: Session, approval: Approval, user_id: int, now: datetime, timezone: str
) -> LoanTransaction:
    loan = session.get(Loan, approval.loan_id)
    refusal = _write_off_refusal(session, loan)
    if refusal:
        raise Conflict(f"{refusal} (It was proposed when it could be.)")
    today = business_day(now, timezone)
    principal = principal_outstanding(session, loan)
    txn = LoanTransaction(
        loan_id=loan.id,
        kind=TxnKind.WRITE_OFF,
        value_date=today,
        amount=principal,
        created_by_id=user_id,
        note=approval.reason[:500],
        created_at=now,
    )
    session.add(txn)
    session.flush()
    move(session, loan=loan, to=LoanStatus.WRITTEN_OFF, actor_id=user_id, on=today)
    lines = [(ledger.ALLOWANCE, principal), (ledger.PRINCIPAL, -principal)]
    paid_profit = session.execute(
        select(func.sum(Instalment.paid_profit)).where(Instalment.loan_id == loan.id)
    ).scalar() or Decimal("0")
    accrued = loan.profit_recognised - paid_profit  # recognised and never paid: taken back
    if accrued:
        lines += [(ledger.PROFIT_INCOME, accrued), (ledger.PROFIT_RECEIVABLE, -accrued)]
        loan.profit_recognised = paid_profit
    loan.closed_on = None  # written off is not closed: recoveries may follow
    ledger.post(
        session,
        ledger.Posting(
            "write_off",
            today,
            today,
            now,
            loan.id,
            loan.product_id,
            transaction_id=txn.id,
            memo="Written off against the allowance for loan losses",
            actor_id=user_id,
        ),
        lines,
    )
    return txn
