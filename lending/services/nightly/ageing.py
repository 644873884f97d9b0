"""Ageing: days past due, bucket and classification of every active loan, set-based per batch.

A night writes only the loans whose ageing changes: each UPDATE compares the new values with
the stored ones, so a steady night rewrites the loans that moved (the overdue ones, a day on,
and those cured or newly late), not the whole book. `aged_on` is therefore the date of the
night that last changed a loan's ageing; that a night aged the whole book is recorded by its
`nightly.ageing` job run, not on the loans.

A forward night also reads only the loans whose ageing can have changed since the last
ageing (`age_changed`), when that ageing succeeded and recorded how far it read: the whole
book is read on the first night, after a failed or replayed ageing, and on a month end (whose
snapshots read every loan anyway).
"""

import calendar
from datetime import date, datetime

from sqlalchemy import Date, delete, func, insert, literal, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from lending.models import Instalment, JobRun, Loan, LoanSnapshot, LoanTransaction
from lending.models.enums import JobStatus, LoanStatus, TxnKind
from lending.services.nightly.batches import key_ranges, run_parallel
from lending.services.nightly.sqlx import (
    BUCKETS,
    INPUT_KINDS,
    banded,
    classes,
    days_between,
    in_arrears,
)
from lending.services.nightly.verify import OVERLAP

# Large ranges: the work is all in the database, and fewer statements come nearer the floor.
BATCH = 50_000
PARALLEL_BATCH = 10_000  # smaller, so that the workers finish together
CHUNK = 5_000  # loan ids a statement when ageing only the loans that can have changed
ACTIVE = Loan.status == LoanStatus.ACTIVE
JOBS = ("nightly.ageing", "nightly.replay.ageing")


def age(
    engine: Engine,
    as_of: date,
    progress=None,
    snapshots: bool = True,
    now: datetime | None = None,
) -> dict:
    """Age the active book for `as_of`; write month-end snapshots on a month's last day.

    With `now` (a forward night's clock) the counts record it as `through`, and the loans read
    are only those whose ageing can have changed since the last ageing, where one allows it.
    """
    month_end = snapshots and is_month_end(as_of)
    last = None if month_end or now is None else last_ageing(engine, as_of)
    if last is not None:
        counts = age_changed(engine, as_of, *last, progress)
    else:
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
    return counts | ({"through": now.isoformat()} if now is not None else {})


def last_ageing(engine: Engine, as_of: date) -> tuple[date, datetime] | None:
    """(date, start of reading) of the last ageing, if reading only what changed since is
    sound: it is the newest ageing that ended (this one is still running; one a killed
    process left running was marked failed when this night started), it succeeded, it was for
    no later a date than `as_of`, and it recorded how far it read (`through`, the clock of its
    night; a replay records none). Otherwise the whole book is read."""
    with Session(engine) as session:
        run = session.execute(
            select(JobRun.job, JobRun.as_of, JobRun.status, JobRun.counts)
            .where(JobRun.job.in_(JOBS), JobRun.status != JobStatus.RUNNING)
            .order_by(JobRun.id.desc())
            .limit(1)
        ).first()
    if run is None or run.status != JobStatus.SUCCEEDED or run.as_of is None:
        return None
    through = (run.counts or {}).get("through")
    if not through or run.as_of > as_of:
        return None
    # Less what could commit after that ageing read, and still be recorded before `through`.
    return run.as_of, datetime.fromisoformat(through) - OVERLAP


