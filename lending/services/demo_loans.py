"""Sample applications and loans for the demo shop, made through the real services."""

from datetime import UTC, datetime
from decimal import Decimal

from sqlmodel import Session, func, select
from stdnum import luhn

from lending.models import Application, Retailer, User
from lending.models.enums import ApplicationStatus
from lending.services.applications import (
    DecisionContext,
    Origin,
    submit_application,
)
from lending.services.booking import accept_offer

# (CNIC, name, born, mobile, income, work, IMEI less its check digit, price, down, tenor, product)
SAMPLES = [
    (
        "3520112345671",
        "Usman Tariq",
        "1993-02-11",
        "+923214567890",
        "180000",
        "freelancer",
        "35332716000001",
        "54999",
        "16500",
        6,
        "QIST-STD",
    ),
    (
        "4220198765432",
        "Sana Iqbal",
        "1988-09-30",
        "+923335551234",
        "95000",
        "salaried",
        "86711205000001",
        "32999",
        "9900",
        12,
        "MURABAHA-12",
    ),
    (
        "6110187654329",
        "Kamran Ali",
        "1996-12-02",
        "+923451112233",
        "60000",
        "daily_wage",
        "99999999000001",
        "36999",
        "11100",
        26,
        "QIST-WEEKLY",
    ),
    (  # the demo borrower (borrower@demo.pk): her loan is in the portal
        "4210112345671",
        "Ayesha Khan",
        "1994-05-17",
        "+923001234567",
        "150000",
        "salaried",
        "35332716000002",
        "54999",
        "16500",
        6,
        "QIST-STD",
    ),
    (
        "3740555566661",
        "Hina Shah",
        "1999-04-21",
        "+923009998877",
        "30000",
        "self_employed",
        "35846711000001",
        "79999",
        "24000",
        12,
        "QIST-STD",
    ),
]


def seed_sample_loans(session: Session, shop: Retailer, agent: User, context: DecisionContext):
    """Submit the sample applications once; book the approved ones."""
    existing = session.exec(
        select(func.count()).select_from(Application).where(Application.retailer_id == shop.id)
    ).one()
    if existing:
        return 0
    booked = 0
    for sample in SAMPLES:
        application = submit_application(
            session=session,
            data=_document(sample),
            context=context,
            origin=Origin(retailer_id=shop.id, user_id=agent.id),
        )
        if application.status == ApplicationStatus.APPROVED:
            accept_offer(
                session=session,
                application_id=application.id,
                user_id=agent.id,
                now=context.now,
                timezone=context.timezone,
            )
            booked += 1
    return booked


def _document(sample) -> dict:
    cnic, name, born, mobile, income, work, imei, price, down, tenor, product = sample
    return {
        "applicant": {
            "cnic": cnic,
            "full_name": name,
            "date_of_birth": datetime.strptime(born, "%Y-%m-%d").date(),
            "mobile": mobile,
            "monthly_income": Decimal(income),
            "monthly_obligations": Decimal("0"),
            "employment_type": work,
            "language": "en",
        },
        "device": {"imei": imei + luhn.calc_check_digit(imei), "price": Decimal(price)},
        "down_payment": Decimal(down),
        "tenor": tenor,
        "product_code": product,
    }


def demo_context(settings, *, now: datetime | None = None) -> DecisionContext:
    """A decision context for seeding at `now`, the command's clock: the default scorecard,
    no bureau. Without `now` (callers not passing their clock yet) it is the current time."""
    from lending.scoring.scorecard import Scorecard, Thresholds

    return DecisionContext(
        scorecard=Scorecard.default(),
        thresholds=Thresholds(approve=settings.score_approve, refer=settings.score_refer),
        bureau_url="",
        bureau_timeout=1.0,
        timezone=settings.timezone,
        now=now or datetime.now(UTC),
    )
