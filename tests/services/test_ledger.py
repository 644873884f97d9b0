"""The general ledger, on both databases: what each money event posts, what the database
refuses, the month-end close, the nightly tie-out and the trial balance.

The loan (tests/services/test_servicing_record.py): a 54,999.00 phone with 16,500.00 down, so
38,499.00 over 6 months on QIST-STD (36%, a 2% processing fee paid up front at the counter:
769.98; Rs 500 late fee after 3 grace days), booked 2026-11-28 12:00 Karachi; instalment 1 is
6,990.00, due 2026-12-28. Paid in full on the booking day it is 6,027.52 principal and
962.48 profit (the profit of the days it ran: none; the rest of instalment 1's is the profit
on what is left, paid ahead).
"""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from lending import regulation
from lending.db import get_engine
from lending.models import AuditEvent, Instalment, JournalEntry, JournalLine, Loan, LoanTransaction
from lending.models.ledger import GLAccount, GLBalance, GLProductAccount
from lending.services import ledger
from lending.services.lifecycle import cancel_in_cooling_off
from tests.services.test_payment_edges import wallet_file
from tests.services.test_servicing_record import first, night
from tests.web.helpers import NOW
from tests.web.servicing import ADMIN, STAFF, book_loan, pay, refund

LATER = date(2027, 12, 31)
CURED = date(2027, 1, 29)
D = Decimal
SUBSIDY = {"1250": D("2000.00"), "4500": D("-2000.00")}  # the loan's programme subsidy


@pytest.fixture
def loan_id(setup, client) -> int:
    return book_loan(client)


def balances(session, as_of: date = LATER) -> dict[str, Decimal]:
    """Each account's balance by code (debit positive), accounts with none left out."""
    session.expire_all()
    tb = ledger.trial_balance(session, as_of)
    assert tb.balanced, tb.document()
    return {row.code: row.balance for row in tb.rows if row.balance}


def entries(session, loan_id: int) -> list[tuple[str, date, date]]:
    session.expire_all()
    return [
        (kind, posted, value)
        for kind, posted, value in session.execute(
            select(JournalEntry.kind, JournalEntry.posted_on, JournalEntry.value_date)
            .where(JournalEntry.loan_id == loan_id)
            .order_by(JournalEntry.id)
        ).all()
    ]


def paid(session, loan_id: int) -> tuple[Decimal, Decimal, Decimal]:
    """What the instalments say was paid: principal, profit, late fees."""
    session.expire_all()
    row = session.execute(
        select(
            func.sum(Instalment.paid_principal),
            func.sum(Instalment.paid_profit),
            func.sum(Instalment.paid_late_fee),
        ).where(Instalment.loan_id == loan_id)
    ).one()
    return tuple(D(v) for v in row)


def test_booking_posts_the_loan_against_the_shop_and_the_fee_paid_up_front(session, loan_id):
    assert balances(session) == {
        "1111": D("769.98"),  # the fee the shop took at the counter
        "1200": D("38499.00"),  # principal lent
        "2100": D("-38499.00"),  # owed to the shop for the phone
        "4200": D("-769.98"),  # fee income
        "1250": D("2000.00"),  # the Galaxy A15's programme subsidy, receivable from its sponsor
        "4500": D("-2000.00"),
    }
    assert entries(session, loan_id) == [("disbursement", date(2026, 11, 28), date(2026, 11, 28))]
    assert ledger.tie_out(session.get_bind()) == {"accounts": 6, "differences": 0}


def test_a_payment_posts_its_channel_against_principal_and_profit(session, client, loan_id):
    assert pay(client, loan_id, "6990.00", "k1").status_code == 201
    assert paid(session, loan_id) == (D("6027.52"), D("962.48"), D("0.00"))
    assert balances(session) == {
        "1111": D("7759.98"),  # 769.98 + 6,990.00 cash at the shop
        "1200": D("32471.48"),  # 38,499.00 - 6,027.52
        "2100": D("-38499.00"),
        "4100": D("-962.48"),  # profit income
        "4200": D("-769.98"),
        **SUBSIDY,
    }
    # A card payment goes to the card clearing account.
    assert pay(client, loan_id, "100.00", "k2", channel="card").status_code == 201
    assert balances(session)["1112"] == D("100.00")


