"""What a replay writes beside the instalments' money, on both databases: the allocation rows
of each payment and the transaction they are booked under, each payment's unapplied part, the
late-fee charges and reversals with their audit events, and the loaded rows kept true to the
database. The nightly check compares the instalments and the loan with a replay from scratch;
these records are checked here.

The loan (tests/services/test_servicing_record.py): 38,499.00 over 6 months on QIST-STD,
booked 2026-11-28 12:00 Karachi (07:00 UTC, the pinned clock); instalment 1 is 6,990.00, due
2026-12-28; the night of 2 January charges it Rs 500 if unpaid.
"""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select, text
from sqlmodel import Session

from lending.db import get_engine
from lending.finance.enums import Prepayment
from lending.finance.replay import ReplayError
from lending.models import AuditEvent, Instalment, Loan, LoanTransaction, Payment, PaymentAllocation
from lending.models.enums import TxnKind
from lending.services.replay import instalments_of, servicing_terms
from tests import factories as f
from tests.services.test_payment_edges import (
    allocated,
    assert_stored_state_is_its_replay,
    post_one,
    request,
    wallet_file,
)
from tests.services.test_servicing_record import first, kinds, night
from tests.web.helpers import AGENT
from tests.web.servicing import STAFF, book_loan, pay, refund


@pytest.fixture
def loan_id(setup, client) -> int:
    return book_loan(client)


def clock(app, day: date) -> None:
    app.extensions["lending.clock"] = lambda: datetime(day.year, day.month, day.day, 7, tzinfo=UTC)


def reverse(client, payment_id: int):
    answer = client.post(
        f"/api/v1/payments/{payment_id}/reverse", json={"reason": "Bounced."}, headers=STAFF
    )
    assert answer.status_code == 200, answer.json
    return answer


def sources(session, payment_id: int) -> list[tuple[int, str, Decimal]]:
    """A payment's allocation rows by transaction and instalment: the instalment, the kind
    of transaction each is booked under, and its amount."""
    part = PaymentAllocation
    rows = session.execute(
        select(Instalment.n, LoanTransaction.kind, part.principal + part.profit)
        .join(Instalment, Instalment.id == part.instalment_id)
        .join(LoanTransaction, LoanTransaction.id == part.transaction_id)
        .where(part.payment_id == payment_id)
        .order_by(part.transaction_id, Instalment.n)
    ).all()
    return [(n, str(kind), Decimal(amount)) for n, kind, amount in rows]


def fee_events(session, loan_id: int) -> list[tuple[str, dict]]:
    return [
        (action, after)
        for action, after in session.execute(
            select(AuditEvent.action, AuditEvent.after)
            .where(AuditEvent.object_type == "loans", AuditEvent.object_id == loan_id)
            .where(AuditEvent.action.like("fee.%"))
            .order_by(AuditEvent.id)
        ).all()
    ]


def test_a_reversal_moves_the_later_payments_money_under_the_reversal(
    app, session, client, loan_id
):
    """Two payments of 6,990.00 on the due date pay instalments 1 and 2; the first bounces.
    The second's money moves to instalment 1 (oldest first): its allocation rows say so, the
    rows that moved it are booked under the reversal, and the bounced payment keeps nothing."""
    clock(app, date(2026, 12, 28))
    one = pay(client, loan_id, "6990.00", "one", paid_at="2026-12-28T10:00:00+05:00").json
    two = pay(client, loan_id, "6990.00", "two", paid_at="2026-12-28T11:00:00+05:00").json
    assert allocated(session, two["payment_id"]) == {2: Decimal("6990.00")}
    reverse(client, one["payment_id"])
    session.expire_all()
    assert allocated(session, one["payment_id"]) == {}
    assert allocated(session, two["payment_id"]) == {1: Decimal("6990.00")}
    assert sources(session, two["payment_id"]) == [
        (2, "payment", Decimal("6990.00")),
        (1, "reversal", Decimal("6990.00")),
        (2, "reversal", Decimal("-6990.00")),
    ]
    assert_stored_state_is_its_replay(session, loan_id, date(2026, 12, 28))


