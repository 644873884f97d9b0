"""The replay check: a loan's stored state must equal the replay of its transactions.

It replays, from scratch, each active or recently closed loan that a payment, reversal, waiver
or refund touched since the last check: through the day, every few minutes (the scheduler's
`replay_check`), so that a difference is reported within minutes of the input that made it;
and each night, what was touched since the day's last check, with a thirtieth of the book by
id (so every loan is checked at least once a month). Each check records how far it read
(`through`, in its job run's counts); the next starts a minute before that. It reads the loans
in batches (three queries per batch, in worker processes on PostgreSQL if asked), and
compares what the instalments and the loan say with the replay through the date: paid parts,
late fees and waivers, paid dates (and, for a loan that reduces principal on a prepayment, the
re-amortised principal, profit, fee, total, balance after and tolerance), credit balance, days
past due, status. It writes nothing but an audit event per loan that
differs, and reports the count: a difference is a bug to investigate, not something to paper
over.
"""

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import or_, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from lending.models import Instalment, JobRun, Loan, LoanTransaction
from lending.models.enums import JobStatus, LoanStatus
from lending.services import audit
from lending.services.nightly.batches import KeyRange, run_parallel
from lending.services.nightly.sqlx import night_before, touched
from lending.services.replay import (
    Loaded,
    all_rules,
    projection,
    replay_loaded,
    servicing_terms,
)

BATCH = 1_000
SLICES = 30  # a thirtieth of the book every night: each loan at least once a month
SETTLED = (LoanStatus.SETTLED, LoanStatus.CLOSED)


class Parallel(NamedTuple):
    """Worker processes for the check, and the database they connect to."""

    workers: int
    database_url: str


class Scope(NamedTuple):
    """Which loans a check replays, and through which date: those touched by an input
    recorded from `since` (to `until`), and, at night, tonight's thirtieth of the book."""

    as_of: date
    since: datetime
    until: datetime | None = None
    rotation: bool = True


def verify(
    engine: Engine,
    as_of: date,
    progress=None,
    now: datetime | None = None,
    parallel: Parallel | None = None,
    since: datetime | None = None,
) -> dict:
    """Replay the loans to check tonight (touched since `since`, by default the night before,
    and the night's thirtieth of the book) and count those whose stored state differs; in
    `parallel.workers` processes on PostgreSQL when given more than one."""
    now = now or datetime.now(UTC)  # the job's clock: only callers without one get the machine's
    return run_check(engine, Scope(as_of, since or night_before(as_of)), now, parallel, progress)


def run_check(engine: Engine, scope: Scope, now: datetime, parallel=None, progress=None) -> dict:
    """Replay the loans of a scope in batches of key ranges; audit each that differs."""
    with Session(engine) as session:
        rules = all_rules(session)
        ids = session.execute(select(Loan.id).where(wanted(scope)).order_by(Loan.id)).scalars()
        ids = ids.all()
        chunks = (ids[k : k + BATCH] for k in range(0, len(ids), BATCH))
        ranges = [KeyRange(chunk[0], chunk[-1], len(chunk)) for chunk in chunks]
    if parallel and parallel.workers > 1 and engine.dialect.name == "postgresql":
        job = "verify" if scope.rotation else "replay_check"
        counts = run_parallel(
            engine, job, scope.as_of, ranges, verify_range, scope, now, rules, **parallel._asdict()
        )
        return {"loans": counts.get("loans", 0), "mismatches": counts.get("mismatches", 0)}
    counts = {"loans": 0, "mismatches": 0}
    for batch in ranges:
        with Session(engine) as session, session.begin():
            done = verify_range(session, batch.lo, batch.hi, scope, now, rules)
        counts = {key: counts[key] + done[key] for key in counts}
        if progress:
            progress(batch.hi)
    return counts


# A check covers the inputs recorded up to its start. One recorded a moment before that may
# commit after the check has read (a payment's transaction in flight): the next check starts
# this much earlier, so nothing falls between two checks.
OVERLAP = timedelta(minutes=1)
CHECKS = ("replay_check", "nightly.verify")  # the job runs that record how far they checked


def checked_through(engine: Engine) -> datetime | None:
    """When the last successful check (through the day, or a night's) started reading."""
    with Session(engine) as session:
        runs = session.execute(
            select(JobRun.counts)
            .where(JobRun.job.in_(CHECKS), JobRun.status == JobStatus.SUCCEEDED)
            .order_by(JobRun.id.desc())
            .limit(1)
        ).scalars()
        counts = next(iter(runs), None) or {}
    through = counts.get("through")
    return datetime.fromisoformat(through) if through else None


