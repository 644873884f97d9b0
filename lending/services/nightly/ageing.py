"""Ageing: days past due, bucket and classification of every active loan, set-based per batch.

A night writes only the loans whose ageing changes: each range's UPDATE compares the new values
with the stored ones, so a steady night rewrites the loans that moved (the overdue ones, a day
on, and those cured or newly late), not the whole book. `aged_on` is therefore the date of the
night that last changed a loan's ageing; that a night aged the whole book is recorded by its
`nightly.ageing` job run, not on the loans.
"""

import calendar
from datetime import date

from sqlalchemy import Date, delete, func, insert, literal, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from lending.models import Instalment, Loan, LoanSnapshot
from lending.models.enums import LoanStatus
from lending.services.nightly.batches import key_ranges, run_parallel
from lending.services.nightly.sqlx import BUCKETS, CLASSES, banded, days_between, in_arrears

# Large ranges: the work is all in the database, and fewer statements come nearer the floor.
BATCH = 50_000
PARALLEL_BATCH = 10_000  # smaller, so that the workers finish together
ACTIVE = Loan.status == LoanStatus.ACTIVE


def age(engine: Engine, as_of: date, progress=None, snapshots: bool = True) -> dict:
    """Age the active book for `as_of`; write month-end snapshots on a month's last day."""
    month_end = snapshots and is_month_end(as_of)
    counts = {"loans": 0, "changed": 0, "overdue": 0, "snapshots": 0}
    for batch in key_ranges(engine, ACTIVE, batch=BATCH):
        with Session(engine) as session, session.begin():
            counts["changed"] += age_range(session, as_of, batch.lo, batch.hi)
            if month_end:
                counts["snapshots"] += snapshot_range(session, as_of, batch.lo, batch.hi)
        counts["loans"] += batch.loans
        if progress:
            progress(batch.hi)
    counts["overdue"] = overdue(engine)
    return counts


def overdue(engine: Engine) -> int:
    """Active loans past due."""
    with Session(engine) as session:
        return session.exec(
            select(func.count()).select_from(Loan).where(ACTIVE, Loan.days_past_due > 0)
        ).scalar_one()


def age_range(session: Session, as_of: date, lo: int, hi: int) -> int:
    """Age the active loans of a key range in one UPDATE ... FROM; return how many changed.

    DPD counts from the oldest instalment in arrears (short by more than its tolerance). Both
    tables are bounded on the range, so that the range reads its own instalments by index.
    """
    dialect = session.get_bind().dialect.name
    oldest = func.min(Instalment.due_date)
    late = (
        select(
            Loan.id.label("loan_id"),
            func.coalesce(days_between(dialect, as_of, oldest), 0).label("dpd"),
        )
        .select_from(Loan)
        .outerjoin(
            Instalment,
            (Instalment.loan_id == Loan.id)
            & Instalment.loan_id.between(lo, hi)
            & (Instalment.due_date < as_of)
            & in_arrears(),
        )
        .where(Loan.id.between(lo, hi), ACTIVE)
        .group_by(Loan.id)
        .subquery()
    )
    bucket, classification = banded(late.c.dpd, BUCKETS), banded(late.c.dpd, CLASSES)
    changed = (
        (Loan.days_past_due != late.c.dpd)
        | (Loan.bucket != bucket)
        | (Loan.classification != classification)
    )
    statement = (
        update(Loan)
        .where(Loan.id == late.c.loan_id, Loan.id.between(lo, hi), changed)
        .values(
            days_past_due=late.c.dpd, aged_on=as_of, bucket=bucket, classification=classification
        )
    )
    # Core, not the ORM: its rowcount is the driver's, and no ids are fetched to sync a session.
    return session.connection().execute(statement).rowcount


def is_month_end(day: date) -> bool:
    """True on the last day of a month."""
    return day.day == calendar.monthrange(day.year, day.month)[1]


def snapshot_range(session: Session, as_of: date, lo: int, hi: int) -> int:
    """Replace the month-end snapshot rows of a key range (safe to repeat); return how many."""
    connection = session.connection()
    connection.execute(
        delete(LoanSnapshot).where(
            LoanSnapshot.as_of == as_of, LoanSnapshot.loan_id.between(lo, hi)
        )
    )
    outstanding = (
        select(func.coalesce(func.sum(Instalment.principal - Instalment.paid_principal), 0))
        .where(Instalment.loan_id == Loan.id)
        .scalar_subquery()
    )
    rows = select(
        Loan.id, Loan.days_past_due, Loan.bucket, outstanding, literal(as_of, Date)
    ).where(Loan.id.between(lo, hi), ACTIVE)
    statement = insert(LoanSnapshot).from_select(
        ["loan_id", "days_past_due", "bucket", "outstanding_principal", "as_of"], rows
    )
    # SQLAlchemy keeps the driver's rowcount for UPDATE and DELETE only unless asked: without
    # this an INSERT ... SELECT counts -1 on psycopg (it reported "snapshots: -4").
    return connection.execute(statement.execution_options(preserve_rowcount=True)).rowcount


def age_parallel(
    engine: Engine, as_of: date, database_url: str, workers: int, snapshots: bool = True
) -> dict:
    """Age with several processes that claim key ranges with FOR UPDATE SKIP LOCKED."""
    batches = list(key_ranges(engine, ACTIVE, batch=PARALLEL_BATCH))
    month_end = snapshots and is_month_end(as_of)
    done = run_parallel(
        engine,
        "ageing",
        as_of,
        batches,
        age_batch,
        as_of,
        month_end,
        workers=workers,
        database_url=database_url,
    )
    return {
        "loans": sum(b.loans for b in batches),
        "changed": done.get("changed", 0),
        "overdue": overdue(engine),
        "snapshots": done.get("snapshots", 0),
        "workers": workers,
    }


def age_batch(session: Session, lo: int, hi: int, as_of: date, month_end: bool) -> dict:
    """Age one claimed key range (and snapshot it on a month end)."""
    return {
        "changed": age_range(session, as_of, lo, hi),
        "snapshots": snapshot_range(session, as_of, lo, hi) if month_end else 0,
    }