def test_file_rows_either_side_of_a_counter_payment_move_it_under_the_first_row(
    app, session, client, loan_id
):
    """3,000.00 at the counter on 10 December goes to instalment 1. The wallet's file, read on
    the night of 12 December, has 6,990.00 paid on 5 December and 100.00 on 12 December: posted
    in one replay, the 6,990.00 pays instalment 1 and the counter's 3,000.00 moves to
    instalment 2, booked under the transaction of the row that moved it (the earlier one)."""
    clock(app, date(2026, 12, 10))
    counter = pay(client, loan_id, "3000.00", "c", paid_at="2026-12-10T12:00:00+05:00").json
    wallet_file(session, loan_id, ("6990.00", "2026-12-05"), ("100.00", "2026-12-12"))
    night(app, date(2026, 12, 12))
    session.expire_all()
    rows = session.execute(
        select(Payment.id, Payment.amount).where(Payment.id != counter["payment_id"])
    ).all()
    by_amount = {amount: payment_id for payment_id, amount in rows}
    early, late = by_amount[Decimal("6990.00")], by_amount[Decimal("100.00")]
    assert allocated(session, early) == {1: Decimal("6990.00")}
    assert allocated(session, counter["payment_id"]) == {2: Decimal("3000.00")}
    assert allocated(session, late) == {2: Decimal("100.00")}
    early_txn = session.execute(
        select(LoanTransaction.id).where(LoanTransaction.payment_id == early)
    ).scalar_one()
    moved = session.execute(
        select(PaymentAllocation.transaction_id, PaymentAllocation.principal)
        .where(PaymentAllocation.payment_id == counter["payment_id"])
        .order_by(PaymentAllocation.id)
    ).all()
    assert [t for t, _ in moved[1:]] == [early_txn, early_txn]
    assert_stored_state_is_its_replay(session, loan_id, date(2026, 12, 12))


def test_a_reversal_gives_a_later_payments_kept_credit_back_to_the_instalments(
    session, client, loan_id
):
    """100.00 and then the payoff plus 50.00, on the day of booking: the loan is settled with
    50.00 kept (the second payment's unapplied part). The 100.00 bounces: the second payment's
    money now falls 50.00 short of the payoff, so nothing of it is unapplied, no credit is
    kept and the loan is open again."""
    assert pay(client, loan_id, "100.00", "a").status_code == 201
    quote = client.get(f"/api/v1/loans/{loan_id}/payoff?as_of=2026-11-28", headers=AGENT).json
    amount = Decimal(quote["total"]) + Decimal("50.00")
    b = pay(client, loan_id, str(amount), "b").json
    assert (b["loan_status"], b["unapplied"], b["credit_balance"]) == ("settled", "50.00", "50.00")
    a_id = session.execute(
        select(Payment.id).where(Payment.amount == Decimal("100.00"))
    ).scalar_one()
    reverse(client, a_id)
    session.expire_all()
    assert [
        (p.amount, p.unapplied)
        for p in session.execute(select(Payment).order_by(Payment.id)).scalars()
    ] == [(Decimal("100.00"), Decimal("0.00")), (amount, Decimal("0.00"))]
    loan = session.get(Loan, loan_id)
    assert (str(loan.status), loan.credit_balance) == ("active", Decimal("0.00"))
    assert_stored_state_is_its_replay(session, loan_id, date(2026, 11, 28))


