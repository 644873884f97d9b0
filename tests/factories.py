"""factory-boy factories for every table, chained Retailer -> Applicant -> Application -> Loan."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import factory
from factory.alchemy import SQLAlchemyModelFactory
from sqlmodel import select
from stdnum import luhn

from lending import models as m
from lending.models.enums import (
    AccountKind,
    ApplicationStatus,
    ApprovalKind,
    DecisionKind,
    FeeKind,
    JobStatus,
    OutboxChannel,
    PaymentChannel,
    Role,
    TxnKind,
)
from lending.security import token_digest

_hasher = None
PASSWORD = "correct horse battery"


def bind(session, hasher) -> None:
    """Point every factory at the test's session (and the app's password hasher)."""
    global _hasher
    _hasher = hasher
    for factory_class in BaseFactory.__subclasses__():
        factory_class._meta.sqlalchemy_session = session


def imei(serial: int, tac: str = "35332716") -> str:
    """A valid 15-digit IMEI (Luhn check digit) on a TAC."""
    body = f"{tac}{serial % 1_000_000:06d}"
    return body + luhn.calc_check_digit(body)


def cnic(n: int) -> str:
    return f"42101{n % 10_000_000:07d}{n % 10}"


class BaseFactory(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_persistence = "commit"


class RetailerFactory(BaseFactory):
    class Meta:
        model = m.Retailer

    name = factory.Sequence(lambda n: f"Shop {n}")
    city = "Lahore"


class UserFactory(BaseFactory):
    class Meta:
        model = m.User

    email = factory.Sequence(lambda n: f"user{n}@example.pk")
    full_name = factory.Faker("name")
    role = Role.ADMIN
    password_hash = factory.LazyFunction(lambda: _hasher.hash(PASSWORD))

    class Params:
        retailer = factory.Trait(
            role=Role.RETAILER, retailer_id=factory.LazyFunction(lambda: RetailerFactory().id)
        )


class ApiTokenFactory(BaseFactory):
    class Meta:
        model = m.ApiToken
        exclude = ("token",)

    token = factory.Sequence(lambda n: f"lnd_test_token_{n:08d}")
    user_id = factory.LazyFunction(lambda: UserFactory().id)
    token_hash = factory.LazyAttribute(lambda o: token_digest(o.token))
    prefix = factory.LazyAttribute(lambda o: o.token[:12])
    # Far enough for tests that move the clock years on; expiry tests set their own.
    expires_at = factory.LazyFunction(lambda: datetime.now(UTC) + timedelta(days=3650))


class ApplicantFactory(BaseFactory):
    class Meta:
        model = m.Applicant

    cnic = factory.Sequence(cnic)
    full_name = factory.Faker("name")
    date_of_birth = date(1992, 3, 14)
    mobile = factory.Sequence(lambda n: f"+92300{n % 10_000_000:07d}")


class ProductFactory(BaseFactory):
    class Meta:
        model = m.Product

    code = factory.Sequence(lambda n: f"P{n}")
    name = "Test product"
    method = "reducing"
    annual_rate = Decimal("36")
    tenors = [3, 6, 12]


class ProductVersionFactory(BaseFactory):
    class Meta:
        model = m.ProductVersion

    product_id = factory.LazyFunction(lambda: ProductFactory().id)
    version = 2  # a product made by ProductFactory already has the snapshot of version 1
    name = "Test product"
    method = "reducing"
    annual_rate = Decimal("36")
    tenors = [3, 6, 12]


class ManufacturerFactory(BaseFactory):
    class Meta:
        model = m.Manufacturer

    name = factory.Sequence(lambda n: f"Maker {n}")
    assembled_in_pk = True


class DeviceModelFactory(BaseFactory):
    class Meta:
        model = m.DeviceModel

    manufacturer_id = factory.LazyFunction(lambda: ManufacturerFactory().id)
    name = factory.Sequence(lambda n: f"Phone {n}")
    list_price = Decimal("45999.00")


class DeviceTacFactory(BaseFactory):
    class Meta:
        model = m.DeviceTac

    tac = factory.Sequence(lambda n: f"{35000000 + n}")
    device_model_id = factory.LazyFunction(lambda: DeviceModelFactory().id)


class ApplicationFactory(BaseFactory):
    class Meta:
        model = m.Application

    retailer_id = factory.LazyFunction(lambda: RetailerFactory().id)
    applicant_id = factory.LazyFunction(lambda: ApplicantFactory().id)
    product_id = factory.LazyFunction(lambda: ProductFactory().id)
    monthly_income = Decimal("85000.00")
    monthly_obligations = Decimal("5000.00")
    employment_type = "freelancer"
    imei = factory.Sequence(imei)
    device_price = Decimal("54999.00")
    down_payment = Decimal("13750.00")
    tenor = 12
    status = ApplicationStatus.APPROVED


class DecisionFactory(BaseFactory):
    class Meta:
        model = m.Decision

    application_id = factory.LazyFunction(lambda: ApplicationFactory().id)
    kind = DecisionKind.AUTOMATIC
    status = ApplicationStatus.APPROVED
    score = 612


class LoanFactory(BaseFactory):
    class Meta:
        model = m.Loan
        exclude = ("application",)

    application = factory.LazyFunction(lambda: ApplicationFactory())
    application_id = factory.LazyAttribute(lambda o: o.application.id)
    applicant_id = factory.LazyAttribute(lambda o: o.application.applicant_id)
    retailer_id = factory.LazyAttribute(lambda o: o.application.retailer_id)
    product_id = factory.LazyAttribute(lambda o: o.application.product_id)
    imei = factory.LazyAttribute(lambda o: o.application.imei)
    method = "reducing"
    frequency = "monthly"
    day_count = "30/360"
    annual_rate = Decimal("36")
    device_price = Decimal("54999.00")
    down_payment = Decimal("13750.00")
    principal = Decimal("41249.00")
    instalment_amount = Decimal("4145.00")
    instalments_count = 12
    apr = Decimal("42.58")
    total_payable = Decimal("49740.00")
    disbursed_on = date(2026, 1, 5)
    first_due_on = date(2026, 2, 5)
    maturity_on = date(2027, 1, 5)

    @factory.post_generation
    def books(obj, create, extracted, **kwargs):  # noqa: N805 - factory-boy's signature
        """As booking does: the shop's disbursement and the booking's journal entry (unless
        `books=False`: a loan as a test writes it by hand)."""
        if not create or extracted is False:
            return
        from lending.services import ledger

        session = LoanFactory._meta.sqlalchemy_session
        session.add(
            m.Disbursement(loan_id=obj.id, retailer_id=obj.retailer_id, amount=obj.principal)
        )
        now = datetime.combine(obj.disbursed_on, datetime.min.time(), tzinfo=UTC)
        ledger.post_booking(session, obj, obj.principal, Decimal("0"), obj.disbursed_on, now, None)
        session.commit()


class InstalmentFactory(BaseFactory):
    class Meta:
        model = m.Instalment

    loan_id = factory.LazyFunction(lambda: LoanFactory().id)
    n = factory.Sequence(lambda n: n + 1)
    due_date = date(2026, 2, 5)
    principal = Decimal("3000.00")
    profit = Decimal("1145.00")
    total = Decimal("4145.00")
    balance_after = Decimal("38249.00")


class FeeFactory(BaseFactory):
    class Meta:
        model = m.Fee

    loan_id = factory.LazyFunction(lambda: LoanFactory().id)
    kind = FeeKind.PROCESSING
    amount = Decimal("825.00")
    assessed_on = date(2026, 1, 5)


class PaymentFactory(BaseFactory):
    class Meta:
        model = m.Payment

    loan_id = factory.LazyFunction(lambda: LoanFactory().id)
    amount = Decimal("4145.00")
    paid_at = factory.LazyFunction(lambda: datetime(2026, 2, 5, 10, 0, tzinfo=UTC))
    channel = PaymentChannel.JAZZCASH
    reference = factory.Sequence(lambda n: f"JC{n:010d}")


class PaymentAllocationFactory(BaseFactory):
    class Meta:
        model = m.PaymentAllocation

    payment_id = factory.LazyFunction(lambda: PaymentFactory().id)
    instalment_id = factory.LazyFunction(lambda: InstalmentFactory().id)
    profit = Decimal("1145.00")
    principal = Decimal("3000.00")


class LoanTransactionFactory(BaseFactory):
    class Meta:
        model = m.LoanTransaction

    loan_id = factory.LazyFunction(lambda: LoanFactory().id)
    kind = TxnKind.DISBURSEMENT
    value_date = date(2026, 1, 5)
    amount = Decimal("38499.00")


class OutboxMessageFactory(BaseFactory):
    class Meta:
        model = m.OutboxMessage

    channel = OutboxChannel.SMS
    recipient = "+923001234567"
    body = "Your instalment is due in 3 days."
    dedupe_key = factory.Sequence(lambda n: f"test:{n}")


class AuditEventFactory(BaseFactory):
    class Meta:
        model = m.AuditEvent

    action = "test.event"


class JobRunFactory(BaseFactory):
    class Meta:
        model = m.JobRun

    job = "ageing"
    as_of = date(2026, 2, 6)
    status = JobStatus.SUCCEEDED


class IncentiveProgrammeFactory(BaseFactory):
    class Meta:
        model = m.IncentiveProgramme

    code = factory.Sequence(lambda n: f"PROG{n}")
    name = "Local phones for freelancers"
    sponsor = "Ministry of IT"
    valid_from = date(2026, 1, 1)
    valid_to = date(2026, 12, 31)
    markup_discount_bp = 500
    subsidy_per_loan = Decimal("1500.00")


class LoanIncentiveFactory(BaseFactory):
    class Meta:
        model = m.LoanIncentive
        exclude = ("programme",)

    programme = factory.LazyFunction(lambda: IncentiveProgrammeFactory())
    loan_id = factory.LazyFunction(lambda: LoanFactory().id)
    programme_id = factory.LazyAttribute(lambda o: o.programme.id)
    programme_code = factory.LazyAttribute(lambda o: o.programme.code)
    programme_version = 1
    subsidy = Decimal("1500.00")


class DisbursementFactory(BaseFactory):
    class Meta:
        model = m.Disbursement
        exclude = ("loan",)

    loan = factory.LazyFunction(lambda: LoanFactory(books=False))
    loan_id = factory.LazyAttribute(lambda o: o.loan.id)
    retailer_id = factory.LazyAttribute(lambda o: o.loan.retailer_id)
    amount = Decimal("41249.00")


class ActivationCodeFactory(BaseFactory):
    class Meta:
        model = m.ActivationCode

    applicant_id = factory.LazyFunction(lambda: ApplicantFactory().id)
    code_hash = "0" * 64
    expires_at = factory.LazyFunction(lambda: datetime.now(UTC) + timedelta(minutes=10))


class PaymentReceiptFactory(BaseFactory):
    class Meta:
        model = m.PaymentReceipt

    loan_id = factory.LazyFunction(lambda: LoanFactory().id)
    channel = PaymentChannel.EASYPAISA
    reference = factory.Sequence(lambda n: f"EP{n:010d}")
    amount = Decimal("4145.00")
    paid_at = factory.LazyFunction(lambda: datetime(2026, 2, 5, 10, 0, tzinfo=UTC))


class LoanSnapshotFactory(BaseFactory):
    class Meta:
        model = m.LoanSnapshot

    loan_id = factory.LazyFunction(lambda: LoanFactory().id)
    as_of = date(2026, 2, 28)
    days_past_due = 0
    bucket = "current"
    outstanding_principal = Decimal("38249.00")


class JobBatchFactory(BaseFactory):
    class Meta:
        model = m.JobBatch

    job = "ageing"
    as_of = date(2026, 2, 28)
    lo = 1
    hi = 2000


class GLAccountFactory(BaseFactory):
    class Meta:
        model = m.GLAccount

    code = factory.Sequence(lambda n: f"9{n:03d}")
    name = factory.Sequence(lambda n: f"Test account {n}")
    kind = AccountKind.EXPENSE


class GLProductAccountFactory(BaseFactory):
    class Meta:
        model = m.GLProductAccount
        exclude = ("loan",)

    loan = factory.LazyFunction(lambda: LoanFactory())
    product_id = factory.LazyAttribute(lambda o: o.loan.product_id)
    role = "profit_income"
    account_id = factory.LazyFunction(lambda: GLAccountFactory().id)


class JournalEntryFactory(BaseFactory):
    """A balanced entry of two lines (cash received, the loan's principal repaid), written
    the way the ledger writes every entry (on SQLite its row goes in after its lines)."""

    class Meta:
        model = m.JournalEntry

    posted_on = date(2026, 2, 5)
    amount = Decimal("1000.00")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from lending.services import ledger

        session = cls._meta.sqlalchemy_session
        amount = kwargs.pop("amount")
        on = kwargs.pop("posted_on")
        loan = LoanFactory()
        posting = ledger.Posting("payment", on, on, datetime(2026, 2, 5, tzinfo=UTC), loan.id)
        ledger.post(session, posting, [("clearing_cash", amount), ("loan_principal", -amount)])
        session.commit()
        return session.exec(select(model_class).order_by(model_class.id.desc())).first()


class JournalLineFactory(BaseFactory):
    """A line of a new balanced entry."""

    class Meta:
        model = m.JournalLine

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        entry = JournalEntryFactory()
        session = cls._meta.sqlalchemy_session
        return session.exec(select(model_class).where(model_class.entry_id == entry.id)).first()


class LedgerCloseFactory(BaseFactory):
    class Meta:
        model = m.LedgerClose

    closed_through = date(2026, 1, 31)


class ApprovalFactory(BaseFactory):
    """A refund proposed by a member of staff of its own, pending."""

    class Meta:
        model = m.Approval

    kind = ApprovalKind.REFUND
    loan_id = factory.LazyFunction(lambda: LoanFactory().id)
    amount = Decimal("50.00")
    reason = "Paid twice by mistake."
    proposed_by_id = factory.LazyFunction(lambda: UserFactory(role=Role.UNDERWRITER).id)
    proposed_at = datetime(2026, 2, 6, 9, tzinfo=UTC)


class SubsidyReceiptFactory(BaseFactory):
    """A sponsor's payment of a claim (the table only: no journal entry)."""

    class Meta:
        model = m.SubsidyReceipt

    programme_code = "DPL-2026"
    month = "2026-01"
    amount = Decimal("2000.00")
    reference = factory.Sequence(lambda n: f"MCB-{n:05d}")
    received_on = date(2026, 2, 10)


class GLBalanceFactory(BaseFactory):
    """An account's balances as a night recorded them."""

    class Meta:
        model = m.GLBalance

    as_of = date(2026, 2, 5)
    through_entry_id = 0
    account_id = factory.LazyFunction(lambda: GLAccountFactory().id)
    debit = Decimal("0.00")
    credit = Decimal("0.00")