def test_a_reversal_is_a_new_entry_and_the_later_payment_takes_its_place(session, client, loan_id):
    one = pay(client, loan_id, "6990.00", "one").json
    assert pay(client, loan_id, "6990.00", "two").status_code == 201
    before = session.execute(select(func.count()).select_from(JournalLine)).scalar()
    answer = client.post(
        f"/api/v1/payments/{one['payment_id']}/reverse", json={"reason": "Bounced."}, headers=STAFF
    )
    assert answer.status_code == 200, answer.json
    # What is left is one payment of 6,990.00 on instalment 1: the same books as above.
    assert paid(session, loan_id) == (D("6027.52"), D("962.48"), D("0.00"))
    assert balances(session) == {
        "1111": D("7759.98"),
        "1200": D("32471.48"),
        "2100": D("-38499.00"),
        "4100": D("-962.48"),
        "4200": D("-769.98"),
        **SUBSIDY,
    }
    assert [k for k, _, _ in entries(session, loan_id)] == [
        "disbursement",
        "payment",
        "payment",
        "reversal",
    ]
    # The earlier entries' lines are as they were: the reversal only added lines.
    after = session.execute(select(func.count()).select_from(JournalLine)).scalar()
    assert after > before


def test_a_late_charge_paid_and_then_taken_back_by_a_backdated_file(app, session, client, loan_id):
    night(app, date(2027, 1, 2))  # instalment 1 unpaid past its grace days: Rs 500
    app.extensions["lending.clock"] = lambda: datetime(2027, 1, 3, 7, tzinfo=UTC)
    answer = pay(client, loan_id, "7490.00", "late", paid_at="2027-01-03T12:00:00+05:00")
    assert answer.status_code == 201, answer.json
    assert balances(session)["4300"] == D("-500.00")  # the late charge is income when paid
    # The wallet's file says instalment 1 was paid on 27 December: the fee goes, and so
    # does its income, in an entry posted in the open period with the file's value date.
    wallet_file(session, loan_id, ("6990.00", "2026-12-27"))
    night(app, date(2027, 1, 4))
    assert first(session, loan_id).late_fee == D("0.00")
    books = balances(session)
    assert "4300" not in books
    assert books["1123"] == D("6990.00")  # Easypaisa clearing
    assert books["1111"] == D("769.98") + D("7490.00")
    principal, profit, late = paid(session, loan_id)
    assert late == 0
    assert books["1200"] == D("38499.00") - principal
    assert books["4100"] == -profit
    # Posted by the night of 3 January (the first the file's row was there for).
    assert entries(session, loan_id)[-1] == ("payment", date(2027, 1, 3), date(2026, 12, 27))


def test_an_islamic_late_charge_is_the_charitys_not_income(app, session, client, setup):
    loan_id = book_loan(client, product_code="MURABAHA-12")
    assert session.get(Loan, loan_id).islamic
    night(app, date(2027, 1, 2))
    fee = first(session, loan_id).late_fee
    assert fee > 0
    app.extensions["lending.clock"] = lambda: datetime(2027, 1, 3, 7, tzinfo=UTC)
    due = first(session, loan_id).total + fee
    assert (
        pay(client, loan_id, str(due), "k", paid_at="2027-01-03T12:00:00+05:00").status_code == 201
    )
    books = balances(session)
    assert books["2300"] == -fee  # charity payable
    assert "4300" not in books
    assert ledger.tie_out(session.get_bind())["differences"] == 0


def test_an_overpayment_kept_as_credit_and_refunded_through_the_bank(session, client, loan_id):
    quote = client.get(f"/api/v1/loans/{loan_id}/payoff", headers=STAFF).json
    amount = D(quote["total"]) + D("50.00")  # within QIST-STD's Rs 100 tolerance
    assert pay(client, loan_id, str(amount), "all").status_code == 201
    assert balances(session)["2200"] == D("-50.00")  # owed back to the borrower
    assert "1200" not in balances(session)  # the principal is repaid in full
    answer = refund(client, loan_id, "50.00", "Paid too much.")
    assert answer.status_code == 200, answer.json
    books = balances(session)
    assert "2200" not in books
    assert books["1100"] == D("-50.00")  # paid out of the bank
    assert [k for k, _, _ in entries(session, loan_id)][-1] == "refund"