def age_changed(engine: Engine, as_of: date, last: date, since: datetime, progress=None) -> dict:
    """Age, for `as_of`, the loans whose ageing can differ from what the ageing for `last` wrote.

    A loan's ageing is a function of the date and of which of its instalments are in arrears.
    What it has paid changes only by an input (payment, reversal, refund, waiver, a settlement
    row) or its booking, each a transaction recorded with the clock: the loans with one
    recorded since are aged again from their instalments. For every other active loan, the
    instalments in arrears are those of `last` plus those that fell due since, so:
    - a loan past due for `last` is still past due from the same oldest instalment: its days
      past due grow by the days between the two dates (no instalment read);
    - a loan current for `last` is past due now only if an instalment that fell due in
      [last, as_of) is in arrears, and then from the oldest of those (read through the index
      on instalments.due_date);
    - any other is current, as it was.
    """
    gap = (as_of - last).days
    recorded = select(LoanTransaction.loan_id).where(
        LoanTransaction.created_at >= since,
        LoanTransaction.kind.in_([*INPUT_KINDS, TxnKind.DISBURSEMENT]),
    )
    untouched = Loan.id.not_in(recorded)
    with Session(engine) as session, session.begin():
        connection = session.connection()
        dpd = Loan.days_past_due + gap
        on = connection.execute(
            update(Loan)
            .where(ACTIVE, Loan.days_past_due > 0, literal(gap) > 0, untouched)
            .values(aged(dpd, as_of))
        ).rowcount
        fell_due = (
            select(Instalment.loan_id, func.min(Instalment.due_date).label("oldest"))
            .where(Instalment.due_date >= last, Instalment.due_date < as_of, in_arrears())
            .group_by(Instalment.loan_id)
            .subquery()
        )
        late = days_between(session.get_bind().dialect.name, as_of, fell_due.c.oldest)
        newly = connection.execute(
            update(Loan)
            .where(Loan.id == fell_due.c.loan_id, ACTIVE, Loan.days_past_due == 0, untouched)
            .values(aged(late, as_of))
        ).rowcount
        ids = sorted(set(session.execute(recorded).scalars()))
    changed = on + newly
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        with Session(engine) as session, session.begin():
            changed += age_listed(session, as_of, chunk)
        if progress:
            progress(chunk[-1])
    return {
        "loans": on + newly + len(ids),
        "changed": changed,
        "overdue": overdue(engine),
        "snapshots": 0,
        "since": last.isoformat(),
    }


def aged(dpd, as_of: date) -> dict:
    """What an ageing UPDATE sets: days past due, the bands they fall in, and the date."""
    return {
        Loan.days_past_due: dpd,
        Loan.aged_on: as_of,
        Loan.bucket: banded(dpd, BUCKETS),
        Loan.classification: banded(dpd, classes()),
    }


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
    return _write(session, as_of, late, Loan.id.between(lo, hi))


def age_listed(session: Session, as_of: date, ids: list[int]) -> int:
    """Age the active loans among `ids` (a few thousand); return how many changed.

    Each loan's oldest instalment in arrears is read by a correlated subquery through the
    index on instalments.loan_id: a join bounded by a list of ids would let the planner scan
    the whole instalments table for each list.
    """
    dialect = session.get_bind().dialect.name
    listed = Loan.__table__.alias("listed")
    oldest = (
        select(func.min(Instalment.due_date))
        .where(Instalment.loan_id == listed.c.id, Instalment.due_date < as_of, in_arrears())
        .correlate(listed)
        .scalar_subquery()
    )
    late = (
        select(
            listed.c.id.label("loan_id"),
            func.coalesce(days_between(dialect, as_of, oldest), 0).label("dpd"),
        )
        .where(listed.c.id.in_(ids), listed.c.status == LoanStatus.ACTIVE)
        # Materialized: the UPDATE reads dpd five times (the comparisons and the bands), and
        # a subquery the planner pulls up would run the correlated subquery five times.
        .cte("late")
        .prefix_with("MATERIALIZED")
    )
    if dialect == "postgresql":  # compiling a few thousand index lookups costs more than them
        session.connection().exec_driver_sql("SET LOCAL jit = off")
    return _write(session, as_of, late, Loan.id.in_(ids))


def _write(session: Session, as_of: date, late, loans) -> int:
    """UPDATE the loans that `loans` selects whose DPD, bucket or class differ from `late`'s
    (loan_id, dpd) rows; return how many changed."""
    bucket, classification = banded(late.c.dpd, BUCKETS), banded(late.c.dpd, classes())
    changed = (
        (Loan.days_past_due != late.c.dpd)
        | (Loan.bucket != bucket)
        | (Loan.classification != classification)
    )
    statement = (
        update(Loan)
        .where(Loan.id == late.c.loan_id, loans, changed)
        .values(aged(late.c.dpd, as_of))
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
    engine: Engine,
    as_of: date,
    database_url: str,
    workers: int,
    snapshots: bool = True,
    now: datetime | None = None,
) -> dict:
    """Age with several processes that claim key ranges with FOR UPDATE SKIP LOCKED (the
    loans that can have changed, where `age` may read only those, in this process)."""
    month_end = snapshots and is_month_end(as_of)
    if not month_end and now is not None:
        last = last_ageing(engine, as_of)
        if last is not None:
            return age_changed(engine, as_of, *last) | {"through": now.isoformat()}
    batches = list(key_ranges(engine, ACTIVE, batch=PARALLEL_BATCH))
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
    } | ({"through": now.isoformat()} if now is not None else {})


def age_batch(session: Session, lo: int, hi: int, as_of: date, month_end: bool) -> dict:
    """Age one claimed key range (and snapshot it on a month end)."""
    return {
        "changed": age_range(session, as_of, lo, hi),
        "snapshots": snapshot_range(session, as_of, lo, hi) if month_end else 0,
    }
