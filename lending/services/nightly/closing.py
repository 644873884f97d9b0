"""Close the active loans whose every instalment, late fee and fee is paid.

A payment that settles a loan closes it at once (its replay does); this step is the safety
net. Only an input (payment, reversal, waiver, refund) can complete what a loan has paid, so a
night looks at the loans touched since the night before, and a month end at the whole book
(rows written by other means, such as a migration, are closed by the month's end).
"""

from datetime import date

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from lending.models import Fee, Instalment, Loan
from lending.models.enums import LoanStatus
from lending.services.lifecycle import move
from lending.services.nightly.ageing import is_month_end
from lending.services.nightly.batches import id_ranges
from lending.services.nightly.sqlx import late_fee_owing, night_before, touched, unpaid


def close_paid(engine: Engine, as_of: date) -> dict:
    """Move fully paid active loans to closed."""
    counts = {"closed": 0}
    # Not the arrears tolerance: a few rupees short is not late, but it is still owed.
    owing = select(Instalment.id).where(Instalment.loan_id == Loan.id, unpaid() | late_fee_owing())
    fees_owing = select(Fee.id).where(
        Fee.loan_id == Loan.id, Fee.waived_at.is_(None), Fee.paid_amount < Fee.amount
    )
    paid_up = (Loan.status == LoanStatus.ACTIVE) & ~owing.exists() & ~fees_owing.exists()
    if not is_month_end(as_of):  # an anti-join per loan of the book: 25 s at a million
        paid_up = paid_up & Loan.id.in_(touched(night_before(as_of)))
    for lo, hi in id_ranges(engine, paid_up):
        with Session(engine) as session, session.begin():
            loans = (
                session.execute(
                    select(Loan).where(Loan.id >= lo, Loan.id <= hi, paid_up).with_for_update()
                )
                .scalars()
                .all()
            )
            for loan in loans:
                move(session, loan=loan, to=LoanStatus.CLOSED, actor_id=None, on=as_of)
                counts["closed"] += 1
    return counts