def test_a_cancellation_in_cooling_off_reverses_the_booking(session, loan_id):
    cancel_in_cooling_off(session=session, loan_id=loan_id, user_id=None, now=NOW)
    session.commit()
    assert balances(session) == {}
    kinds = [k for k, _, _ in entries(session, loan_id)]
    assert kinds == ["disbursement", "cancellation"]
    reverses = session.execute(
        select(JournalEntry.reverses_id).where(JournalEntry.kind == "cancellation")
    ).scalar()
    assert (
        reverses
        == session.execute(
            select(JournalEntry.id).where(JournalEntry.kind == "disbursement")
        ).scalar()
    )
    assert ledger.tie_out(session.get_bind())["differences"] == 0


def test_a_product_can_map_a_role_to_its_own_account(session, client, loan_id):
    loan = session.get(Loan, loan_id)
    own = GLAccount(code="4110", name="Profit income - staff loans", kind="income")
    session.add(own)
    session.flush()
    session.add(
        GLProductAccount(product_id=loan.product_id, role="profit_income", account_id=own.id)
    )
    session.commit()
    assert pay(client, loan_id, "6990.00", "k").status_code == 201
    books = balances(session)
    assert books["4110"] == D("-962.48")
    assert "4100" not in books
    assert ledger.tie_out(session.get_bind())["differences"] == 0


# -- what the database refuses --------------------------------------------------------------


def _raw_entry(connection, entry_id: int, lines: list[tuple[str, int]], on="2026-12-01"):
    """Write an entry directly with SQL, the way the ledger does (lines, then the entry)."""
    ids = dict(connection.execute(text("SELECT code, id FROM gl_accounts")).all())
    sqlite = connection.dialect.name == "sqlite"
    for code, paisa in lines:
        connection.execute(
            text("INSERT INTO journal_lines (entry_id, account_id, amount) VALUES (:e, :a, :m)"),
            {"e": entry_id, "a": ids[code], "m": paisa if sqlite else D(paisa).scaleb(-2)},
        )
    connection.execute(
        text(
            "INSERT INTO journal_entries (id, posted_on, value_date, kind, memo, created_at) "
            "VALUES (:e, :on, :on, 'manual', '', '2026-12-01 00:00:00+00:00')"
        ),
        {"e": entry_id, "on": on},
    )


def test_the_database_refuses_an_unbalanced_entry_written_with_sql(app, setup):
    engine = get_engine(app)
    with pytest.raises(DBAPIError, match="balance"), engine.begin() as connection:
        _raw_entry(connection, 900, [("1100", 10_000), ("4100", -9_999)])
    with pytest.raises(DBAPIError, match="balance"), engine.begin() as connection:
        _raw_entry(connection, 901, [("1100", 10_000)])  # one leg
    with engine.begin() as connection:  # a balanced one goes in
        _raw_entry(connection, 902, [("1100", 10_000), ("4100", -10_000)])
    with Session(engine) as session:
        assert balances(session) == {"1100": D("100.00"), "4100": D("-100.00")}


def test_an_entry_is_immutable(app, setup):
    engine = get_engine(app)
    with engine.begin() as connection:
        _raw_entry(connection, 903, [("1100", 10_000), ("4100", -10_000)])
    for statement in (
        "UPDATE journal_lines SET amount = amount * 2",
        "DELETE FROM journal_lines",
        "UPDATE journal_entries SET posted_on = '2026-12-02'",
        "DELETE FROM journal_entries",
    ):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    # Nor can a line be slipped into it afterwards (on PostgreSQL the entry no longer
    # balances at commit; on SQLite the entry is already written).
    with pytest.raises(DBAPIError), engine.begin() as connection:
        ids = dict(connection.execute(text("SELECT code, id FROM gl_accounts")).all())
        sqlite = connection.dialect.name == "sqlite"
        connection.execute(
            text("INSERT INTO journal_lines (entry_id, account_id, amount) VALUES (903, :a, :m)"),
            {"a": ids["1100"], "m": 5 if sqlite else D("0.05")},
        )


