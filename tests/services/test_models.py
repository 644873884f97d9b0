"""The data model on both databases: exact money, UTC times, constraints, every factory."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import select

from lending import models as m
from lending.models.enums import Role
from tests import factories as f


def test_money_round_trips_exactly_and_sums_exactly_in_sql(session):
    amounts = [Decimal("0.10"), Decimal("0.20"), Decimal("99999999999.99"), Decimal("1234.05")]
    loan = f.LoanFactory()
    for a in amounts:
        f.FeeFactory(loan_id=loan.id, amount=a)
    session.expire_all()
    stored = session.exec(select(m.Fee.amount).order_by(m.Fee.id)).all()
    assert stored == amounts
    assert all(isinstance(a, Decimal) for a in stored)
    total = session.exec(select(func.sum(m.Fee.amount))).one()
    assert total == Decimal("100000001234.34")  # 0.1 + 0.2 stays 0.30, no binary float
    assert session.exec(select(m.Fee).where(m.Fee.amount > Decimal("1234.04"))).all()[
        0
    ].amount == Decimal("99999999999.99")


def test_money_is_quantised_half_up_and_floats_are_refused(session):
    fee = f.FeeFactory(amount=Decimal("10.005"))
    session.expire_all()
    assert session.get(m.Fee, fee.id).amount == Decimal("10.01")
    with pytest.raises((StatementError, TypeError)):
        f.FeeFactory(amount=10.5)
    session.rollback()


def test_money_columns_are_numeric_14_2_on_postgresql(session, backend):
    if backend != "postgresql":
        pytest.skip("column types of PostgreSQL")
    row = session.exec(
        text(
            "SELECT data_type, numeric_precision, numeric_scale FROM information_schema.columns "
            "WHERE table_name = 'loans' AND column_name = 'principal'"
        )
    ).one()
    assert tuple(row) == ("numeric", 14, 2)


def test_timestamps_come_back_as_aware_utc(session):
    karachi = timezone(timedelta(hours=5))
    at = datetime(2026, 3, 1, 9, 30, tzinfo=karachi)
    payment = f.PaymentFactory(paid_at=at)
    session.expire_all()
    stored = session.get(m.Payment, payment.id).paid_at
    assert stored == at and stored.tzinfo is not None
    assert stored.astimezone(UTC).hour == 4


def test_one_instalment_per_number_per_loan(session):
    loan = f.LoanFactory()
    f.InstalmentFactory(loan_id=loan.id, n=1)
    with pytest.raises(IntegrityError):
        f.InstalmentFactory(loan_id=loan.id, n=1)
    session.rollback()


def test_idempotency_key_and_gateway_reference_are_unique(session):
    loan = f.LoanFactory()
    f.PaymentFactory(loan_id=loan.id, idempotency_key="k-1", reference="R1")
    with pytest.raises(IntegrityError):
        f.PaymentFactory(loan_id=loan.id, idempotency_key="k-1", reference="R2")
    session.rollback()
    with pytest.raises(IntegrityError):
        f.PaymentFactory(loan_id=loan.id, reference="R1")
    session.rollback()


def test_foreign_keys_are_enforced(session):
    with pytest.raises(IntegrityError):
        f.InstalmentFactory(loan_id=424242)
    session.rollback()


def test_enums_come_back_as_enums(session):
    user = f.UserFactory(role="underwriter")
    session.expire_all()
    assert session.get(m.User, user.id).role is Role.UNDERWRITER


FACTORIES = [
    f.RetailerFactory,
    f.UserFactory,
    f.ApiTokenFactory,
    f.ApplicantFactory,
    f.ProductFactory,
    f.ProductVersionFactory,
    f.ManufacturerFactory,
    f.DeviceModelFactory,
    f.DeviceTacFactory,
    f.ApplicationFactory,
    f.DecisionFactory,
    f.LoanFactory,
    f.InstalmentFactory,
    f.FeeFactory,
    f.PaymentFactory,
    f.PaymentAllocationFactory,
    f.LoanTransactionFactory,
    f.OutboxMessageFactory,
    f.AuditEventFactory,
    f.JobRunFactory,
    f.PaymentReceiptFactory,
    f.LoanSnapshotFactory,
    f.JobBatchFactory,
    f.IncentiveProgrammeFactory,
    f.LoanIncentiveFactory,
    f.DisbursementFactory,
    f.ActivationCodeFactory,
    f.GLAccountFactory,
    f.GLProductAccountFactory,
    f.JournalEntryFactory,
    f.JournalLineFactory,
    f.LedgerCloseFactory,
    f.ApprovalFactory,
    f.SubsidyReceiptFactory,
    f.GLBalanceFactory,
]


@pytest.mark.parametrize("factory", FACTORIES, ids=lambda fc: fc.__name__)
def test_every_factory_writes_a_row(session, factory):
    obj = factory()
    model = factory._meta.model
    session.expire_all()
    assert session.exec(select(func.count()).select_from(model)).one() >= 1
    assert obj is not None


def test_every_table_has_a_factory():
    covered = {fc._meta.model.__tablename__ for fc in FACTORIES}
    assert covered == set(_tables())


def _tables() -> list[str]:
    from sqlmodel import SQLModel

    return [t.name for t in SQLModel.metadata.sorted_tables]
