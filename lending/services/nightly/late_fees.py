"""Late fees: the night replays each loan with an instalment newly past its grace days.

The rule lives in one place, `lending.finance.replay`: an instalment still in arrears at the
end of its grace days is charged once, on the day after them. The night only finds the loans
where that can happen (SQL over the instalments' own key ranges: in arrears, not charged,
due before the date less the product version's grace) and replays each through the date;
the replay appends the charges (and takes back any a backdated payment made undue).
"""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from lending.models import Instalment, Loan
from lending.models.enums import LoanStatus, TxnKind
from lending.models.products import ProductVersion
from lending.services.loan_book import lock_loan
from lending.services.nightly.batches import id_ranges
from lending.services.nightly.sqlx import in_arrears
from lending.services.replay import Cause, load, replay_loaded, store

LOANS_PER_TRANSACTION = 500


def charge(engine: Engine, as_of: date, progress=None, now: datetime | None = None) -> dict:
    """Charge every late fee due by `as_of` that is not charged yet."""
    now = now or datetime.now(UTC)  # the job's clock: only the runner calls without one
    counts = {"loans": 0, "fees": 0, "charity": 0, "reversed": 0}
    with Session(engine) as session:
        graces = sorted(
            set(
                session.execute(
                    select(ProductVersion.grace_days).where(
                        or_(ProductVersion.late_fee_fixed > 0, ProductVersion.late_fee_pct > 0)
                    )
                ).scalars()
            )
        )
    if not graces:
        return counts
    active = Loan.status == LoanStatus.ACTIVE
    for lo, hi in id_ranges(engine, active, batch=50_000):
        with Session(engine) as session:
            loan_ids = candidates(session, as_of, lo, hi, graces)
        for start in range(0, len(loan_ids), LOANS_PER_TRANSACTION):
            with Session(engine) as session, session.begin():
                for loan_id in loan_ids[start : start + LOANS_PER_TRANSACTION]:
                    _replay_one(session, loan_id, as_of, now, counts)
        if progress:
            progress(hi)
    return counts


def candidates(session: Session, as_of: date, lo: int, hi: int, graces: list[int]) -> list[int]:
    """Loans of a key range with an uncharged instalment in arrears past its grace days."""
    past_grace = or_(
        *(
            and_(
                ProductVersion.grace_days == grace,
                Instalment.due_date < as_of - timedelta(days=grace),
            )
            for grace in graces
        )
    )
    query = (
        select(Instalment.loan_id)
        .join(Loan, Loan.id == Instalment.loan_id)
        .join(
            ProductVersion,
            (ProductVersion.product_id == Loan.product_id)
            & (ProductVersion.version == Loan.product_version),
        )
        .where(
            # Bounded on the instalments' own key, so each range reads only its rows.
            Instalment.loan_id >= lo,
            Instalment.loan_id <= hi,
            Loan.status == LoanStatus.ACTIVE,
            Instalment.late_fee == 0,
            in_arrears(),
            past_grace,
            or_(ProductVersion.late_fee_fixed > 0, ProductVersion.late_fee_pct > 0),
        )
        .distinct()
        .order_by(Instalment.loan_id)
    )
    return list(session.execute(query).scalars())


def _replay_one(session: Session, loan_id: int, as_of: date, now: datetime, counts) -> None:
    loan = lock_loan(session, loan_id)
    if loan.status != LoanStatus.ACTIVE:
        return
    loaded = load(session, loan)
    written = store(session, loaded, replay_loaded(loaded, as_of), Cause((), None, now, as_of))
    charged = sum(1 for t in written if t.kind is TxnKind.LATE_FEE)
    counts["loans"] += 1
    counts["fees"] += charged
    counts["charity"] += charged if loan.islamic else 0
    counts["reversed"] += len(written) - charged