def nightly(engine: Engine, as_of: date, progress, now: datetime, parallel=None) -> dict:
    """The night's check: the loans touched since the last check (or the night before, if
    none ran) and the night's thirtieth of the book; records how far it checked."""
    last = checked_through(engine)
    since = last - OVERLAP if last else night_before(as_of)
    counts = verify(engine, as_of, progress, now, parallel, since)
    return counts | {"through": now.isoformat()}


def during_the_day(engine: Engine, as_of: date, now: datetime, parallel=None) -> dict:
    """Replay, through today, the loans touched by an input since the last check: run by the
    scheduler every few minutes, so that a stored state that is not its replay is reported
    within minutes, and the night is left the loans touched since and its rotation."""
    last = checked_through(engine)
    since = last - OVERLAP if last else night_before(as_of)
    counts = run_check(engine, Scope(as_of, since, now, rotation=False), now, parallel)
    return counts | {"through": now.isoformat()}


def wanted(scope: Scope, lo: int | None = None, hi: int | None = None):
    """The loans a scope checks (of a key range, if given): active or settled, and touched or
    in tonight's thirtieth of the book."""
    recent = touched(scope.since, scope.until)
    if lo is not None:
        recent = recent.where(LoanTransaction.loan_id.between(lo, hi))
    due = Loan.id.in_(recent)
    if scope.rotation:
        due = or_(due, Loan.id % SLICES == scope.as_of.toordinal() % SLICES)
    return Loan.status.in_([LoanStatus.ACTIVE, *SETTLED]) & due


def verify_range(session: Session, lo: int, hi: int, scope: Scope, now: datetime, rules) -> dict:
    """Check the wanted loans of a key range; audit each that differs; the counts."""
    # Core rows (read-only, attribute access like the ORM's) cost a fraction of ORM objects.
    loans = session.execute(
        select(Loan.__table__).where(Loan.id.between(lo, hi), wanted(scope, lo, hi))
    ).all()
    as_of = scope.as_of
    found = [
        audit.event_row(
            action="replay.mismatch",
            object_type="loans",
            object_id=loan.id,
            detail={"as_of": as_of.isoformat(), "differences": differences[:20]},
            at=now,
        )
        for loan, differences in check(session, loans, as_of, rules)
        if differences
    ]
    audit.record_many(session, found)  # one statement for the batch
    return {"loans": len(loans), "mismatches": len(found)}


def check(session: Session, loans, as_of: date, rules: dict | None = None):
    """Yield (loan, differences) for each loan (ORM objects or Core rows): what its rows say
    that its replay does not. `rules`: every product version's, when the caller has read them."""
    ids = [loan.id for loan in loans]
    if not ids:
        return
    instalments, transactions = defaultdict(list), defaultdict(list)
    # .all(): the rows in one fetch, not one cursor call per row (a batch has ~12,000)
    for row in session.execute(
        select(_INSTALMENTS).where(_INSTALMENTS.c.loan_id.in_(ids)).order_by(_INSTALMENTS.c.n)
    ).all():
        instalments[row.loan_id].append(row)
    for row in session.execute(
        select(*_TXN_COLUMNS).where(_TXNS.c.loan_id.in_(ids)).order_by(_TXNS.c.id)
    ).all():
        transactions[row.loan_id].append(row)
    for loan in loans:
        rows = tuple(instalments[loan.id])
        known = rules.get((loan.product_id, loan.product_version)) if rules else None
        terms = servicing_terms(session, loan, rows, known)
        yield loan, differences(Loaded(loan, rows, tuple(transactions[loan.id]), terms), as_of)


_INSTALMENTS = Instalment.__table__
_TXNS = LoanTransaction.__table__
_TXN_COLUMNS = [
    _TXNS.c[name]
    for name in ("id", "loan_id", "kind", "value_date", "amount", "instalment_n", "reverses_id")
]


def differences(loaded: Loaded, as_of: date) -> list[str]:
    """What the stored rows of a loan say that the replay through `as_of` does not."""
    loan = loaded.loan
    result = replay_loaded(loaded, max(as_of, loan.disbursed_on))
    found = []
    for row, want in zip(loaded.instalments, projection(loan, result.state), strict=True):
        found += [
            f"instalment {row.n} {name}: stored {getattr(row, name)}, replay {value}"
            for name, value in want.items()
            if getattr(row, name) != value
        ]
    if loan.credit_balance != result.credit_balance:
        found.append(
            f"credit_balance: stored {loan.credit_balance}, replay {result.credit_balance}"
        )
    settled = result.settled_on is not None
    if settled != (loan.status in SETTLED):
        found.append(f"status: stored {loan.status}, replay settled on {result.settled_on}")
    if loan.status == LoanStatus.ACTIVE and loan.days_past_due != result.days_past_due:
        found.append(f"days_past_due: stored {loan.days_past_due}, replay {result.days_past_due}")
    return found