def test_a_fee_is_charged_and_taken_back_once_each_time_the_history_changes(
    app, session, client, loan_id
):
    """The night of 2 January charges Rs 500 on instalment 1. On 3 January: 100.00 paid on
    20 December (backdated, too little) leaves the fee as it was: no reversal, no new charge.
    6,890.00 paid on 27 December pays the instalment before its due date: the fee is taken back
    once. 100.00 paid on 21 December changes nothing more of the fees. The 6,890.00 then
    bounces: the replay charges the fee again, dated 1 January as the night's was, and records
    it as the night's charge was recorded."""
    night(app, date(2027, 1, 2))
    assert kinds(session, loan_id) == ["disbursement", "late_fee"]
    nights = session.execute(
        select(
            LoanTransaction.amount, LoanTransaction.value_date, LoanTransaction.instalment_n
        ).where(LoanTransaction.loan_id == loan_id, LoanTransaction.kind == TxnKind.LATE_FEE)
    ).one()
    assert nights == (Decimal("500.00"), date(2027, 1, 1), 1)  # due 28 December, 4 days' grace
    clock(app, date(2027, 1, 3))
    assert (
        pay(client, loan_id, "100.00", "a", paid_at="2026-12-20T12:00:00+05:00").status_code == 201
    )
    assert kinds(session, loan_id) == ["disbursement", "late_fee", "payment"]
    assert first(session, loan_id).late_fee == Decimal("500.00")
    cure = pay(client, loan_id, "6890.00", "b", paid_at="2026-12-27T12:00:00+05:00").json
    assert kinds(session, loan_id)[3:] == ["payment", "late_fee_reversal"]
    assert (
        pay(client, loan_id, "100.00", "c", paid_at="2026-12-21T12:00:00+05:00").status_code == 201
    )
    assert kinds(session, loan_id)[5:] == ["payment"]
    assert first(session, loan_id).late_fee == Decimal("0.00")
    reverse(client, cure["payment_id"])
    assert kinds(session, loan_id)[6:] == ["reversal", "late_fee"]
    charge = session.execute(
        select(LoanTransaction)
        .where(LoanTransaction.loan_id == loan_id, LoanTransaction.kind == TxnKind.LATE_FEE)
        .order_by(LoanTransaction.id.desc())
        .limit(1)
    ).scalar_one()
    assert (charge.amount, charge.value_date, charge.instalment_n) == tuple(nights)
    assert first(session, loan_id).late_fee == Decimal("500.00")
    charged = {"instalment": 1, "amount": "500.00", "charity": False}
    assert [action for action, _ in fee_events(session, loan_id)] == [
        "fee.charged",
        "fee.reversed",
        "fee.charged",
    ]
    assert fee_events(session, loan_id)[-1] == ("fee.charged", charged)
    assert_stored_state_is_its_replay(session, loan_id, date(2027, 1, 3))


def test_the_session_that_posts_a_payment_reads_the_instalments_as_stored(session, client, loan_id):
    """The replay writes the instalments with one UPDATE of many rows, past the ORM; the rows
    the posting session holds are kept true to it, so anything that session reads next (the
    answer, a page) sees the payment without reading them again."""
    held = (
        session.execute(
            select(Instalment).where(Instalment.loan_id == loan_id).order_by(Instalment.n)
        )
        .scalars()
        .all()
    )
    post_one(session, request(loan_id, "6990.00"))
    again = (
        session.execute(
            select(Instalment).where(Instalment.loan_id == loan_id).order_by(Instalment.n)
        )
        .scalars()
        .all()
    )
    assert again[0] is held[0]
    assert (again[0].paid_principal + again[0].paid_profit, again[0].paid_on) == (
        Decimal("6990.00"),
        date(2026, 11, 28),
    )


def test_a_reduce_principal_loan_whose_terms_no_longer_price_its_schedule_is_refused(
    session, client, loan_id
):
    """A reduce-principal loan is replayed from its schedule priced again from its booked
    terms; a loan whose booked instalment that pricing does not give back (a paisa off) is
    refused rather than replayed on a schedule it was not booked with."""
    loan = session.get(Loan, loan_id)
    loan.prepayment = Prepayment.REDUCE_TENOR
    session.commit()
    rows = instalments_of(session, loan)
    assert servicing_terms(session, loan, rows).state.reduce.level == Decimal("6990.00")
    loan.instalment_amount = Decimal("6990.01")
    with pytest.raises(ReplayError, match="do not price the schedule it was booked with"):
        servicing_terms(session, loan, rows)
    loan.instalment_amount = Decimal("6990.00")
    with pytest.raises(ReplayError):
        servicing_terms(session, loan, rows[:-1])


