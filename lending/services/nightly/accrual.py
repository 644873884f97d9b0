"""Accrual of profit (ACCOUNTING_BASIS=accrual): each night, what the ledger recognises.

Per period: an instalment's profit is recognised on its due date. A loan the regulator
profile counts non-performing (`suspend_profit_from_dpd` days past due or more) has its
profit suspended: only what it paid is recognised, so what was accrued and not paid is taken
back out of income (the State Bank's rule for unrealised mark-up on non-performing loans). A
loan settled or closed has earned what it paid (a rebate given at early settlement is never
income). One UPDATE writes `loans.profit_recognised` where it changes; the night posts the
movement per product (its profit income account may be its own): the profit receivable
against profit income, or back. On the cash basis the step does nothing.

The profit receivable account is then, at any moment, the sum over the loans on the books of
what is recognised less what is paid (payments settle the receivable: `ledger.position`),
which the ledger step ties out.
"""

from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from lending import regulation
from lending.finance.money import ZERO
from lending.models import Instalment, Loan
from lending.models.enums import LoanStatus
from lending.services import ledger

LIVE = (LoanStatus.ACTIVE, LoanStatus.SETTLED, LoanStatus.CLOSED)
DONE = (LoanStatus.SETTLED, LoanStatus.CLOSED)


def recognised_by_product(session: Session) -> dict[int, Decimal]:
    rows = session.execute(
        select(Loan.product_id, func.sum(Loan.profit_recognised))
        .where(Loan.status.in_(LIVE))
        .group_by(Loan.product_id)
    ).all()
    return {product: amount or ZERO for product, amount in rows}


def recognisable(as_of: date, suspend_from: int):
    """Per live loan, the profit to recognise as of a date (a subquery: loan_id, amount)."""
    paid = func.sum(Instalment.paid_profit)
    due = func.sum(case((Instalment.due_date <= as_of, Instalment.profit), else_=0))
    earned_only_when_paid = or_(Loan.status.in_(DONE), Loan.days_past_due >= suspend_from)
    return (
        select(
            Loan.id.label("loan_id"),
            case((earned_only_when_paid, paid), else_=due).label("amount"),
        )
        .join(Instalment, Instalment.loan_id == Loan.id)
        .where(Loan.status.in_(LIVE))
        .group_by(Loan.id, Loan.status, Loan.days_past_due)
        .subquery()
    )


def accrue(engine: Engine, as_of: date, now: datetime | None = None) -> dict:
    """Recognise the profit due by `as_of` (suspended on non-performing loans) and post the
    movement; the counts: loans changed, the movement, the profit receivable left."""
    if regulation.basis() != "accrual":
        return {"basis": "cash"}
    now = now or datetime.now(UTC)
    profile = regulation.active()
    with Session(engine) as session, session.begin():
        before = recognised_by_product(session)
        new = recognisable(as_of, profile.suspend_profit_from_dpd)
        changed = session.execute(
            update(Loan)
            .where(and_(Loan.id == new.c.loan_id, Loan.profit_recognised != new.c.amount))
            .values(profit_recognised=new.c.amount)
            .execution_options(synchronize_session=False)
        ).rowcount
        after = recognised_by_product(session)
        moved: dict[int, Decimal] = defaultdict(Decimal)
        for product in before.keys() | after.keys():
            moved[product] = after.get(product, ZERO) - before.get(product, ZERO)
        for product, amount in sorted(moved.items()):
            if amount:
                ledger.post(
                    session,
                    ledger.Posting(
                        "accrual",
                        as_of,
                        as_of,
                        now,
                        product_id=product,
                        memo=f"Profit recognised by {as_of} ({profile.code} suspension rule)",
                    ),
                    [(ledger.PROFIT_RECEIVABLE, amount), (ledger.PROFIT_INCOME, -amount)],
                )
    total = sum(moved.values(), ZERO)
    return {"basis": "accrual", "loans": changed, "moved": str(total)}
