"""A loan as the finance engine sees it, built from its rows in ONE place.

Payments, payoff quotes, the loan document and the portal all start from `load_book`, so the
amount a quote asks for is exactly the amount that allocation then settles.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from lending.errors import NotFound
from lending.finance.allocation import InstalmentState, LoanState
from lending.finance.enums import Part
from lending.finance.money import ZERO, to_money
from lending.models import Fee, Instalment, Loan
from lending.models.enums import FeeKind, LoanStatus

OPEN_STATUSES = frozenset({LoanStatus.ACTIVE, LoanStatus.WRITTEN_OFF})


@dataclass(frozen=True)
class Amounts:
    """Money by part of a loan: principal, profit, fees (late fees included) and their total."""

    principal: Decimal = ZERO
    profit: Decimal = ZERO
    fees: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.principal + self.profit + self.fees


@dataclass(frozen=True)
class LoanBook:
    """A loan's rows (instalments by number, live late fees by instalment) and its engine state."""

    loan: Loan
    instalments: tuple[Instalment, ...]
    late_fees: dict[int, Fee]
    state: LoanState


def business_day(moment: datetime, timezone: str) -> date:
    """The business date of a moment (Asia/Karachi by default)."""
    return moment.astimezone(ZoneInfo(timezone)).date()


def lock_loan(session: Session, loan_id: int) -> Loan:
    """Load the loan row FOR UPDATE (fresh, not from the session's cache); 404 if missing."""
    loan = session.exec(
        select(Loan)
        .where(Loan.id == loan_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if loan is None:
        raise NotFound("No such loan.")
    return loan


def load_book(session: Session, loan: Loan) -> LoanBook:
    """Read the loan's instalments and live late fees and build the engine's LoanState."""
    fresh = {"populate_existing": True}
    instalments = tuple(
        session.exec(
            select(Instalment)
            .where(Instalment.loan_id == loan.id)
            .order_by(Instalment.n)
            .execution_options(**fresh)
        ).all()
    )
    fees = session.exec(
        select(Fee)
        .where(Fee.loan_id == loan.id, Fee.kind == FeeKind.LATE, Fee.waived_at.is_(None))
        .execution_options(**fresh)
    ).all()
    late_fees = {fee.instalment_id: fee for fee in fees if fee.instalment_id is not None}
    rows = tuple(_instalment_state(item, late_fees.get(item.id)) for item in instalments)
    state = LoanState(
        start=loan.disbursed_on,
        annual_rate=loan.annual_rate,
        instalments=rows,
        islamic=loan.islamic,
        closed=loan.status not in OPEN_STATUSES,
    )
    return LoanBook(loan, instalments, late_fees, state)


def _instalment_state(item: Instalment, late_fee: Fee | None) -> InstalmentState:
    return InstalmentState(
        n=item.n,
        due_date=item.due_date,
        principal=item.principal,
        profit=item.profit,
        fee=item.fee,
        late_fee=late_fee.amount if late_fee else ZERO,
        paid_principal=item.paid_principal,
        paid_profit=item.paid_profit,
        paid_fee=item.paid_fee,
        paid_late_fee=late_fee.paid_amount if late_fee else ZERO,
    )


def unpaid(item: InstalmentState, part: Part) -> Decimal:
    """What is left to pay of one part of an instalment (never negative)."""
    return to_money(max(item.unpaid(part), 0))


def outstanding(state: LoanState) -> Amounts:
    """What is left to pay as scheduled (nothing once the loan is settled, closed or cancelled)."""
    if state.closed:
        return Amounts()
    items = state.instalments
    return Amounts(
        principal=sum((unpaid(i, Part.PRINCIPAL) for i in items), ZERO),
        profit=sum((unpaid(i, Part.PROFIT) for i in items), ZERO),
        fees=sum((unpaid(i, Part.FEE) + unpaid(i, Part.LATE_FEE) for i in items), ZERO),
    )


def paid(state: LoanState) -> Amounts:
    """What has been paid so far, by part."""
    items = state.instalments
    return Amounts(
        principal=sum((i.paid_principal for i in items), ZERO),
        profit=sum((i.paid_profit for i in items), ZERO),
        fees=sum((i.paid_fee + i.paid_late_fee for i in items), ZERO),
    )
