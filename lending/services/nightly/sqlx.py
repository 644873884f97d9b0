"""SQL pieces that differ between SQLite and PostgreSQL, and the DPD-to-bucket rules."""

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Integer, Select, case, cast, func, literal, select
from sqlalchemy.sql.elements import ColumnElement

from lending import regulation
from lending.finance.replay import INPUTS
from lending.models import Instalment, LoanTransaction
from lending.models.enums import Bucket, Classification, TxnKind

INPUT_KINDS = [str(k) for k in INPUTS if k is not TxnKind.DISBURSEMENT]

# (lowest DPD, bucket), highest first: the one table both SQL and Python read, so the nightly
# UPDATE and the pages never disagree (the classes are the regulator profile's, `classes()`).
BUCKETS = (
    (91, Bucket.DPD_90_PLUS),
    (61, Bucket.DPD_61_90),
    (31, Bucket.DPD_31_60),
    (1, Bucket.DPD_1_30),
    (0, Bucket.CURRENT),
)


def classes() -> tuple[tuple[int, Classification], ...]:
    """(lowest DPD, class), highest first, of the lender's regulator profile."""
    return regulation.active().table()


def bucket_of(dpd: int) -> Bucket:
    """The delinquency bucket of a number of days past due."""
    return next(b for low, b in BUCKETS if dpd >= low)


def class_of(dpd: int) -> Classification:
    """The prudential classification by the lender's regulator profile (`lending.regulation`)."""
    return regulation.active().class_of(dpd)


def banded(dpd: ColumnElement, table) -> ColumnElement:
    """A CASE expression mapping DPD to a band value, from one of the tables above."""
    return case(
        *[(dpd >= low, literal(str(value))) for low, value in table[:-1]],
        else_=literal(str(table[-1][1])),
    )


def days_between(dialect: str, later: date, earlier: ColumnElement) -> ColumnElement:
    """Whole days from `earlier` (a date column) to `later`, in the dialect's arithmetic."""
    if dialect == "sqlite":
        return cast(func.julianday(later.isoformat()) - func.julianday(earlier), Integer)
    return literal(later) - earlier


def unpaid(i=Instalment) -> ColumnElement:
    """An instalment not yet paid in full (its late fee aside)."""
    return i.paid_principal + i.paid_profit + i.paid_fee < i.total


def in_arrears(i=Instalment) -> ColumnElement:
    """An instalment short by more than its arrears tolerance: overdue once its date passes.

    The same rule as `lending.finance.replay` (exact money on both databases): what fees,
    reminders, ageing and locks count as late.
    """
    return i.total - i.paid_principal - i.paid_profit - i.paid_fee > i.tolerance


def late_fee_owing(i=Instalment) -> ColumnElement:
    """An instalment whose late fee is neither paid nor waived in full."""
    return i.paid_late_fee + i.late_fee_waived < i.late_fee


def night_before(as_of: date) -> datetime:
    """The start of the day before `as_of` (UTC): what "since the night before" reads from."""
    return datetime.combine(as_of - timedelta(days=1), time(), tzinfo=UTC)


def touched(since: datetime, until: datetime | None = None) -> Select:
    """The ids of the loans that an input (payment, reversal, waiver, refund) was recorded on
    from `since` (to `until`): the only way a loan's paid state changes (the night's own fee
    charges follow the replay's rule set-based). Read through the index on created_at."""
    recorded = LoanTransaction.created_at >= since
    if until is not None:
        recorded &= LoanTransaction.created_at < until
    return select(LoanTransaction.loan_id).where(recorded, LoanTransaction.kind.in_(INPUT_KINDS))
