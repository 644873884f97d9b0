"""Booking a loan from an accepted offer (underwriters decide referrals in applications.py)."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from lending.errors import Conflict, OfferExpired
from lending.finance.money import quantize
from lending.finance.schedule import build_schedule
from lending.models import (
    Application,
    Fee,
    Instalment,
    Loan,
    LoanIncentive,
    LoanTransaction,
    ProductVersion,
)
from lending.models.enums import ApplicationStatus, FeeKind, TxnKind
from lending.schemas.offers import offer_document
from lending.services import audit, incentives, ledger
from lending.services.application_rows import lock_application
from lending.services.catalogue import loan_terms
from lending.services.lifecycle import record_disbursement
from lending.services.products import terms_for_application


def accept_offer(
    *, session: Session, application_id: int, user_id: int | None, now: datetime, timezone: str
) -> Loan:
    """Book the loan of an approved, unexpired offer with its instalments and fee, at once."""
    application = lock_application(session, application_id)
    if application.status == ApplicationStatus.ACCEPTED:
        raise Conflict("This offer has already been accepted.")
    if application.status != ApplicationStatus.APPROVED:
        raise Conflict(f"Only an approved offer can be accepted; this one is {application.status}.")
    if application.offer_expires_at is None or application.offer_expires_at <= now:
        raise OfferExpired()
    product = terms_for_application(session, application)  # the version the offer was made under
    loan, upfront = _book(session, application, product, now, timezone)
    # The shop is paid in the same transaction, and the ledger says so.
    disbursement = record_disbursement(session, loan=loan, now=now)
    subsidy = sum(
        (Decimal(t["subsidy"]) for t in loan.incentive_tags if t.get("kind") == "programme"),
        ZERO,
    )
    ledger.post_booking(
        session, loan, disbursement.amount, upfront, loan.disbursed_on, now, user_id, subsidy
    )
    application.status = ApplicationStatus.ACCEPTED
    audit.record(
        session,
        action="loan.booked",
        actor_id=user_id,
        obj=loan,
        at=now,
        after={"application_id": application.id, "principal": str(loan.principal)},
    )
    try:
        session.flush()
    except IntegrityError:  # the unique application_id: another request booked it first
        raise Conflict("This offer has already been accepted.") from None
    return loan


ZERO = Decimal("0")


def tolerance(product: ProductVersion, total: Decimal) -> Decimal:
    """How short an instalment of `total` may be without being overdue: the larger of the
    product's amount and its percent of the instalment."""
    share = quantize(total * product.arrears_tolerance_pct / 100)
    return max(product.arrears_tolerance_amount, share)


def _book(
    session, application: Application, product: ProductVersion, now, timezone
) -> tuple[Loan, Decimal]:
    """The loan, its disbursement transaction, instalments and fee; and the part of the fee
    paid up front."""
    disbursed_on = now.astimezone(ZoneInfo(timezone)).date()
    principal = application.device_price - application.down_payment
    rate = incentives.benefits_of(application.incentive_tags or []).rate(product.annual_rate)
    schedule = build_schedule(
        loan_terms(
            product,
            principal=principal,
            tenor=application.tenor,
            start=disbursed_on,
            annual_rate=rate,
        )
    )
    # Re-dated from the booking day; a regular first period keeps the disclosed amounts.
    application.offer = offer_document(schedule)
    rows = schedule.instalments
    loan = Loan(
        application_id=application.id,
        applicant_id=application.applicant_id,
        retailer_id=application.retailer_id,
        product_id=application.product_id,
        product_version=application.product_version,
        imei=application.imei,
        method=product.method,
        frequency=product.frequency,
        day_count=product.day_count,
        islamic=product.islamic,
        annual_rate=rate,
        device_price=application.device_price,
        down_payment=application.down_payment,
        principal=schedule.financed_amount,
        instalment_amount=schedule.instalment_amount,
        instalments_count=len(rows),
        apr=schedule.apr,
        total_payable=schedule.total_payable,
        disbursed_on=disbursed_on,
        first_due_on=rows[0].due_date,
        maturity_on=rows[-1].due_date,
        cooling_off_until=now + timedelta(hours=product.cooling_off_hours),
        incentive_tags=list(application.incentive_tags or []),
        arrears_tolerance_amount=product.arrears_tolerance_amount,
        arrears_tolerance_pct=product.arrears_tolerance_pct,
        prepayment=product.prepayment,
        settlement_rebate_pct=product.settlement_rebate_pct,
        created_at=now,
    )
    session.add(loan)
    session.flush()
    session.add(
        LoanTransaction(
            loan_id=loan.id,
            kind=TxnKind.DISBURSEMENT,
            value_date=disbursed_on,
            amount=loan.principal,
            created_at=now,
        )
    )
    # One multi-row INSERT whatever the tenor (the ORM would send one per row on SQLite,
    # where it needs each new id back).
    session.connection().execute(
        Instalment.__table__.insert(),
        [
            {
                "loan_id": loan.id,
                "n": r.n,
                "due_date": r.due_date,
                "principal": r.principal,
                "profit": r.profit,
                "fee": r.fee,
                "total": r.total,
                "balance_after": r.balance_after,
                "paid_principal": ZERO,
                "paid_profit": ZERO,
                "paid_fee": ZERO,
                "paid_on": None,
                "tolerance": tolerance(product, r.total),
            }
            for r in rows
        ],
    )
    _tag_loan(session, loan, application.incentive_tags or [])
    if schedule.total_fees > Decimal("0"):
        session.add(
            Fee(
                loan_id=loan.id,
                kind=FeeKind.PROCESSING,
                amount=schedule.total_fees,
                paid_amount=schedule.upfront_fee,
                assessed_on=disbursed_on,
            )
        )
    return loan, schedule.upfront_fee


def _tag_loan(session: Session, loan: Loan, tags: list[dict]) -> None:
    # The application's snapshot, not the programme's current terms: history never moves.
    for tag in tags:
        if tag.get("kind") == "programme":
            session.add(
                LoanIncentive(
                    loan_id=loan.id,
                    programme_id=tag["programme_id"],
                    programme_code=tag["code"],
                    programme_version=tag["version"],
                    manufacturer_id=tag.get("manufacturer_id"),
                    markup_discount_bp=tag["markup_discount_bp"],
                    subsidy=Decimal(tag["subsidy"]),
                )
            )
