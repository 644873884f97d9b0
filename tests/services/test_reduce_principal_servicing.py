"""Reduce-principal loans in the servicing record: re-amortised rows stored, checked, restored.

The loan (as in test_servicing_record.py): 38,499.00 over 6 months on QIST-STD at 30%,
booked 2026-11-28; instalment 1 is 6,990.00, due 2026-12-28. Products cannot offer the
reduce modes yet, so the tests set the loan's copy of the mode right after booking, before any
payment (what booking will copy from a product version that offers it).
"""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import initialize
from sqlalchemy import select, text
from sqlmodel import Session

from lending.db import get_engine
from lending.finance.enums import Prepayment
from lending.finance.schedule import build_schedule
from lending.finance.terms import LoanTerms
from lending.models import AuditEvent, Instalment, Loan
from lending.services.nightly import verify
from tests.services.test_replay_stateful import LoanLife, run_lives
from tests.web.helpers import AGENT
from tests.web.servicing import STAFF, book_loan, pay

REDUCE = (Prepayment.REDUCE_TENOR, Prepayment.REDUCE_INSTALMENT)
AMOUNTS = ("principal", "profit", "fee", "total", "balance_after", "tolerance")
BOOKED_ON = date(2026, 11, 28)


def reducing(session, loan_id: int, mode: Prepayment) -> None:
    loan = session.get(Loan, loan_id)
    loan.prepayment = mode
    session.commit()


def rows(session, loan_id: int) -> list[Instalment]:
    session.expire_all()
    query = select(Instalment).where(Instalment.loan_id == loan_id).order_by(Instalment.n)
    return list(session.execute(query).scalars())


def amounts(session, loan_id: int) -> list[tuple]:
    return [tuple(getattr(r, name) for name in AMOUNTS) for r in rows(session, loan_id)]


def asks(row: Instalment) -> Decimal:
    return row.total - row.paid_principal - row.paid_profit - row.paid_fee


@pytest.fixture(params=REDUCE, ids=str)
def loan_id(request, setup, client, session) -> int:
    loan_id = book_loan(client)
    reducing(session, loan_id, request.param)
    return loan_id


def test_a_prepayment_stores_the_re_amortised_rows_and_the_check_agrees(
    app, session, client, loan_id
):
    loan = session.get(Loan, loan_id)
    booked = amounts(session, loan_id)
    assert pay(client, loan_id, "10000.00", "prepay").status_code == 201
    stored = rows(session, loan_id)
    # Paid on the day of booking: nothing earned, all 10,000.00 is principal; 28,499.00 left
    # earns the whole first month, 2.5% (30% a year, 30/360): 712.475 -> 712.48.
    first = stored[0]
    assert (first.paid_principal, first.paid_profit) == (Decimal("10000.00"), Decimal("0.00"))
    assert first.profit == Decimal("712.48")
    if loan.prepayment is Prepayment.REDUCE_TENOR:
        assert [asks(r) for r in stored[:3]] == [Decimal("6990.00")] * 3
        assert asks(stored[-1]) == 0 and stored[-1].paid_on == BOOKED_ON
    else:  # a new level: the annuity of 28,499.00 over the same six months, up to the rupee
        fresh = build_schedule(
            LoanTerms(
                principal=Decimal("28499"), annual_rate=Decimal("30"), tenor=6, start=BOOKED_ON
            )
        )
        assert [asks(r) for r in stored[:5]] == [fresh.instalment_amount] * 5
    assert sum(r.principal for r in stored) == loan.principal
    running = loan.principal
    for row in stored:
        running -= row.principal
        assert row.balance_after == running and row.total == row.principal + row.profit
        assert row.paid_principal <= row.principal and row.paid_profit <= row.profit
    assert running == 0
    engine = get_engine(app)
    assert verify.verify(engine, BOOKED_ON) == {"loans": 1, "mismatches": 0}
    # The reversal of the prepayment gives back the booked rows, to the paisa.
    payment_id = session.execute(
        text("SELECT id FROM payments WHERE loan_id = :id"), {"id": loan_id}
    ).scalar_one()
    response = client.post(
        f"/api/v1/payments/{payment_id}/reverse", json={"reason": "Bounced."}, headers=STAFF
    )
    assert response.status_code == 200, response.json
    assert amounts(session, loan_id) == booked
    assert verify.verify(engine, BOOKED_ON) == {"loans": 1, "mismatches": 0}


def test_the_nightly_check_compares_the_re_amortised_amounts(app, session, client, loan_id):
    assert pay(client, loan_id, "10000.00", "prepay").status_code == 201
    engine = get_engine(app)
    with engine.begin() as conn:  # a hand edit that every CHECK allows
        conn.execute(
            text("UPDATE instalments SET total = total + 1 WHERE loan_id = :id AND n = 2"),
            {"id": loan_id},
        )
    assert verify.verify(engine, BOOKED_ON) == {"loans": 1, "mismatches": 1}
    with Session(engine) as db:
        event = db.execute(
            select(AuditEvent).where(AuditEvent.action == "replay.mismatch")
        ).scalar_one()
    assert any(d.startswith("instalment 2 total: stored") for d in event.detail["differences"])


def test_paying_the_new_schedule_on_time_settles_the_loan_exactly(app, session, client, loan_id):
    assert pay(client, loan_id, "10000.00", "prepay").status_code == 201
    for row in rows(session, loan_id):
        due = asks(row)
        if due == 0:
            continue
        moment = datetime(row.due_date.year, row.due_date.month, row.due_date.day, 5, tzinfo=UTC)
        app.extensions["lending.clock"] = lambda moment=moment: moment
        doc = pay(client, loan_id, str(due), f"n{row.n}", paid_at=moment.isoformat()).json
        assert doc["unapplied"] == "0.00", doc
    loan = session.get(Loan, loan_id)
    session.refresh(loan)
    assert loan.status in ("settled", "closed") and loan.credit_balance == 0
    assert all(asks(r) == 0 for r in rows(session, loan_id))
    quote = client.get(f"/api/v1/loans/{loan_id}/payoff", headers=AGENT)
    assert quote.status_code == 409  # nothing is left to settle


class ReduceLife(LoanLife):
    """The random loan lives of test_replay_stateful.py on loans that reduce principal."""

    @initialize(
        product=st.sampled_from([("QIST-STD", 6), ("QIST-STD", 3), ("QIST-WEEKLY", 13)]),
        mode=st.sampled_from(REDUCE),
    )
    def book(self, product, mode):
        LoanLife.book(self, product)
        with Session(self.engine) as session:
            reducing(session, self.loan_id, mode)


@pytest.mark.slow
def test_random_reduce_principal_lives_keep_the_stored_state_equal_to_the_replay(
    app, setup, client
):
    run_lives(ReduceLife, app, client)
