"""Staff adjustments of a loan: waive an instalment's late fee, refund a credit balance.

Each is one appended loan transaction, and the loan is replayed to store what it changes.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from lending.errors import Conflict, InvalidInput
from lending.finance.enums import TxnKind
from lending.finance.replay import Txn
from lending.models import LoanTransaction
from lending.schemas.payments import AdjustmentResultSchema
from lending.services import audit, ledger
from lending.services.loan_book import business_day, lock_loan, outstanding
from lending.services.replay import PENDING, Cause, live_fees, load, replayed, store

_ADJUSTMENT_RESULT = AdjustmentResultSchema()  # built once: construction deep-copies fields


@dataclass(frozen=True)
class Adjustment:
    """Who asks for what on which loan, and why."""

    loan_id: int
    user_id: int
    reason: str
    instalment: int | None = None  # a waiver's instalment
    amount: Decimal | None = None  # a refund's amount


def waive_late_fee(*, session, adjustment: Adjustment, now: datetime, timezone: str) -> dict:
    """Waive what is unpaid of an instalment's late fee (409 if there is none)."""
    loan = lock_loan(session, adjustment.loan_id)
    loaded = load(session, loan)
    n = adjustment.instalment
    if n not in {i.n for i in loaded.instalments}:
        raise InvalidInput({"instalment": [f"This loan has no instalment {n}."]})
    row = next(i for i in loaded.instalments if i.n == n)
    left = row.late_fee - row.late_fee_waived - row.paid_late_fee
    if n not in live_fees(loaded.transactions) or left <= 0:
        raise Conflict(f"Instalment {n} has no unpaid late fee to waive.")
    return _write(session, loaded, TxnKind.WAIVER, left, adjustment, now, timezone)


def refund_credit(*, session, adjustment: Adjustment, now: datetime, timezone: str) -> dict:
    """Pay back (part of) a loan's credit balance; never more than it."""
    loan = lock_loan(session, adjustment.loan_id)
    if adjustment.amount > loan.credit_balance:
        raise InvalidInput(
            {"amount": [f"The loan's credit balance is Rs {loan.credit_balance:,}."]}
        )
    return _write(
        session, load(session, loan), TxnKind.REFUND, adjustment.amount, adjustment, now, timezone
    )


def _write(session, loaded, kind: TxnKind, amount, adjustment: Adjustment, now, timezone) -> dict:
    today = business_day(now, timezone)
    pending = Txn(PENDING, kind, today, amount, instalment_n=adjustment.instalment)
    result = replayed(loaded, today, pending)
    loan = loaded.loan
    txn = LoanTransaction(
        loan_id=loan.id,
        kind=kind,
        value_date=today,
        amount=amount,
        instalment_n=adjustment.instalment,
        created_by_id=adjustment.user_id,
        note=adjustment.reason[:500],
        created_at=now,
    )
    session.add(txn)
    session.flush()
    money = ((ledger.BANK, -amount),) if kind is TxnKind.REFUND else ()  # paid back by bank
    cause = Cause((txn,), adjustment.user_id, now, today, money, timezone)
    store(session, loaded, result, cause)
    audit.record(
        session,
        action=f"loan.{kind}",
        actor_id=adjustment.user_id,
        obj=loan,
        at=now,
        after={"amount": str(amount), "instalment": adjustment.instalment},
        detail={"reason": adjustment.reason},
    )
    session.flush()
    return _ADJUSTMENT_RESULT.dump(
        {
            "transaction_id": txn.id,
            "loan_id": loan.id,
            "kind": str(kind),
            "amount": amount,
            "outstanding": outstanding(result.state),
            "credit_balance": loan.credit_balance,
            "loan_status": str(loan.status),
        }
    )
