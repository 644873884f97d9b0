"""Resume a loan from its stored state: a payment dated after everything stored is applied
to what the last replay wrote, instead of replaying the whole history.

The stored state is the replay's projection (instalments, the loan's credit balance and where
its current period's accrual stands), held equal to a full replay every night by
`nightly/verify.py`; `finance.replay.resume` is property-tested equal to the full replay.
"""

from dataclasses import replace
from datetime import date

from sqlmodel import Session

from lending.errors import Conflict
from lending.finance.allocation import Accrual, LoanState
from lending.finance.enums import Prepayment
from lending.finance.late_fees import chargeable_from
from lending.finance.replay import Replay, ReplayError, Txn, resume
from lending.models import Loan
from lending.models.enums import LoanStatus
from lending.services.replay import Loaded, instalments_of, row_state, servicing_terms


def load_stored(session: Session, loan: Loan) -> Loaded:
    """Read the loan's instalments only (no transactions): to resume from its stored state."""
    instalments = instalments_of(session, loan)
    return Loaded(loan, instalments, (), servicing_terms(session, loan, instalments))


def may_resume(loan: Loan, first: date) -> bool:
    """Whether new payments dated `first` or later may start from the stored state at all:
    the loan's replay recorded where it left off, no input is dated after them, and the loan
    does not re-amortise (its rows are not its booked schedule)."""
    return (
        loan.inputs_through is not None
        and first >= loan.inputs_through
        and loan.prepayment == Prepayment.NEXT_INSTALMENTS
    )


def can_resume(loaded: Loaded, first: date) -> bool:
    """`may_resume`, and no late fee stored is dated after `first` either (the night charges
    fee days after the latest input; a payment dated before one must replay it away)."""
    rule = loaded.terms.late_fee
    return may_resume(loaded.loan, first) and all(
        chargeable_from(rule, row.due_date) <= first
        for row in loaded.instalments
        if row.late_fee  # charged (a stored fee is never below 0)
    )


def stored_state(loaded: Loaded) -> LoanState:
    """The state the last replay stored: the instalments as they stand, and its accrual."""
    loan, booked = loaded.loan, loaded.terms.state
    rows = tuple(row_state(i, stored=True) for i in loaded.instalments)
    accrual = None
    if loan.accrual_index is not None:  # stored with its mark and balance-days
        accrual = Accrual(loan.accrual_index, loan.accrual_mark, loan.accrual_balance_days)
    return replace(
        booked,
        instalments=rows,
        closed=loan.status not in (LoanStatus.ACTIVE, LoanStatus.WRITTEN_OFF),
        accrual=accrual,
    )


def resumed(loaded: Loaded, through: date, *extra: Txn) -> Replay:
    """The new transactions applied to the stored state (see `finance.replay.resume`)."""
    loan = loaded.loan
    try:
        return resume(
            loaded.terms,
            stored_state(loaded),
            loan.credit_balance,
            extra,
            loan.inputs_through,
            through,
        )
    except ReplayError as exc:
        raise Conflict(f"This would leave the loan's history inconsistent: {exc}.") from exc
