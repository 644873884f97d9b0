"""A loan as the borrower and the API see it on a day: schedule with statuses, dues, arrears."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlmodel import Session, select

from lending.errors import Conflict, InvalidInput
from lending.finance.allocation import InstalmentState, PayoffQuote, overdue, payoff_quote
from lending.finance.enums import Part
from lending.finance.money import ZERO
from lending.models import Instalment, Loan, OutboxMessage, Payment
from lending.models.enums import (
    Bucket,
    InstalmentStatus,
    LoanStatus,
    OutboxChannel,
    OutboxStatus,
)
from lending.services.loan_book import (
    OPEN_STATUSES,
    Amounts,
    load_book,
    outstanding,
    paid,
    unpaid,
)

MAX_QUOTE_AFTER_MATURITY = timedelta(days=366)
# Upper bounds of days past due of each bucket; beyond the last is 90+.
BUCKETS = (
    (0, Bucket.CURRENT),
    (30, Bucket.DPD_1_30),
    (60, Bucket.DPD_31_60),
    (90, Bucket.DPD_61_90),
)


@dataclass(frozen=True)
class InstalmentLine:
    """One instalment: what it asks for, what was paid, what is left, and how it stands."""

    n: int
    due_date: date
    principal: Decimal
    profit: Decimal
    fee: Decimal
    late_fee: Decimal
    paid: Decimal
    unpaid: Decimal
    status: InstalmentStatus
    paid_on: date | None

    @property
    def total(self) -> Decimal:
        return self.principal + self.profit + self.fee + self.late_fee


@dataclass(frozen=True)
class NextDue:
    """The next instalment to fall due (today or later) and what is left of it."""

    instalment: int
    due_date: date
    amount: Decimal


@dataclass(frozen=True)
class LoanView:
    """Everything a loan page or document shows, computed once from the loan book."""

    loan: Loan
    as_of: date
    schedule: tuple[InstalmentLine, ...]
    paid: Amounts
    outstanding: Amounts
    due_now: Decimal  # overdue instalments and today's, to be current today
    next_due: NextDue | None
    days_past_due: int
    bucket: Bucket


def bucket_for(days_past_due: int) -> Bucket:
    """The delinquency bucket of a number of days past due."""
    for limit, bucket in BUCKETS:
        if days_past_due <= limit:
            return bucket
    return Bucket.DPD_90_PLUS


def loan_view(session: Session, loan: Loan, as_of: date) -> LoanView:
    """Build the view of a loan on a business date from its rows (the same book as payments)."""
    book = load_book(session, loan, as_of)
    lines = tuple(
        _line(row, item, as_of, loan.status)
        for row, item in zip(book.instalments, book.state.instalments, strict=True)
    )
    late, dpd = overdue(book.state, as_of)
    due_now = late + sum((x.unpaid for x in lines if x.due_date == as_of), ZERO)
    upcoming = [x for x in lines if x.unpaid > 0 and x.due_date >= as_of]
    next_due = None
    if upcoming and not book.state.closed:
        next_due = NextDue(upcoming[0].n, upcoming[0].due_date, upcoming[0].unpaid)
    return LoanView(
        loan=loan,
        as_of=as_of,
        schedule=lines,
        paid=paid(book.state),
        outstanding=outstanding(book.state),
        due_now=due_now,
        next_due=next_due,
        days_past_due=dpd,
        bucket=bucket_for(dpd),
    )


def _line(row: Instalment, item: InstalmentState, as_of: date, status: LoanStatus):
    left = sum((unpaid(item, part) for part in Part), ZERO)
    paid_so_far = item.paid_principal + item.paid_profit + item.paid_fee + item.paid_late_fee
    return InstalmentLine(
        n=item.n,
        due_date=item.due_date,
        principal=item.principal,
        profit=item.profit,
        fee=item.fee,
        late_fee=item.late_fee,
        paid=paid_so_far,
        unpaid=left,
        status=_status(item, left, paid_so_far, as_of, status),
        paid_on=item.paid_on,
    )


def _status(item: InstalmentState, left: Decimal, paid_so_far, as_of: date, loan: LoanStatus):
    if left <= 0:
        return InstalmentStatus.PAID
    if loan == LoanStatus.CANCELLED:
        return InstalmentStatus.CANCELLED
    if loan in (LoanStatus.SETTLED, LoanStatus.CLOSED):
        return InstalmentStatus.SETTLED
    if item.due_date < as_of and left - unpaid(item, Part.LATE_FEE) > item.tolerance:
        return InstalmentStatus.OVERDUE
    return InstalmentStatus.PARTLY_PAID if paid_so_far > 0 else InstalmentStatus.DUE


def payments_of(session: Session, loan: Loan) -> list[Payment]:
    """The loan's payments, oldest first (reversed ones included, marked so)."""
    return list(
        session.exec(
            select(Payment).where(Payment.loan_id == loan.id).order_by(Payment.paid_at, Payment.id)
        ).all()
    )


def reminders_of(session: Session, loan: Loan) -> list[OutboxMessage]:
    """SMS and e-mails sent to the borrower about the loan, newest first (not device signals)."""
    return list(
        session.exec(
            select(OutboxMessage)
            .where(
                OutboxMessage.loan_id == loan.id,
                OutboxMessage.channel.in_([OutboxChannel.SMS, OutboxChannel.EMAIL]),
                OutboxMessage.status == OutboxStatus.SENT,
            )
            .order_by(OutboxMessage.sent_at.desc(), OutboxMessage.id.desc())
        ).all()
    )


def quote_payoff(*, session: Session, loan: Loan, as_of: date) -> PayoffQuote:
    """What settles the loan in full on a date: the engine's quote on the loan book."""
    if loan.status not in OPEN_STATUSES:
        raise Conflict(f"This loan is {loan.status}; nothing is left to settle.")
    if as_of < loan.disbursed_on:
        raise InvalidInput({"as_of": ["The date must not be before the loan was booked."]})
    if as_of > loan.maturity_on + MAX_QUOTE_AFTER_MATURITY:
        raise InvalidInput({"as_of": ["Choose a date closer to the loan's last instalment."]})
    return payoff_quote(load_book(session, loan, as_of).state, as_of)
