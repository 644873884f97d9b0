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
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import or_, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from lending.finance.replay import INPUTS
from lending.models import Instalment, Loan, LoanTransaction
from lending.models.enums import LoanStatus, TxnKind
from lending.services import audit
from lending.services.nightly.batches import id_ranges
from lending.services.replay import Loaded, projection, replay_loaded, servicing_terms

BATCH = 1_000
SLICES = 30  # a thirtieth of the book every night: each loan at least once a month
SETTLED = (LoanStatus.SETTLED, LoanStatus.CLOSED)
INPUT_KINDS = [str(k) for k in INPUTS if k is not TxnKind.DISBURSEMENT]


def verify(engine: Engine, as_of: date, progress=None, now: datetime | None = None) -> dict:
    """Replay the loans to check tonight and count those whose stored state differs."""
    now = now or datetime.now(UTC)  # the job's clock: only callers without one get the machine's
    counts = {"loans": 0, "mismatches": 0}
    since = datetime.combine(as_of - timedelta(days=1), time(), tzinfo=UTC)
    # Touched: a payment, reversal, waiver or refund recorded (the night's own fee charges
    # follow the replay's rule set-based, and the rotating slice checks them too).
    touched = select(LoanTransaction.loan_id).where(
        LoanTransaction.created_at >= since, LoanTransaction.kind.in_(INPUT_KINDS)
    )
    due = or_(Loan.id.in_(touched), Loan.id % SLICES == as_of.toordinal() % SLICES)
    wanted = (Loan.status.in_([LoanStatus.ACTIVE, *SETTLED])) & due
    for lo, hi in id_ranges(engine, wanted, batch=BATCH):
        with Session(engine) as session, session.begin():
            loans = (
                session.execute(select(Loan).where(Loan.id >= lo, Loan.id <= hi, wanted))
                .scalars()
                .all()
            )
            found = []
            for loan, differences in check(session, loans, as_of):
                counts["loans"] += 1
                if differences:
                    found.append(
                        audit.event_row(
                            action="replay.mismatch",
                            object_type="loans",
                            object_id=loan.id,
                            detail={"as_of": as_of.isoformat(), "differences": differences[:20]},
                            at=now,
                        )
                    )
            counts["mismatches"] += len(found)
            audit.record_many(session, found)  # one statement for the batch
        if progress:
            progress(hi)
    return counts


def check(session: Session, loans, as_of: date):
    """Yield (loan, differences) for each loan: what its rows say that its replay does not."""
    ids = [loan.id for loan in loans]
    if not ids:
        return
    instalments, transactions = defaultdict(list), defaultdict(list)
    for row in session.execute(
        select(Instalment).where(Instalment.loan_id.in_(ids)).order_by(Instalment.n)
    ).scalars():
        instalments[row.loan_id].append(row)
    for row in session.execute(
        select(LoanTransaction).where(LoanTransaction.loan_id.in_(ids)).order_by(LoanTransaction.id)
    ).scalars():
        transactions[row.loan_id].append(row)
    for loan in loans:
        rows = tuple(instalments[loan.id])
        loaded = Loaded(
            loan, rows, tuple(transactions[loan.id]), servicing_terms(session, loan, rows)
        )
        yield loan, differences(loaded, as_of)


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
