"""Late fees: charged set-based by the night, by the replay's own rule.

The rule lives in `lending.finance.replay`: an instalment still in arrears (short by more than
its tolerance) at the end of its grace days is charged once, on the day after them (its fee
day), on what is then unpaid. Every transaction a loan receives is stored through a replay up
to its own date or later, which charges every fee day up to then; so a fee day the night still
finds uncharged comes after the loan's latest transaction (`loans.inputs_through`), and on it
the loan stood exactly as its stored instalments stand now. The night therefore charges those
straight from the instalments, in batches, with the same `late_fee` function, without
replaying each loan: an uncharged fee day on or before the latest transaction was already
decided by that transaction's replay (no fee), and is left alone.
"""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import and_, bindparam, insert, or_, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from lending.finance.late_fees import chargeable_from, late_fee
from lending.models import Instalment, Loan, LoanTransaction
from lending.models.enums import LoanStatus, TxnKind
from lending.models.products import ProductVersion
from lending.services import audit
from lending.services.nightly.sqlx import in_arrears, unpaid
from lending.services.replay import rule_of

BATCH = 5_000  # instalments a transaction
_TABLE = Instalment.__table__
_CHARGE = (  # Core, so that a batch of charges is one executemany
    _TABLE.update().where(_TABLE.c.id == bindparam("row_id")).values(late_fee=bindparam("amount"))
)


def charge(engine: Engine, as_of: date, progress=None, now: datetime | None = None) -> dict:
    """Charge every late fee due by `as_of` that is not charged yet."""
    now = now or datetime.now(UTC)  # the job's clock: only the runner calls without one
    counts = {"fees": 0, "charity": 0}
    with Session(engine) as session:
        rules = {
            (v.product_id, v.version): rule_of(v)
            for v in session.execute(
                select(ProductVersion).where(
                    or_(ProductVersion.late_fee_fixed > 0, ProductVersion.late_fee_pct > 0)
                )
            ).scalars()
        }
    if not rules:
        return counts
    graces = sorted({rule.grace_days for rule in rules.values()})
    with Session(engine) as session:  # the uncharged, in arrears, past grace: few on a night
        rows = session.execute(
            _joined(Instalment.id, Instalment.loan_id)
            .where(_candidates(as_of, graces))
            .order_by(Instalment.loan_id, Instalment.id)
        ).all()
    for k in range(0, len(rows), BATCH):
        batch = rows[k : k + BATCH]
        with Session(engine) as session, session.begin():
            fees = charge_range(session, as_of, [r.id for r in batch], rules, graces, now)
        counts["fees"] += len(fees)
        counts["charity"] += sum(1 for f in fees if f["charity"])
        if progress:
            progress(batch[-1].loan_id)
    return counts


def charge_range(session, as_of: date, ids: list[int], rules, graces, now) -> list[dict]:
    """Charge the uncharged fee days up to `as_of` of a batch of instalments; return them."""
    rows = session.execute(
        _joined(*_COLUMNS)
        .where(Instalment.id.in_(ids), _candidates(as_of, graces))
        .order_by(Instalment.loan_id, Instalment.n)
    ).all()
    fees = []
    for row in rows:
        rule = rules.get((row.product_id, row.product_version))
        if rule is None:
            continue
        on = chargeable_from(rule, row.due_date)
        if on > as_of or on <= (row.inputs_through or row.disbursed_on):
            continue  # not yet due, or decided by the replay of a later transaction
        unpaid = row.total - row.paid_principal - row.paid_profit - row.paid_fee
        fee = late_fee(rule, unpaid, row.due_date, on, row.islamic)
        if fee.amount > 0:
            fees.append({"row": row, "on": on, "amount": fee.amount, "charity": fee.charity})
    if fees:
        _write(session, fees, now)
    return fees


_COLUMNS = (
    Instalment.id,
    Instalment.loan_id,
    Instalment.n,
    Instalment.due_date,
    Instalment.total,
    Instalment.paid_principal,
    Instalment.paid_profit,
    Instalment.paid_fee,
    Loan.islamic,
    Loan.product_id,
    Loan.product_version,
    Loan.inputs_through,
    Loan.disbursed_on,
)


def _joined(*columns):
    """Instalments with their loan and the product version it was booked under."""
    return (
        select(*columns)
        .join(Loan, Loan.id == Instalment.loan_id)
        .join(
            ProductVersion,
            (ProductVersion.product_id == Loan.product_id)
            & (ProductVersion.version == Loan.product_version),
        )
    )


def _candidates(as_of: date, graces: list[int]):
    """Instalments of active loans not charged, not paid in full (the partial index
    ix_instalments_uncharged, whose predicate this repeats word for word so that both
    databases use it) and in arrears, due before their fee day, on a product that charges."""
    past_grace = or_(
        *(
            and_(
                ProductVersion.grace_days == grace,
                Instalment.due_date < as_of - timedelta(days=grace),
            )
            for grace in graces
        )
    )
    return and_(
        Loan.status == LoanStatus.ACTIVE,
        Instalment.late_fee == 0,
        unpaid(),
        in_arrears(),
        Instalment.due_date < as_of - timedelta(days=min(graces)),  # the index's range
        past_grace,
        or_(ProductVersion.late_fee_fixed > 0, ProductVersion.late_fee_pct > 0),
    )


def _write(session: Session, fees: list[dict], now: datetime) -> None:
    """The charges as LATE_FEE transactions, on their instalments, and audited: three
    executemany statements for the whole batch."""
    session.execute(
        insert(LoanTransaction),
        [
            {
                "loan_id": f["row"].loan_id,
                "kind": TxnKind.LATE_FEE,
                "value_date": f["on"],
                "amount": f["amount"],
                "instalment_n": f["row"].n,
                "note": "",
                "created_at": now,
            }
            for f in fees
        ],
    )
    session.connection().execute(
        _CHARGE, [{"row_id": f["row"].id, "amount": f["amount"]} for f in fees]
    )
    audit.record_many(
        session,
        [
            audit.event_row(
                action="fee.charged",
                object_type="loans",
                object_id=f["row"].loan_id,
                after={
                    "instalment": f["row"].n,
                    "amount": str(f["amount"]),
                    "charity": f["charity"],
                },
                at=now,
            )
            for f in fees
        ],
    )