def test_a_closed_period_refuses_entries_and_backdated_activity_posts_in_the_open_one(
    app, session, client, loan_id
):
    app.extensions["lending.clock"] = lambda: datetime(2027, 1, 3, 7, tzinfo=UTC)
    now = datetime(2027, 1, 3, 7, tzinfo=UTC)
    with pytest.raises(Exception, match="before today"):
        ledger.close_period(session, date(2027, 1, 3), user_id=None, now=now)
    ledger.close_period(session, date(2026, 12, 31), user_id=None, now=now)
    session.commit()
    with pytest.raises(Exception, match="already closed"):
        ledger.close_period(session, date(2026, 12, 31), user_id=None, now=now)
    engine = get_engine(app)
    with pytest.raises(DBAPIError, match="closed"), engine.begin() as connection:
        _raw_entry(connection, 904, [("1100", 100), ("4100", -100)], on="2026-12-31")
    with pytest.raises(DBAPIError, match="closed period"), engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO ledger_closes (closed_through, created_at) VALUES ('2026-12-01', "
                "'2027-01-03 00:00:00+00:00')"
            )  # fmt: skip
        )
    # A payment dated in December, recorded on 3 January: posted on the 3rd.
    answer = pay(client, loan_id, "6990.00", "k", paid_at="2026-12-20T12:00:00+05:00")
    assert answer.status_code == 201, answer.json
    assert entries(session, loan_id)[-1] == ("payment", date(2027, 1, 3), date(2026, 12, 20))
    # The December figures are what they were at the close.
    assert balances(session, date(2026, 12, 31))["1200"] == D("38499.00")


def test_the_night_fails_its_ledger_step_naming_a_loan_whose_books_differ(
    app, session, client, loan_id
):
    night(app, date(2026, 11, 29))
    with get_engine(app).begin() as connection:  # a bug writes a credit without an entry
        sqlite = connection.dialect.name == "sqlite"
        connection.execute(
            text("UPDATE loans SET credit_balance = :c WHERE id = :i"),
            {"c": 1234 if sqlite else D("12.34"), "i": loan_id},
        )
    with pytest.raises(ledger.OutOfBalance) as failed:
        night(app, date(2026, 11, 30))
    assert f"borrower_credit: ledger 0.00, loans -12.34 (loans {loan_id})" in str(failed.value)


# -- classification and provisions by the regulator profile ---------------------------------


def test_the_night_provisions_by_the_profile_and_posts_only_the_movement(
    app, session, client, loan_id
):
    """SBP microfinance banks, 2006 (the default): 1.5% general on performing loans, 25% on
    a substandard one (30-89 days)."""
    night(app, date(2026, 11, 29))
    assert balances(session)["1290"] == D("-577.49")  # 1.5% of 38,499.00 = 577.485
    assert balances(session)["5100"] == D("577.49")
    night(app, date(2026, 11, 30))  # nothing moved: no entry
    provisions = session.execute(
        select(func.count()).select_from(JournalEntry).where(JournalEntry.kind == "provision")
    ).scalar()
    assert provisions == 1
    night(app, date(2027, 1, 28))  # instalment 1 (due 28 December) unpaid: 31 days
    assert session.get(Loan, loan_id).classification == "substandard"
    assert balances(session)["1290"] == D("-9624.75")  # 25% of 38,499.00
    # Paid up: performing again, back to the general rate on what is left.
    app.extensions["lending.clock"] = lambda: datetime(2027, 1, 29, 7, tzinfo=UTC)
    session.expire_all()
    rows = session.execute(
        select(Instalment).where(Instalment.loan_id == loan_id, Instalment.due_date <= CURED)
    ).scalars()
    arrears = sum(
        (r.total - r.paid_principal - r.paid_profit - r.paid_fee + r.late_fee for r in rows), D(0)
    )
    assert arrears == D("14480.00")  # instalments 1 and 2, and instalment 1's Rs 500 fee
    answer = pay(client, loan_id, str(arrears), "cure", paid_at="2027-01-29T12:00:00+05:00")
    assert answer.status_code == 201, answer.json
    night(app, date(2027, 1, 29))
    loan = session.get(Loan, loan_id)
    assert loan.classification == "regular"
    principal, _, _ = paid(session, loan_id)
    left = D("38499.00") - principal
    expected = (left * D("0.015")).quantize(D("0.01"), rounding="ROUND_HALF_UP")
    assert balances(session)["1290"] == -expected
    assert ledger.tie_out(session.get_bind())["differences"] == 0


