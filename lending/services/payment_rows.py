"""What a payment writes: allocation rows and the paid columns of instalments and late fees."""

from sqlalchemy import insert
from sqlmodel import Session, select

from lending.finance.allocation import Allocation
from lending.models import Fee, Instalment, Payment, PaymentAllocation
from lending.models.enums import FeeKind
from lending.services.loan_book import LoanBook

PARTS = ("principal", "profit", "fee")


def write_allocation(
    session: Session, book: LoanBook, payment: Payment, allocation: Allocation
) -> None:
    """Add the allocation to the instalments' paid columns and record one row per instalment."""
    by_n = {item.n: item for item in book.instalments}
    rows = []
    for line in allocation.lines:
        item = by_n[line.instalment]
        fee = book.late_fees.get(item.id)
        for part in PARTS:
            setattr(item, f"paid_{part}", getattr(item, f"paid_{part}") + getattr(line, part))
        if fee is not None:
            fee.paid_amount += line.late_fee
        if _fully_paid(item, fee):
            item.paid_on = allocation.on
        rows.append(
            {
                "payment_id": payment.id,
                "instalment_id": item.id,
                "late_fee": line.late_fee,
                "fee": line.fee,
                "profit": line.profit,
                "principal": line.principal,
            }
        )
    if rows:  # one executemany, not an INSERT ... RETURNING per instalment (SQLite)
        session.execute(insert(PaymentAllocation), rows)


def _fully_paid(item: Instalment, late_fee: Fee | None) -> bool:
    parts_paid = all(getattr(item, f"paid_{p}") >= getattr(item, p) for p in PARTS)
    return parts_paid and (late_fee is None or late_fee.paid_amount >= late_fee.amount)


def undo_allocation(session: Session, book: LoanBook, payment: Payment) -> None:
    """Take a payment's allocation rows back off the paid columns, to the paisa."""
    rows = session.exec(
        select(PaymentAllocation).where(PaymentAllocation.payment_id == payment.id)
    ).all()
    by_id = {item.id: item for item in book.instalments}
    late = _late_fees(session, list(by_id))
    for row in rows:
        item, fee = by_id[row.instalment_id], late.get(row.instalment_id)
        for part in PARTS:
            setattr(item, f"paid_{part}", getattr(item, f"paid_{part}") - getattr(row, part))
        if fee is not None:
            fee.paid_amount -= row.late_fee
        if not _fully_paid(item, fee):
            item.paid_on = None


def _late_fees(session: Session, instalment_ids: list[int]) -> dict[int, Fee]:
    fees = session.exec(
        select(Fee).where(Fee.instalment_id.in_(instalment_ids), Fee.kind == FeeKind.LATE)
    ).all()
    return {fee.instalment_id: fee for fee in fees}
