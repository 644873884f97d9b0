"""A payment's business date is its Karachi date: around midnight on a moved clock.

The loan of `book_loan` (QIST-STD, booked 28 Nov 2026) has instalment 1 of Rs 6,990.00
(962.48 profit + 6,027.52 principal) due 28 Dec 2026, three grace days (29-31 Dec) and a
fixed Rs 500 late fee charged on 1 Jan 2027 if it is still unpaid. Karachi is UTC+5 all year:
23:59 on 31 Dec in Karachi is 18:59 UTC on 31 Dec, and 00:01 on 1 Jan in Karachi is 19:01
UTC, still 31 Dec in UTC. Only the Karachi date is the business date, so the second payment
is a day late and pays the fee first. The app's clock is moved to the moment of payment.
"""

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from lending.models import Instalment, LoanTransaction
from lending.models.enums import TxnKind
from tests.web.servicing import book_loan, pay

KARACHI = ZoneInfo("Asia/Karachi")
BEFORE_MIDNIGHT = datetime(2026, 12, 31, 23, 59, tzinfo=KARACHI)
AFTER_MIDNIGHT = datetime(2027, 1, 1, 0, 1, tzinfo=KARACHI)


@pytest.fixture
def loan_id(setup, client, session) -> int:
    loan_id = book_loan(client)
    first = session.exec(
        select(Instalment).where(Instalment.loan_id == loan_id, Instalment.n == 1)
    ).one()
    assert (first.due_date, first.total) == (date(2026, 12, 28), Decimal("6990.00"))
    return loan_id


def pay_at(app, client, loan_id: int, moment: datetime, key: str):
    app.extensions["lending.clock"] = lambda: moment.astimezone(UTC)
    response = pay(client, loan_id, "6990.00", key, paid_at=moment.astimezone(UTC).isoformat())
    assert response.status_code == 201, response.json
    return response.json


def transactions(session, loan_id: int, kind: TxnKind) -> list[LoanTransaction]:
    session.expire_all()
    return session.exec(
        select(LoanTransaction)
        .where(LoanTransaction.loan_id == loan_id, LoanTransaction.kind == kind)
        .order_by(LoanTransaction.id)
    ).all()


def test_the_moments_are_the_ones_named():
    assert BEFORE_MIDNIGHT.astimezone(UTC) == datetime(2026, 12, 31, 18, 59, tzinfo=UTC)
    assert AFTER_MIDNIGHT.astimezone(UTC) == datetime(2026, 12, 31, 19, 1, tzinfo=UTC)


def test_paid_at_23_59_in_karachi_is_on_the_last_grace_day_and_charged_nothing(
    app, client, session, loan_id
):
    doc = pay_at(app, client, loan_id, BEFORE_MIDNIGHT, "k-2359")
    (payment,) = transactions(session, loan_id, TxnKind.PAYMENT)
    assert payment.value_date == date(2026, 12, 31)
    assert transactions(session, loan_id, TxnKind.LATE_FEE) == []
    assert doc["allocations"][0] == {
        "instalment": 1,
        "late_fee": "0.00",
        "fee": "0.00",
        "profit": "962.48",
        "principal": "6027.52",
    }
    first = session.exec(
        select(Instalment).where(Instalment.loan_id == loan_id, Instalment.n == 1)
    ).one()
    assert (first.late_fee, first.paid_on) == (Decimal("0.00"), date(2026, 12, 31))


def test_paid_at_00_01_in_karachi_is_a_day_late_and_pays_the_fee_first(
    app, client, session, loan_id
):
    doc = pay_at(app, client, loan_id, AFTER_MIDNIGHT, "k-0001")
    (payment,) = transactions(session, loan_id, TxnKind.PAYMENT)
    assert payment.value_date == date(2027, 1, 1)  # 31 Dec in UTC, 1 Jan in Karachi
    (fee,) = transactions(session, loan_id, TxnKind.LATE_FEE)
    assert (fee.instalment_n, fee.value_date, fee.amount) == (1, date(2027, 1, 1), Decimal("500"))
    # 6,990.00 pays the 500.00 fee, the 962.48 profit, then 6,990 - 500 - 962.48 = 5,527.52
    # of principal: instalment 1 stays 500.00 short.
    assert doc["allocations"][0] == {
        "instalment": 1,
        "late_fee": "500.00",
        "fee": "0.00",
        "profit": "962.48",
        "principal": "5527.52",
    }
    first = session.exec(
        select(Instalment).where(Instalment.loan_id == loan_id, Instalment.n == 1)
    ).one()
    assert (first.paid_principal, first.paid_on) == (Decimal("5527.52"), None)
