"""A loan as the finance engine sees it, built from its rows in ONE place.

Payoff quotes, the loan document and the portal start from `load_book`, which replays the
loan's transactions with the same engine as payments, so the amount a quote asks for is
exactly the amount that a payment then settles.
"""

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam
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


_LOCK = (  # built once (a bind parameter): building a SELECT costs more than running it
    select(Loan)
    .where(Loan.id == bindparam("loan_id"))
    .with_for_update()
    .execution_options(populate_existing=True)
)


def lock_loan(session: Session, loan_id: int) -> Loan:
    """Load the loan row FOR UPDATE (fresh, not from the session's cache); 404 if missing."""
    loan = session.exec(_LOCK, params={"loan_id": loan_id}).first()
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
    principal = profit = fees = 0  # paisa: each part's unpaid (never negative), summed
    for i in state.instalments:
        principal += max(i.unpaid(Part.PRINCIPAL), 0)
        profit += max(i.unpaid(Part.PROFIT), 0)
        fees += max(i.unpaid(Part.FEE), 0) + max(i.unpaid(Part.LATE_FEE), 0)
    return Amounts(principal=to_money(principal), profit=to_money(profit), fees=to_money(fees))


def paid(state: LoanState) -> Amounts:
    """What has been paid so far, by part."""
    items = state.instalments
    return Amounts(
        principal=sum((i.paid_principal for i in items), ZERO),
        profit=sum((i.paid_profit for i in items), ZERO),
        fees=sum((i.paid_fee + i.paid_late_fee for i in items), ZERO),
    )
