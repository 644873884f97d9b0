"""Reference data (products, device registry) and demo data; both idempotent."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from importlib import resources

from argon2 import PasswordHasher
from sqlmodel import Session, select

from lending.models import ApiToken, Applicant, IncentiveProgramme, Product, Retailer, User
from lending.models.enums import Role
from lending.security import token_digest
from lending.services.registry import import_devices
from lending.services.users import create_user, issue_token

PRODUCTS = [
    dict(
        code="QIST-STD",
        name="Standard phone instalments",
        method="reducing",
        annual_rate=Decimal("36"),
        tenors=[3, 6, 9, 12],
        processing_fee_pct=Decimal("2"),
        fee_financed=False,
        min_down_payment_pct=Decimal("25"),
        late_fee_fixed=Decimal("500"),
    ),
    dict(
        code="QIST-FLAT",
        name="Flat-markup instalments",
        method="flat",
        annual_rate=Decimal("24"),
        tenors=[3, 6, 12],
        processing_fee_fixed=Decimal("1000"),
        fee_financed=True,
        min_down_payment_pct=Decimal("30"),
        late_fee_pct=Decimal("2"),
        late_fee_cap=Decimal("1500"),
    ),
    dict(
        code="MURABAHA-12",
        name="Murabaha phone financing",
        method="flat",
        islamic=True,
        annual_rate=Decimal("30"),
        tenors=[6, 12],
        min_down_payment_pct=Decimal("20"),
        late_fee_fixed=Decimal("300"),
    ),
    dict(
        code="QIST-WEEKLY",
        name="Weekly instalments for daily earners",
        method="reducing",
        frequency="weekly",
        day_count="actual/365",
        annual_rate=Decimal("40"),
        tenors=[13, 26, 52],
        min_down_payment_pct=Decimal("30"),
        max_price=Decimal("120000"),
        late_fee_fixed=Decimal("100"),
        grace_days=1,
    ),
]


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str
    token: str | None

    def __str__(self) -> str:
        token = f"  token {self.token}" if self.token else ""
        return f"{self.role:<12} {self.email:<26} password {self.password}{token}"


DEMO_SHOP = "Hafeez Mobile Centre, Saddar"
# Demo credentials are public on purpose: seed --demo is refused in production.
DEMO_LOGINS = [
    DemoLogin("admin", "admin@demo.pk", "admin-demo-2026", "lnd_demo_admin_token_0001"),
    DemoLogin(
        "underwriter",
        "underwriter@demo.pk",
        "underwriter-demo-2026",
        "lnd_demo_underwriter_token_0001",
    ),
    DemoLogin("retailer", "agent@demo.pk", "agent-demo-2026", "lnd_demo_retailer_token_0001"),
    DemoLogin("borrower", "borrower@demo.pk", "borrower-demo-2026", None),
]


def seed_reference(session: Session) -> dict[str, int]:
    """Insert the products and the device registry that are missing; return what was added."""
    added = {"products": 0}
    for spec in PRODUCTS:
        if session.exec(select(Product).where(Product.code == spec["code"])).first() is None:
            session.add(Product(**spec))
            added["products"] += 1
    registry = resources.files("lending.data").joinpath("device_registry.csv").read_text()
    added["TACs"] = import_devices(session, registry).tacs_added
    added["programmes"] = _seed_programmes(session)
    session.flush()
    return added


def _seed_programmes(session: Session) -> int:
    if session.exec(select(IncentiveProgramme)).first() is not None:
        return 0
    session.add(
        IncentiveProgramme(
            code="DPL-2026",
            name="Digital Pakistan: locally assembled phones",
            sponsor="Ministry of IT & Telecom (demo)",
            valid_from=date(2026, 1, 1),
            valid_to=date(2027, 6, 30),
            local_only=True,
            max_device_price=Decimal("150000"),
            markup_discount_bp=600,
            min_down_payment_pct=Decimal("15"),
            subsidy_per_loan=Decimal("2000"),
            budget_count=50_000,
        )
    )
    return 1


def seed_demo(session: Session, hasher: PasswordHasher) -> list[DemoLogin]:
    """Create the demo shop, staff, agent and borrower with fixed log-ins and tokens."""
    shop = session.exec(select(Retailer).where(Retailer.name == DEMO_SHOP)).first()
    if shop is None:
        shop = Retailer(
            name=DEMO_SHOP,
            city="Karachi",
            address="Abdullah Haroon Road, Saddar",
            phone="+922135650000",
        )
        session.add(shop)
        session.flush()
    applicant = _demo_applicant(session)
    for login in DEMO_LOGINS:
        user = session.exec(select(User).where(User.email == login.email)).first()
        if user is None:
            user = create_user(
                session,
                email=login.email,
                role=Role(login.role),
                password=login.password,
                retailer=shop if login.role == "retailer" else None,
                hasher=hasher,
                full_name=f"Demo {login.role}",
            )
            if login.role == "borrower":
                user.applicant_id = applicant.id
        if (
            login.token
            and session.exec(
                select(ApiToken).where(ApiToken.token_hash == token_digest(login.token))
            ).first()
            is None
        ):
            issue_token(session, user=user, name="demo", days=None, token=login.token)
    session.flush()
    return DEMO_LOGINS


def _demo_applicant(session: Session) -> Applicant:
    cnic = "4210112345671"
    applicant = session.exec(select(Applicant).where(Applicant.cnic == cnic)).first()
    if applicant is None:
        applicant = Applicant(
            cnic=cnic,
            full_name="Ayesha Khan",
            date_of_birth=date(1994, 5, 17),
            mobile="+923001234567",
            email="borrower@demo.pk",
        )
        session.add(applicant)
        session.flush()
    return applicant


def seed_demo_loans(session: Session, settings) -> int:
    """Sample applications (approved and booked, referred, declined) for the demo shop, once."""
    from lending.services.demo_loans import demo_context, seed_sample_loans

    shop = session.exec(select(Retailer).where(Retailer.name == DEMO_SHOP)).one()
    agent = session.exec(select(User).where(User.email == "agent@demo.pk")).one()
    return seed_sample_loans(session, shop, agent, demo_context(settings))


def seed_shop_agent(session: Session, hasher: PasswordHasher, *, shop: str, email: str) -> str:
    """A shop with one agent; return a new API token of the agent (benchmarks, trials)."""
    retailer = Retailer(name=shop)
    session.add(retailer)
    session.flush()
    agent = create_user(
        session, email=email, role=Role.RETAILER, retailer=retailer, hasher=hasher, password=None
    )
    return issue_token(session, user=agent)