def test_another_profile_classifies_the_same_loan_otherwise(app, session, client, loan_id):
    """SBP consumer financing by banks: 31 days late is still performing (substandard from
    90 days), with a 5% general reserve on unsecured consumer loans."""
    previous = regulation.active().code
    regulation.activate("sbp-consumer-banks")
    try:
        night(app, date(2027, 1, 28))
        assert session.get(Loan, loan_id).classification == "regular"
        assert balances(session)["1290"] == D("-1924.95")  # 5% of 38,499.00
    finally:
        regulation.activate(previous)


def test_every_profile_cites_its_source_and_says_what_is_unconfirmed():
    for code, profile in regulation.profiles().items():
        assert profile.source and profile.regulator and profile.seen_in, code
        if not profile.confirmed:
            assert profile.note, code
        assert profile.bands[-1].from_dpd == 0
        assert profile.class_of(0) == profile.bands[-1].klass
    assert set(regulation.profiles()) == {
        "sbp-mfb-2006",
        "sbp-mfb-2014",
        "sbp-consumer-banks",
        "secp-nbfc",
    }
    with pytest.raises(regulation.UnknownProfile, match="known: sbp-consumer-banks"):
        regulation.profile("sbp-2099")


# -- write-off and recovery, maker-checker --------------------------------------------------


def test_a_write_off_takes_two_people_and_what_is_paid_after_it_is_a_recovery(
    app, session, client, loan_id
):
    url = f"/api/v1/loans/{loan_id}/write-offs"
    performing = client.post(url, json={"reason": "Gone abroad."}, headers=STAFF)
    assert performing.status_code == 409
    assert "Only a non-performing loan" in performing.json["message"]
    night(app, date(2027, 1, 28))  # 31 days past due: substandard, 25% provided
    assert balances(session)["1290"] == D("-9624.75")
    proposed = client.post(url, json={"reason": "Gone abroad, phone not found."}, headers=STAFF)
    assert proposed.status_code == 201, proposed.json
    assert (proposed.json["status"], proposed.json["amount"]) == ("pending", "38499.00")
    assert client.post(url, json={"reason": "Again."}, headers=STAFF).status_code == 409
    assert session.get(Loan, loan_id).status == "active"  # nothing moved yet
    decision = f"/api/v1/approvals/{proposed.json['id']}"
    mine = client.post(f"{decision}/approve", json={}, headers=STAFF)
    assert mine.status_code == 403 and "another must" in mine.json["message"]
    with pytest.raises(DBAPIError, match="four_eyes"), get_engine(app).begin() as connection:
        connection.execute(  # the database refuses it too
            text("UPDATE approvals SET decided_by_id = proposed_by_id, status = 'approved'")
        )
    app.extensions["lending.clock"] = lambda: datetime(2027, 1, 29, 7, tzinfo=UTC)
    done = client.post(f"{decision}/approve", json={"note": "Agreed."}, headers=ADMIN)
    assert done.status_code == 200, done.json
    session.expire_all()
    loan = session.get(Loan, loan_id)
    assert loan.status == "written_off"
    written = session.get(LoanTransaction, done.json["transaction_id"])
    assert (written.kind, written.amount, written.value_date) == (
        "write_off",
        D("38499.00"),
        date(2027, 1, 29),
    )
    books = balances(session)
    assert "1200" not in books  # the principal is off the books...
    assert books["1290"] == D("38499.00") - D("9624.75")  # ...charged to the allowance
    night(app, date(2027, 1, 29))  # nothing active is left to provide for
    books = balances(session)
    assert "1290" not in books and books["5100"] == D("38499.00")
    # The borrower comes back and pays: a recovery, income of its own.
    answer = pay(client, loan_id, "1000.00", "back", paid_at="2027-01-29T12:00:00+05:00")
    assert answer.status_code == 201, answer.json
    books = balances(session)
    assert books["4400"] == D("-1000.00")
    assert books["1111"] == D("769.98") + D("1000.00")
    assert "4100" not in books and "1200" not in books
    assert entries(session, loan_id)[-1][0] == "recovery"
    assert ledger.tie_out(session.get_bind())["differences"] == 0
    events = session.execute(
        select(AuditEvent.action)
        .where(AuditEvent.action.like("approval.%"))
        .order_by(AuditEvent.id)
    ).scalars()
    assert list(events) == ["approval.proposed", "approval.approved"]


