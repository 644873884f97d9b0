"""The monthly incentive claims report: per programme and manufacturer, with IMEI evidence."""

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func
from sqlmodel import Session, select

from lending.errors import Conflict, InvalidInput
from lending.models import IncentiveProgramme, Loan, LoanIncentive, Manufacturer, SubsidyReceipt
from lending.models.enums import LoanStatus


@dataclass
class ClaimLine:
    """One programme and manufacturer: the loans booked in the month and the subsidy due."""

    programme_code: str
    programme_name: str
    sponsor: str
    manufacturer: str
    loans: int = 0
    financed_amount: Decimal = Decimal("0.00")
    subsidy: Decimal = Decimal("0.00")
    imeis: list[str] = field(default_factory=list)


def month_bounds(month: str) -> tuple[date, date]:
    """The first day of a YYYY-MM month and of the next one."""
    year, number = (int(part) for part in month.split("-"))
    start = date(year, number, 1)
    return start, date(year + number // 12, number % 12 + 1, 1)


def claims_report(session: Session, month: str) -> list[ClaimLine]:
    """Tagged loans disbursed in the month, less those cancelled in their cooling-off period."""
    start, end = month_bounds(month)
    rows = session.exec(
        select(
            LoanIncentive,
            Loan.imei,
            Loan.principal,
            Manufacturer.name,
            IncentiveProgramme.name,
            IncentiveProgramme.sponsor,
        )
        .join(Loan, Loan.id == LoanIncentive.loan_id)
        .join(IncentiveProgramme, IncentiveProgramme.id == LoanIncentive.programme_id)
        .outerjoin(Manufacturer, Manufacturer.id == LoanIncentive.manufacturer_id)
        .where(
            Loan.disbursed_on >= start, Loan.disbursed_on < end, Loan.status != LoanStatus.CANCELLED
        )
        .order_by(LoanIncentive.programme_code, Manufacturer.name, Loan.id)
    ).all()
    lines: dict[tuple[str, str], ClaimLine] = {}
    for tag, imei, principal, maker, name, sponsor in rows:
        key = (tag.programme_code, maker or "unknown")
        line = lines.setdefault(key, ClaimLine(tag.programme_code, name, sponsor, key[1]))
        line.loans += 1
        line.financed_amount += principal
        line.subsidy += tag.subsidy
        line.imeis.append(imei)
    return list(lines.values())


def totals(lines: list[ClaimLine]) -> dict:
    """The report's totals, for the footer and for checking against the loans."""
    return {
        "loans": sum(x.loans for x in lines),
        "financed_amount": sum((x.financed_amount for x in lines), Decimal("0.00")),
        "subsidy": sum((x.subsidy for x in lines), Decimal("0.00")),
    }


def reconciled(session: Session, month: str, lines: list[ClaimLine]) -> dict:
    """The month's claim against the ledger's subsidy receivable for the same loans (booked
    in the month, cancellations taken back): equal unless a posting went wrong; and what the
    sponsors have paid of it."""
    from lending.services import ledger

    start, end = month_bounds(month)
    claimed = totals(lines)["subsidy"]
    booked = ledger.subsidy_accrued(session, start, end)
    paid = sum(received(session, month).values(), Decimal("0.00"))
    return {
        "claimed": claimed,
        "ledger": booked,
        "difference": claimed - booked,
        "received": paid,
        "outstanding": claimed - paid,
    }


def received(session: Session, month: str) -> dict[str, Decimal]:
    """What each programme's sponsor has paid of a month's claim."""
    rows = session.exec(
        select(SubsidyReceipt.programme_code, func.sum(SubsidyReceipt.amount))
        .where(SubsidyReceipt.month == month)
        .group_by(SubsidyReceipt.programme_code)
    ).all()
    return {code: amount for code, amount in rows}


def record_receipt(
    session: Session,
    *,
    month: str,
    programme_code: str,
    amount: Decimal,
    reference: str,
    received_on: date,
    user_id: int | None,
    now: datetime,
    timezone: str = "Asia/Karachi",
) -> SubsidyReceipt:
    """Record a sponsor's payment of a month's claim for one programme: never more than is
    outstanding of it; the bank against the subsidy receivable."""
    from lending.services import audit, ledger
    from lending.services.loan_book import business_day

    today = business_day(now, timezone)
    if received_on > today:
        raise InvalidInput({"received_on": ["A payment cannot be received in the future."]})
    claimed = sum(
        (x.subsidy for x in claims_report(session, month) if x.programme_code == programme_code),
        Decimal("0.00"),
    )
    outstanding = claimed - received(session, month).get(programme_code, Decimal("0.00"))
    if amount > outstanding:
        raise InvalidInput(
            {
                "amount": [
                    f"{programme_code}'s claim for {month} has Rs {outstanding:,} outstanding."
                ]
            }
        )
    if session.exec(
        select(SubsidyReceipt.id).where(
            SubsidyReceipt.programme_code == programme_code, SubsidyReceipt.reference == reference
        )
    ).first():
        raise Conflict(f"A payment with reference {reference} is already recorded.")
    receipt = SubsidyReceipt(
        programme_code=programme_code,
        month=month,
        amount=amount,
        reference=reference,
        received_on=received_on,
        recorded_by_id=user_id,
        created_at=now,
    )
    session.add(receipt)
    session.flush()
    ledger.post(
        session,
        ledger.Posting(
            "subsidy_received",
            today,
            received_on,
            now,
            memo=f"{programme_code} claim for {month} paid ({reference})",
            actor_id=user_id,
        ),
        [(ledger.BANK, amount), (ledger.SUBSIDY_RECEIVABLE, -amount)],
    )
    audit.record(
        session,
        action="claim.paid",
        actor_id=user_id,
        obj=receipt,
        at=now,
        after={"programme": programme_code, "month": month, "amount": str(amount)},
    )
    return receipt


def to_csv(month: str, lines: list[ClaimLine]) -> str:
    """The report as CSV: one row per programme and manufacturer, IMEIs space-separated."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "month",
            "programme",
            "programme_name",
            "sponsor",
            "manufacturer",
            "loans",
            "financed_amount",
            "subsidy",
            "imeis",
        ]
    )
    for x in lines:
        writer.writerow(
            [
                month,
                x.programme_code,
                x.programme_name,
                x.sponsor,
                x.manufacturer,
                x.loans,
                f"{x.financed_amount:.2f}",
                f"{x.subsidy:.2f}",
                " ".join(x.imeis),
            ]
        )
    return out.getvalue()


def programme_usage(session: Session) -> dict[str, int]:
    """Tagged booked loans per programme code (all months), for the programmes page."""
    return dict(
        session.exec(
            select(LoanIncentive.programme_code, func.count()).group_by(
                LoanIncentive.programme_code
            )
        ).all()
    )
