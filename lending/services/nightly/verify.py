"""The replay check: a loan's stored state must equal the replay of its transactions.

Every night it replays, from scratch, each active or recently closed loan that a payment,
reversal, waiver or refund touched since the night before, and a thirtieth of the rest of the
book by id (so every loan is checked at least once a month), reading them in batches (three
queries per batch), and compares what the instalments and the loan say with the replay through
the date: paid parts, late fees and waivers, paid dates (and, for a loan that reduces principal
on a prepayment, the re-amortised principal, profit, fee, total, balance after and tolerance),
credit balance, days past due, status. It writes nothing but an audit event per loan that
differs, and reports the count: a difference is a bug to investigate, not something to paper
over.
"""

from collections import defaultdict
from datetime import UTC, date, datetime
from typing import NamedTuple

from sqlalchemy import or_, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from lending.models import Instalment, Loan, LoanTransaction
from lending.models.enums import LoanStatus
from lending.services import audit
from lending.services.nightly.batches import KeyRange, run_parallel
from lending.services.nightly.sqlx import touched
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


def verify(
    engine: Engine,
    as_of: date,
    progress=None,
    now: datetime | None = None,
    parallel: Parallel | None = None,
) -> dict:
    """Replay the loans to check tonight and count those whose stored state differs; in
    `parallel.workers` processes on PostgreSQL when given more than one."""
    now = now or datetime.now(UTC)  # the job's clock: only callers without one get the machine's
    with Session(engine) as session:
        rules = all_rules(session)
        ids = session.execute(select(Loan.id).where(wanted(as_of)).order_by(Loan.id)).scalars()
        ids = ids.all()
        chunks = (ids[k : k + BATCH] for k in range(0, len(ids), BATCH))
        ranges = [KeyRange(chunk[0], chunk[-1], len(chunk)) for chunk in chunks]
    if parallel and parallel.workers > 1 and engine.dialect.name == "postgresql":
        counts = run_parallel(
            engine, "verify", as_of, ranges, verify_range, as_of, now, rules, **parallel._asdict()
        )
        return {"loans": counts.get("loans", 0), "mismatches": counts.get("mismatches", 0)}
    counts = {"loans": 0, "mismatches": 0}
    for batch in ranges:
        with Session(engine) as session, session.begin():
            done = verify_range(session, batch.lo, batch.hi, as_of, now, rules)
        counts = {key: counts[key] + done[key] for key in counts}
        if progress:
            progress(batch.hi)
    return counts


def wanted(as_of: date, lo: int | None = None, hi: int | None = None):
    """The loans to check for `as_of` (of a key range, if given): active or settled, and
    touched by an input since the night before or in tonight's thirtieth of the book."""
    # Touched: by an input since the night before (the night's own fee charges follow the
    # replay's rule set-based, and the rotating slice checks them too).
    recent = touched(as_of)
    if lo is not None:
        recent = recent.where(LoanTransaction.loan_id.between(lo, hi))
    due = or_(Loan.id.in_(recent), Loan.id % SLICES == as_of.toordinal() % SLICES)
    return Loan.status.in_([LoanStatus.ACTIVE, *SETTLED]) & due


def verify_range(session: Session, lo: int, hi: int, as_of: date, now: datetime, rules) -> dict:
    """Check the wanted loans of a key range; audit each that differs; the counts."""
    # Core rows (read-only, attribute access like the ORM's) cost a fraction of ORM objects.
    loans = session.execute(
        select(Loan.__table__).where(Loan.id.between(lo, hi), wanted(as_of, lo, hi))
    ).all()
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
    for row in session.execute(
        select(_INSTALMENTS).where(_INSTALMENTS.c.loan_id.in_(ids)).order_by(_INSTALMENTS.c.n)
    ):
        instalments[row.loan_id].append(row)
    for row in session.execute(
        select(*_TXN_COLUMNS).where(_TXNS.c.loan_id.in_(ids)).order_by(_TXNS.c.id)
    ):
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