def test_a_rejected_proposal_moves_nothing(session, client, loan_id):
    quote = client.get(f"/api/v1/loans/{loan_id}/payoff", headers=STAFF).json
    assert pay(client, loan_id, str(D(quote["total"]) + D("50.00")), "all").status_code == 201
    proposed = client.post(
        f"/api/v1/loans/{loan_id}/refunds",
        json={"amount": "50.00", "reason": "Back."},
        headers=STAFF,
    )
    assert proposed.status_code == 201
    before = balances(session)
    rejected = client.post(
        f"/api/v1/approvals/{proposed.json['id']}/reject",
        json={"note": "Pays next month's phone instead."},
        headers=ADMIN,
    )
    assert rejected.status_code == 200 and rejected.json["status"] == "rejected"
    assert balances(session) == before
    assert session.get(Loan, loan_id).credit_balance == D("50.00")
    listed = client.get("/api/v1/approvals?status=rejected", headers=ADMIN).json["approvals"]
    assert [a["id"] for a in listed] == [proposed.json["id"]]
    assert client.get("/api/v1/approvals?status=maybe", headers=ADMIN).status_code == 422
    assert client.post("/api/v1/approvals/999/approve", json={}, headers=ADMIN).status_code == 404


# -- the accrual basis -----------------------------------------------------------------------


@pytest.fixture
def accrual_basis():
    previous = regulation.basis()
    regulation.use_basis("accrual")
    yield
    regulation.use_basis(previous)


def profits(session, loan_id: int) -> list[Decimal]:
    session.expire_all()
    return list(
        session.execute(
            select(Instalment.profit).where(Instalment.loan_id == loan_id).order_by(Instalment.n)
        ).scalars()
    )


def test_on_the_accrual_basis_profit_is_income_when_due_and_suspended_when_non_performing(
    app, session, client, loan_id, accrual_basis
):
    one, two = profits(session, loan_id)[:2]
    night(app, date(2026, 12, 27))  # nothing due yet
    assert "1210" not in balances(session) and "4100" not in balances(session)
    night(app, date(2026, 12, 28))  # instalment 1 falls due: its profit is income
    assert balances(session)["1210"] == one
    assert balances(session)["4100"] == -one
    app.extensions["lending.clock"] = lambda: datetime(2026, 12, 28, 9, tzinfo=UTC)
    assert pay(client, loan_id, "6990.00", "k1", paid_at="2026-12-28T14:00:00+05:00").json
    assert "1210" not in balances(session)  # paid: the receivable is settled, income stays
    assert balances(session)["4100"] == -one
    assert ledger.tie_out(session.get_bind())["differences"] == 0
    night(app, date(2027, 1, 28))  # instalment 2 due, unpaid
    assert balances(session)["1210"] == two
    assert balances(session)["4100"] == -(one + two)
    night(app, date(2027, 2, 27))  # 30 days past due: non-performing, profit suspended
    assert session.get(Loan, loan_id).days_past_due == 30
    books = balances(session)
    assert "1210" not in books  # the accrued and unpaid profit taken back out of income
    assert books["4100"] == -one
    assert session.get(Loan, loan_id).profit_recognised == one
    assert ledger.tie_out(session.get_bind())["differences"] == 0
    accruals = session.execute(
        select(JournalEntry.posted_on)
        .where(JournalEntry.kind == "accrual")
        .order_by(JournalEntry.id)
    ).scalars()
    assert list(accruals) == [date(2026, 12, 28), date(2027, 1, 28), date(2027, 2, 27)]


