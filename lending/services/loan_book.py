"""A loan as the finance engine sees it, built from its rows in ONE place.

Payoff quotes, the loan document and the portal start from `load_book`, which replays the
loan's transactions with the same engine as payments, so the amount a quote asks for is
exactly the amount that a payment then settles.
"""

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from lending.errors import NotFound
from lending.finance.allocation import InstalmentState, LoanState
from lending.finance.enums import Part
from lending.finance.money import ZERO, to_money
from lending.models import Instalment, Loan
from lending.models.enums import LoanStatus

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
    """A loan's instalment rows and its money state replayed through a date."""

    loan: Loan
    instalments: tuple[Instalment, ...]
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


def load_book(session: Session, loan: Loan, on: date) -> LoanBook:
    """The loan replayed from its transactions through `on` (nothing is written)."""
    from lending.services.replay import load, replay_loaded

    loaded = load(session, loan)
    state = replay_loaded(loaded, max(on, loan.disbursed_on)).state
    if loan.status not in OPEN_STATUSES:
        state = replace(state, closed=True)
    return LoanBook(loan, loaded.instalments, state)


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