def test_a_payment_whose_kept_credit_was_refunded_cannot_be_reversed(session, client, loan_id):
    """The payoff plus 50.00 settles the loan and keeps 50.00; staff refund the 50.00. The
    payment then bounces: without it the refund paid back money the borrower never had, so the
    reversal is refused (409) and nothing is written."""
    quote = client.get(f"/api/v1/loans/{loan_id}/payoff?as_of=2026-11-28", headers=AGENT).json
    paid = pay(client, loan_id, str(Decimal(quote["total"]) + Decimal("50.00")), "p").json
    assert paid["credit_balance"] == "50.00"
    refunded = refund(client, loan_id, "50.00")
    assert refunded.status_code == 200, refunded.json
    before = kinds(session, loan_id)
    answer = client.post(
        f"/api/v1/payments/{paid['payment_id']}/reverse", json={"reason": "Bounced."}, headers=STAFF
    )
    assert answer.status_code == 409
    assert answer.json["message"] == (
        "This would leave the loan's history inconsistent: "
        "a refund of more than the loan's credit balance."
    )
    assert kinds(session, loan_id) == before == ["disbursement", "payment", "refund"]
    assert str(session.get(Payment, paid["payment_id"]).status) != "reversed"


def far_transaction_ids(session, other_loan_id: int) -> None:
    """Make the next loan transaction's id a billion, as on a book that has run for years
    (on SQLite the next rowid follows the largest: a row of another loan sets it)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT setval(pg_get_serial_sequence('loan_transactions', 'id'), 1000000000)")
        )
    else:
        session.add(
            LoanTransaction(
                id=10**9,
                loan_id=other_loan_id,
                kind=TxnKind.DISBURSEMENT,
                value_date=date(2026, 11, 28),
                amount=Decimal("1.00"),
                created_at=datetime(2026, 11, 28, 7, tzinfo=UTC),
            )
        )
    session.commit()


def test_a_payment_follows_the_stored_ones_of_its_day_whatever_their_ids(
    app, session, client, loan_id
):
    """The replay puts a payment about to be written after every stored transaction of its
    day, whatever their ids. On a book whose transaction ids are in the billions: 6,990.00
    paid on 10 December, 100.00 on 15 December, then (a receipt found late, replayed in full)
    6,990.00 paid on 10 December too: the first payment keeps instalment 1, the late one pays
    instalment 2, and the 100.00 moves on to instalment 3."""
    other = book_loan(
        client, applicant__cnic="42101-7654321-9", device__imei=f.imei(283, "86711205")
    )
    far_transaction_ids(session, other)
    clock(app, date(2026, 12, 15))
    one = pay(client, loan_id, "6990.00", "one", paid_at="2026-12-10T12:00:00+05:00").json
    stored = session.execute(
        select(LoanTransaction.id).where(LoanTransaction.payment_id == one["payment_id"])
    ).scalar_one()
    assert stored > 10**9
    small = pay(client, loan_id, "100.00", "small", paid_at="2026-12-15T12:00:00+05:00").json
    late = pay(client, loan_id, "6990.00", "late", paid_at="2026-12-10T18:00:00+05:00").json
    session.expire_all()
    assert allocated(session, one["payment_id"]) == {1: Decimal("6990.00")}
    assert allocated(session, late["payment_id"]) == {2: Decimal("6990.00")}
    assert allocated(session, small["payment_id"]) == {3: Decimal("100.00")}
    assert_stored_state_is_its_replay(session, loan_id, date(2026, 12, 15))


def test_a_session_holding_the_schedule_reads_the_instalments_afresh_to_post(
    app, session, client, loan_id
):
    """A long-lived session keeps its objects across commits (as the app's do): it has read
    the loan's schedule (to show it) when a counter payment elsewhere pays instalment 1. Its
    own payment must then start from the database, where instalment 1 is paid, not from the
    rows it holds: it pays instalment 2."""
    mine = Session(get_engine(app), expire_on_commit=False)
    try:
        shown = mine.execute(select(Instalment).where(Instalment.loan_id == loan_id)).all()
        mine.commit()
        elsewhere = pay(client, loan_id, "6990.00", "elsewhere").json
        assert allocated(session, elsewhere["payment_id"]) == {1: Decimal("6990.00")}
        mine_paid = post_one(mine, request(loan_id, "6990.00"))
        mine.commit()
        assert allocated(session, mine_paid.payment.id) == {2: Decimal("6990.00")}
        assert len(shown) == 6
    finally:
        mine.close()
    session.expire_all()
    assert_stored_state_is_its_replay(session, loan_id, date(2026, 11, 28))