def test_on_the_accrual_basis_a_write_off_takes_back_profit_accrued_and_unpaid(
    app, session, client, loan_id, accrual_basis
):
    """SBP consumer banks: non-performing, and profit suspended, from 90 days. At 63 days late
    the loan carries three instalments' accrued profit and cannot be written off; at 90 the
    suspension has taken it back, and the write-off leaves nothing behind."""
    previous = regulation.active().code
    regulation.activate("sbp-consumer-banks")
    try:
        one, two, three, four = profits(session, loan_id)[:4]
        night(app, date(2027, 3, 1))  # 63 days late, performing: 1, 2 and 3 (due 1 March)
        assert balances(session)["1210"] == one + two + three
        url = f"/api/v1/loans/{loan_id}/write-offs"
        assert client.post(url, json={"reason": "Gone."}, headers=STAFF).status_code == 409
        night(app, date(2027, 3, 28))  # 90 days: non-performing, suspended
        assert "1210" not in balances(session)
        proposed = client.post(url, json={"reason": "Gone."}, headers=STAFF).json
        app.extensions["lending.clock"] = lambda: datetime(2027, 3, 29, 7, tzinfo=UTC)
        done = client.post(f"/api/v1/approvals/{proposed['id']}/approve", json={}, headers=ADMIN)
        assert done.status_code == 200, done.json
        books = balances(session)
        assert "1210" not in books and "1200" not in books and "4100" not in books
        assert ledger.tie_out(session.get_bind())["differences"] == 0
    finally:
        regulation.activate(previous)


def test_on_the_accrual_basis_a_loan_settled_early_has_earned_what_it_paid(
    app, session, client, loan_id, accrual_basis
):
    """Settled on 10 December, before instalment 1 falls due: the profit of the 12 days it
    ran is paid ahead of any accrual, then recognised by the night as earned."""
    app.extensions["lending.clock"] = lambda: datetime(2026, 12, 10, 7, tzinfo=UTC)
    quote = client.get(f"/api/v1/loans/{loan_id}/payoff", headers=STAFF).json
    settled = pay(client, loan_id, quote["total"], "all", paid_at="2026-12-10T11:00:00+05:00")
    assert settled.json["loan_status"] == "settled", settled.json
    _, profit, _ = paid(session, loan_id)
    assert profit > 0
    assert balances(session)["1210"] == -profit  # received ahead of any due date
    night(app, date(2026, 12, 10))  # settled: what it paid is earned, nothing is owed
    books = balances(session)
    assert "1210" not in books and books["4100"] == -profit
    assert ledger.tie_out(session.get_bind())["differences"] == 0


def test_the_trial_balance_starts_from_the_nights_balances_and_equals_every_line(
    app, session, client, loan_id
):
    """Each night's ledger step records the balances; a trial balance adds what they do not
    hold: entries posted since, and entries recorded after the snapshot for earlier days."""
    night(app, date(2026, 12, 1))
    snapshots = session.execute(select(func.count()).select_from(GLBalance)).scalar()
    assert snapshots == session.execute(select(func.count()).select_from(GLAccount)).scalar()
    app.extensions["lending.clock"] = lambda: datetime(2026, 12, 3, 7, tzinfo=UTC)
    assert pay(client, loan_id, "3000.00", "a", paid_at="2026-12-03T10:00:00+05:00").json
    with get_engine(app).begin() as connection:  # recorded now, for a day the night had seen
        _raw_entry(connection, 950, [("1100", 70_000), ("4400", -70_000)], on="2026-11-30")
    for day in (date(2026, 11, 29), date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 5)):
        assert ledger.trial_balance(session, day) == ledger.trial_balance(
            session, day, from_scratch=True
        ), day
    assert balances(session, date(2026, 12, 1))["1100"] == D("700.00")
    night(app, date(2026, 12, 4))  # later nights start from the last one's balances
    for day in (date(2026, 12, 1), date(2026, 12, 4), date(2026, 12, 9)):
        assert ledger.trial_balance(session, day) == ledger.trial_balance(
            session, day, from_scratch=True
        ), day


def test_a_month_end_night_checks_the_balances_against_every_line(app, session, loan_id):
    """An entry written outside the ledger's posting with an id below those the night counted
    is invisible to the balances: the month-end night finds it and fails its ledger step."""
    night(app, date(2026, 11, 29))
    with get_engine(app).begin() as connection:
        _raw_entry(connection, 0, [("1100", 100), ("4400", -100)], on="2026-11-29")
    with pytest.raises(ledger.OutOfBalance, match="differ from the sum of the journal lines"):
        night(app, date(2026, 11, 30))
