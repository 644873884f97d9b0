"""Faults: the database connection dropping in the middle of booking leaves no half-booked loan."""

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from lending.models import Application, Disbursement, Instalment, Loan, LoanTransaction
from lending.models.enums import ApplicationStatus
from lending.services import booking
from tests.web.helpers import AGENT, body, post


def drop_connection(*_args, **_kwargs):
    raise OperationalError("INSERT ...", {}, Exception("server closed the connection"))


def after_flush(session, *_args, **_kwargs):
    """Write the loan's instalments to the database, then lose the connection."""
    session.flush()
    drop_connection()


def counts(session) -> tuple[int, int, int]:
    session.expire_all()
    return tuple(
        session.execute(select(func.count()).select_from(model)).scalar_one()
        for model in (Loan, Instalment, Disbursement)
    )


@pytest.mark.parametrize(
    ("target", "fault"),
    [("_tag_loan", after_flush), ("record_disbursement", drop_connection)],
    ids=["after-instalments-flushed", "at-disbursement"],
)
def test_a_dropped_connection_while_booking_leaves_nothing_half_done(
    session, client, setup, monkeypatch, target, fault
):
    application_id = post(client, body()).json["id"]
    monkeypatch.setattr(booking, target, fault)
    with pytest.raises(OperationalError):
        client.post(f"/api/v1/applications/{application_id}/accept", headers=AGENT)
    assert counts(session) == (0, 0, 0)
    assert session.get(Application, application_id).status == ApplicationStatus.APPROVED
    monkeypatch.undo()  # the connection is back: the retailer tries again
    accepted = client.post(f"/api/v1/applications/{application_id}/accept", headers=AGENT)
    assert accepted.status_code == 201
    loans, instalments, disbursements = counts(session)
    assert (loans, disbursements) == (1, 1)
    assert instalments == session.get(Loan, accepted.json["loan_id"]).instalments_count


def test_a_dropped_connection_while_posting_a_payment_leaves_no_payment_half_written(
    session, client, setup, monkeypatch
):
    from lending.models import Payment, PaymentAllocation
    from lending.services import payments
    from tests.web.servicing import book_loan, paid_columns, pay

    loan_id = book_loan(client)
    before = paid_columns(session, loan_id)

    def allocation_then_drop(db_session, *args, **kwargs):
        real_write(db_session, *args, **kwargs)
        db_session.flush()  # the payment and its allocation rows reached the database
        drop_connection()

    real_write = payments.store
    monkeypatch.setattr(payments, "store", allocation_then_drop)
    with pytest.raises(OperationalError):
        pay(client, loan_id, "5000.00", key="counter-1")
    session.expire_all()
    assert session.execute(select(func.count()).select_from(Payment)).scalar_one() == 0
    assert session.execute(select(func.count()).select_from(PaymentAllocation)).scalar_one() == 0
    assert (
        session.execute(
            select(func.count())
            .select_from(LoanTransaction)
            .where(LoanTransaction.kind == "payment")
        ).scalar_one()
        == 0
    )
    assert paid_columns(session, loan_id) == before
    monkeypatch.undo()
    assert pay(client, loan_id, "5000.00", key="counter-1").status_code == 201
    assert pay(client, loan_id, "5000.00", key="counter-1").status_code in (200, 201)
    assert session.execute(select(func.count()).select_from(Payment)).scalar_one() == 1
