"""Late fees: once per overdue instalment after the product's grace days (charity if Islamic)."""

from datetime import date
from decimal import Decimal

from sqlalchemy import and_, insert, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from lending.finance.late_fees import LateFeeRule, late_fee
from lending.models import Fee, Instalment, Loan
from lending.models.enums import FeeKind, LoanStatus
from lending.models.products import ProductVersion
from lending.models.types import utcnow
from lending.services import audit
from lending.services.nightly.batches import id_ranges
from lending.services.nightly.sqlx import unpaid


def charge(engine: Engine, as_of: date, progress=None) -> dict:
    """Charge every late fee due by `as_of` that is not charged yet."""
    counts = {"fees": 0, "charity": 0}
    overdue = and_(Loan.status == LoanStatus.ACTIVE, Loan.days_past_due > 0)
    for lo, hi in id_ranges(engine, overdue, batch=2000):
        with Session(engine) as session, session.begin():
            for fee in charge_range(session, as_of, lo, hi):
                counts["fees"] += 1
                counts["charity"] += fee.charity
        if progress:
            progress(hi)
    return counts


def charge_range(session: Session, as_of: date, lo: int, hi: int) -> list[Fee]:
    """Late fees for the unpaid, uncharged instalments of a key range of loans."""
    charged = select(Fee.id).where(Fee.instalment_id == Instalment.id, Fee.kind == FeeKind.LATE)
    rows = session.execute(
        select(
            Instalment.id,
            Instalment.loan_id,
            Instalment.due_date,
            Instalment.total,
            Instalment.paid_principal,
            Instalment.paid_profit,
            Instalment.paid_fee,
            Loan.islamic,
            Loan.product_id,
            Loan.product_version,
        )
        .join(Loan, Loan.id == Instalment.loan_id)
        .where(
            Loan.id >= lo,
            Loan.id <= hi,
            Loan.status == LoanStatus.ACTIVE,
            Instalment.due_date < as_of,
            unpaid(),
            ~charged.exists(),
        )
        .order_by(Instalment.loan_id, Instalment.n)
    ).all()
    # The rule of the product version each loan was booked under: later edits never reach it.
    rules = {
        (v.product_id, v.version): rule_of(v)
        for v in session.execute(select(ProductVersion)).scalars()
    }
    fees = [
        fee
        for row in rows
        if (fee := _fee(row, rules[(row.product_id, row.product_version)], as_of))
    ]
    if fees:
        session.execute(insert(Fee), [_row(fee) for fee in fees])
        audit.record_many(
            session,
            [
                audit.event_row(
                    action="fee.charged",
                    object_type="loans",
                    object_id=fee.loan_id,
                    after={
                        "instalment_id": fee.instalment_id,
                        "amount": str(fee.amount),
                        "charity": fee.charity,
                    },
                )
                for fee in fees
            ],
        )
    return fees


def _row(fee: Fee) -> dict:
    return {
        "loan_id": fee.loan_id,
        "instalment_id": fee.instalment_id,
        "kind": fee.kind,
        "amount": fee.amount,
        "paid_amount": Decimal("0"),
        "charity": fee.charity,
        "assessed_on": fee.assessed_on,
        "created_at": utcnow(),
    }


def rule_of(product: ProductVersion) -> LateFeeRule:
    """The product's late-fee rule."""
    return LateFeeRule(
        fixed=product.late_fee_fixed,
        percent=product.late_fee_pct,
        cap=product.late_fee_cap,
        grace_days=product.grace_days,
    )


def _fee(row, rule: LateFeeRule, as_of: date) -> Fee | None:
    overdue = row.total - row.paid_principal - row.paid_profit - row.paid_fee
    charge = late_fee(rule, overdue, row.due_date, as_of, row.islamic)
    if charge.amount <= 0:
        return None
    return Fee(
        loan_id=row.loan_id,
        instalment_id=row.id,
        kind=FeeKind.LATE,
        amount=charge.amount,
        charity=charge.charity,
        assessed_on=as_of,
    )
