"""Ageing: days past due, bucket and classification of every active loan, set-based per batch."""

import calendar
from datetime import date

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from lending.models import Instalment, JobBatch, Loan, LoanSnapshot
from lending.models.enums import LoanStatus
from lending.services.nightly.batches import id_ranges
from lending.services.nightly.sqlx import BUCKETS, CLASSES, banded, days_between, unpaid


def age(engine: Engine, as_of: date, progress=None) -> dict:
    """Age the active book for `as_of`; write month-end snapshots on a month's last day."""
    active = Loan.status == LoanStatus.ACTIVE
    counts = {"loans": 0, "overdue": 0, "snapshots": 0}
    # Large ranges: the work is all in the database, and fewer statements come nearer the floor.
    for lo, hi in id_ranges(engine, active, batch=50_000):
        with Session(engine) as session, session.begin():
            counts["loans"] += age_range(session, as_of, lo, hi)
            if is_month_end(as_of):
                counts["snapshots"] += snapshot_range(session, as_of, lo, hi)
        if progress:
            progress(hi)
    with Session(engine) as session:
        counts["overdue"] = session.exec(
            select(func.count()).select_from(Loan).where(active, Loan.days_past_due > 0)
        ).scalar_one()
    return counts


def age_range(session: Session, as_of: date, lo: int, hi: int) -> int:
    """One UPDATE ... FROM over a key range: DPD from the oldest unpaid due date, and bands."""
    dialect = session.get_bind().dialect.name
    late = (
        select(
            Loan.id.label("loan_id"),
            func.coalesce(days_between(dialect, as_of, func.min(Instalment.due_date)), 0).label(
                "dpd"
            ),
        )
        .select_from(Loan)
        .outerjoin(
            Instalment, (Instalment.loan_id == Loan.id) & (Instalment.due_date < as_of) & unpaid()
        )
        .where(Loan.id >= lo, Loan.id <= hi, Loan.status == LoanStatus.ACTIVE)
        .group_by(Loan.id)
        .subquery()
    )
    result = session.execute(
        update(Loan)
        .where(Loan.id == late.c.loan_id)
        .values(
            days_past_due=late.c.dpd,
            aged_on=as_of,
            bucket=banded(late.c.dpd, BUCKETS),
            classification=banded(late.c.dpd, CLASSES),
        )
    )
    return result.rowcount


def is_month_end(day: date) -> bool:
    """True on the last day of a month."""
    return day.day == calendar.monthrange(day.year, day.month)[1]


def snapshot_range(session: Session, as_of: date, lo: int, hi: int) -> int:
    """Replace the month-end snapshot rows of a key range (safe to repeat)."""
    in_range = (Loan.id >= lo, Loan.id <= hi, Loan.status == LoanStatus.ACTIVE)
    session.execute(
        delete(LoanSnapshot).where(
            LoanSnapshot.as_of == as_of, LoanSnapshot.loan_id >= lo, LoanSnapshot.loan_id <= hi
        )
    )
    outstanding = (
        select(func.coalesce(func.sum(Instalment.principal - Instalment.paid_principal), 0))
        .where(Instalment.loan_id == Loan.id)
        .scalar_subquery()
    )
    rows = select(
        Loan.id, Loan.days_past_due, Loan.bucket, outstanding, as_of_literal(as_of)
    ).where(*in_range)
    result = session.execute(
        insert(LoanSnapshot).from_select(
            ["loan_id", "days_past_due", "bucket", "outstanding_principal", "as_of"], rows
        )
    )
    return result.rowcount


def as_of_literal(as_of: date):
    """The business date as a typed SQL literal."""
    from sqlalchemy import Date, literal

    return literal(as_of, Date)


def age_parallel(engine: Engine, as_of: date, database_url: str, workers: int) -> dict:
    """Age with several processes that claim key ranges with FOR UPDATE SKIP LOCKED."""
    import multiprocessing

    with Session(engine) as session, session.begin():
        session.execute(delete(JobBatch).where(JobBatch.job == "ageing", JobBatch.as_of == as_of))
        session.add_all(
            JobBatch(job="ageing", as_of=as_of, lo=lo, hi=hi)
            for lo, hi in id_ranges(engine, Loan.status == LoanStatus.ACTIVE)
        )
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=age_worker, args=(database_url, as_of)) for _ in range(workers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    if any(p.exitcode for p in processes):
        raise RuntimeError("an ageing worker failed; run the night again")
    with Session(engine) as session:
        aged = session.exec(
            select(func.count())
            .select_from(Loan)
            .where(Loan.status == LoanStatus.ACTIVE, Loan.aged_on == as_of)
        ).scalar_one()
    return {"loans": aged, "workers": workers}


def age_worker(database_url: str, as_of: date) -> None:
    """Claim unaged batches until none is left; each batch commits with its `done` mark."""
    from lending.db import make_engine

    engine = make_engine(database_url)
    while True:
        with Session(engine) as session, session.begin():
            batch = session.execute(
                select(JobBatch)
                .where(JobBatch.job == "ageing", JobBatch.as_of == as_of, ~JobBatch.done)
                .order_by(JobBatch.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).scalar_one_or_none()
            if batch is None:
                break
            age_range(session, as_of, batch.lo, batch.hi)
            if is_month_end(as_of):
                snapshot_range(session, as_of, batch.lo, batch.hi)
            batch.done = True
    engine.dispose()
