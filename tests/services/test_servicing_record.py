"""The servicing record: regressions of what was seen from outside, on both databases.

The loan: 38,499.00 over 6 months on QIST-STD (36%, Rs 500 late fee after 3 grace days),
booked 2026-11-28 (12:00 Karachi); instalment 1 is 6,990.00, due 2026-12-28.
"""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session

from lending.db import get_engine
from lending.models import (
    AuditEvent,
    Instalment,
    JobRun,
    JournalEntry,
    Loan,
    LoanTransaction,
    OutboxMessage,
    Payment,
)
from lending.models.enums import TxnKind
from lending.services.nightly import verify
from lending.services.nightly.runner import NightlyConfig, run_nightly
from lending.services.receipts import import_receipts
from tests import factories as f
from tests.web.helpers import AGENT, NOW
from tests.web.servicing import STAFF, book_loan, callback, pay, signed, use_webhook_secret

CONFIG = NightlyConfig(device_webhook_url="http://127.0.0.1:9/devices")
DUE1 = date(2026, 12, 28)


@pytest.fixture
def loan_id(setup, client) -> int:
    return book_loan(client)


def night(app, day: date):
    app.extensions["lending.clock"] = lambda: datetime(day.year, day.month, day.day, 20, tzinfo=UTC)
    return run_nightly(get_engine(app), day, CONFIG)


def first(session, loan_id) -> Instalment:
    session.expire_all()
    return session.execute(
        select(Instalment).where(Instalment.loan_id == loan_id, Instalment.n == 1)
    ).scalar_one()


def kinds(session, loan_id) -> list[str]:
    session.expire_all()
    return [
        str(t.kind)
        for t in session.execute(
            select(LoanTransaction)
            .where(LoanTransaction.loan_id == loan_id)
            .order_by(LoanTransaction.id)
        ).scalars()
    ]


def test_paying_instalment_one_on_booking_day_is_never_late_charged_reminded_or_locked(
    app, session, client, loan_id
):
    assert pay(client, loan_id, "6990.00", "early").status_code == 201
    for day in (date(2026, 12, 25), DUE1, date(2027, 1, 2), date(2027, 2, 1)):
        night(app, day)
    item = first(session, loan_id)
    assert (item.paid_principal + item.paid_profit, item.late_fee) == (Decimal("6990.00"), 0)
    assert item.paid_on == date(2026, 11, 28)
    reminders = (
        session.execute(select(OutboxMessage.dedupe_key).where(OutboxMessage.loan_id == loan_id))
        .scalars()
        .all()
    )
    assert not [k for k in reminders if k.startswith(f"reminder:{item.id}:")]
    locks = session.execute(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.subject == "lock")
    ).scalar_one()
    assert locks == 0
    # Instalment 2 (due 28 January) was not paid: the night of 1 February counts it late.
    assert session.get(Loan, loan_id).days_past_due == 4


def test_payoff_after_paying_half_on_day_zero_charges_profit_only_on_what_is_left(
    app, session, client, loan_id
):
    assert session.get(Loan, loan_id).annual_rate == Decimal("30")
    assert pay(client, loan_id, "19249.50", "half").status_code == 201
    quote = client.get(f"/api/v1/loans/{loan_id}/payoff?as_of=2026-12-13", headers=AGENT).json
    # The loan is at 30% (36% less the local-phone programme's 6 points). 19,249.50 left for
    # 15 days: 19,249.50 x 0.30 x 15 / 365 = 237.3226 -> 237.32 (not a month on 38,499.00).
    assert quote["total"] == "19486.82"
    app.extensions["lending.clock"] = lambda: NOW + timedelta(days=15)
    doc = pay(
        client, loan_id, quote["total"], "rest", paid_at=(NOW + timedelta(days=15)).isoformat()
    ).json
    assert (doc["loan_status"], doc["unapplied"]) == ("settled", "0.00")


def test_a_settlement_row_paid_before_the_due_date_takes_the_late_fee_back(
    app, session, client, loan_id
):
    night(app, date(2027, 1, 2))  # instalment 1 unpaid past its grace days: Rs 500
    assert first(session, loan_id).late_fee == Decimal("500.00")
    paid_at = datetime(2026, 12, 27, 10, tzinfo=UTC)  # the wallet's file, four nights late
    report = import_receipts(
        session,
        "loan_id,amount,paid_at,channel,reference\n"
        f"{loan_id},6990.00,{paid_at.isoformat()},easypaisa,EP-1\n",
    )
    assert report.added == 1
    session.commit()
    night(app, date(2027, 1, 3))
    item = first(session, loan_id)
    assert (item.late_fee, item.paid_on) == (Decimal("0.00"), date(2026, 12, 27))
    assert kinds(session, loan_id) == ["disbursement", "late_fee", "payment", "late_fee_reversal"]
    assert session.get(Loan, loan_id).days_past_due == 0


def test_a_reversal_replays_the_later_payments_oldest_first(app, session, client, loan_id):
    app.extensions["lending.clock"] = lambda: datetime(2026, 12, 28, 6, tzinfo=UTC)
    one = pay(client, loan_id, "6990.00", "one", paid_at="2026-12-28T10:00:00+05:00").json
    two = pay(client, loan_id, "6990.00", "two", paid_at="2026-12-28T11:00:00+05:00").json
    response = client.post(
        f"/api/v1/payments/{one['payment_id']}/reverse", json={"reason": "Bounced."}, headers=STAFF
    )
    assert response.status_code == 200
    session.expire_all()
    rows = (
        session.execute(
            select(Instalment).where(Instalment.loan_id == loan_id).order_by(Instalment.n)
        )
        .scalars()
        .all()
    )
    assert rows[0].paid_on == date(2026, 12, 28)  # now paid by the second payment
    assert rows[1].paid_principal + rows[1].paid_profit == 0
    assert session.get(Loan, loan_id).days_past_due == 0  # the second payment covers it
    moved = session.execute(
        select(func.count())
        .select_from(LoanTransaction)
        .where(LoanTransaction.kind == TxnKind.REVERSAL)
    ).scalar_one()
    assert moved == 1 and two["payment_id"] != one["payment_id"]


def test_counter_and_gateway_channels_are_apart_and_clashes_say_nothing_of_others(
    app, session, client, loan_id
):
    wallet = pay(client, loan_id, "100.00", "w", channel="jazzcash", reference="JC-77")
    assert wallet.status_code == 422 and "channel" in wallet.json["errors"]
    receipt = pay(client, loan_id, "100.00", "r1", reference="SHOP-1")
    assert receipt.status_code == 201
    use_webhook_secret(app)  # the gateway's own reference is untouched by the shop's numbers
    raw, headers = signed(callback(loan_id, "100.00", "SHOP-1"))
    assert client.post("/api/v1/webhooks/payments", data=raw, headers=headers).status_code == 201
    counter = {**callback(loan_id, "100.00", "JC-78"), "channel": "cash"}
    raw, headers = signed(counter)
    refused = client.post("/api/v1/webhooks/payments", data=raw, headers=headers)
    assert refused.status_code == 422 and "channel" in refused.json["errors"]
    other = book_loan(
        client, applicant__cnic="42101-7654321-9", device__imei=f.imei(283, "86711205")
    )
    clash = pay(client, other, "100.00", "r2", reference="SHOP-1")
    assert clash.status_code == 409
    message = clash.json["message"]
    assert str(loan_id) not in message and "100" not in message
    # Another shop's loans have their own receipt numbers.
    shop = f.UserFactory(retailer=True)
    f.ApiTokenFactory(user_id=shop.id, token="lnd_second_shop")
    assert session.execute(select(func.count()).select_from(Payment)).scalar_one() == 2


def test_the_database_refuses_impossible_amounts(app, session, loan_id):
    engine = get_engine(app)
    item = first(session, loan_id)
    for statement in (
        f"UPDATE instalments SET paid_principal = principal + 1 WHERE id = {item.id}",
        f"UPDATE instalments SET paid_profit = -1 WHERE id = {item.id}",
        f"UPDATE instalments SET late_fee_waived = 1 WHERE id = {item.id}",
        f"UPDATE loans SET credit_balance = -1 WHERE id = {loan_id}",
    ):
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(text(statement))


def test_money_records_are_append_only(app, session, client, loan_id):
    pay(client, loan_id, "100.00", "k")
    engine = get_engine(app)
    for statement in (
        "UPDATE loan_transactions SET amount = 1",
        "DELETE FROM loan_transactions",
        "UPDATE payment_allocations SET principal = 0",
        "DELETE FROM payment_allocations",
    ):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))


def test_the_nightly_check_reports_a_stored_state_that_is_not_the_replay(
    app, session, client, loan_id
):
    pay(client, loan_id, "3000.00", "k")
    engine = get_engine(app)
    day = date(2026, 11, 29)
    assert verify.verify(engine, day) == {"loans": 1, "mismatches": 0}
    with engine.begin() as conn:  # a hand edit that every CHECK allows
        conn.execute(
            text("UPDATE instalments SET paid_profit = 0 WHERE loan_id = :id"), {"id": loan_id}
        )
    assert verify.verify(engine, day) == {"loans": 1, "mismatches": 1}
    with Session(engine) as db:
        event = db.execute(
            select(AuditEvent).where(AuditEvent.action == "replay.mismatch")
        ).scalar_one()
    assert "instalment 1 paid_profit: stored 0.00, replay 962.48" in event.detail["differences"]


def test_the_nightly_check_in_worker_processes_finds_the_same(
    app, setup, client, backend, monkeypatch
):
    """Several processes claim the check's batches (one loan a batch here) and report and
    audit exactly what one process would."""
    if backend != "postgresql":
        pytest.skip("several workers are for PostgreSQL")
    ids = [book_loan(client)]
    for n in (2, 3):
        ids.append(
            book_loan(client, applicant__cnic=f.cnic(n), device__imei=f.imei(n, "35332716"))
        )
    for k, loan_id in enumerate(ids):
        pay(client, loan_id, "3000.00", f"k{k}")
    engine, day = get_engine(app), date(2026, 11, 29)
    workers = verify.Parallel(2, app.config["DATABASE_URL"])
    monkeypatch.setattr(verify, "BATCH", 1)
    assert verify.verify(engine, day, parallel=workers) == {"loans": 3, "mismatches": 0}
    with engine.begin() as conn:  # a hand edit of the middle loan
        conn.execute(
            text("UPDATE instalments SET paid_profit = 0 WHERE loan_id = :id"), {"id": ids[1]}
        )
    assert verify.verify(engine, day, parallel=workers) == {"loans": 3, "mismatches": 1}
    assert verify.verify(engine, day) == {"loans": 3, "mismatches": 1}
    with Session(engine) as db:
        flagged = db.execute(
            select(AuditEvent.object_id).where(AuditEvent.action == "replay.mismatch")
        ).scalars()
        assert sorted(flagged) == [str(ids[1])] * 2
        batches = db.execute(text("SELECT count(*), bool_and(done) FROM job_batches")).one()
    assert tuple(batches) == (3, True)


def test_the_day_check_reports_a_difference_within_minutes_and_the_night_reads_on_from_it(
    app, session, client, loan_id
):
    """The scheduler's replay check replays the loans touched since the last check (a minute
    of overlap); the night then reads from where the day's check left off."""
    from lending.services.nightly.runner import replay_check

    engine = get_engine(app)
    pay(client, loan_id, "3000.00", "k1")  # recorded at NOW, 2026-11-28 12:00 Karachi
    clock = {"now": NOW + timedelta(minutes=5)}
    config = replace(CONFIG, clock=lambda: clock["now"])
    assert replay_check(engine, config) == {
        "loans": 1, "mismatches": 0, "through": clock["now"].isoformat()
    }
    clock["now"] += timedelta(minutes=5)  # nothing new since: nothing to replay
    assert replay_check(engine, config)["loans"] == 0
    with engine.begin() as conn:  # a hand edit that every CHECK allows, then a new input
        conn.execute(
            text("UPDATE instalments SET paid_profit = 0 WHERE loan_id = :id"), {"id": loan_id}
        )
    app.extensions["lending.clock"] = lambda: NOW + timedelta(minutes=12)
    pay(client, loan_id, "10.00", "k2")
    clock["now"] = NOW + timedelta(minutes=15)
    assert replay_check(engine, config)["mismatches"] == 1
    with Session(engine) as db:
        runs = db.execute(
            select(JobRun.job, JobRun.status).where(JobRun.job == "replay_check")
        ).all()
        assert [tuple(r) for r in runs] == [("replay_check", "succeeded")] * 3
        event = db.execute(
            select(AuditEvent).where(AuditEvent.action == "replay.mismatch")
        ).scalar_one()
    assert event.object_id == str(loan_id)
    # The night reads inputs from a minute before the day's last check: none since, and the
    # loan is not in that night's thirtieth of the book.
    day = next(
        date(2026, 11, 28) + timedelta(days=k)
        for k in range(1, 31)
        if loan_id % 30 != (date(2026, 11, 28) + timedelta(days=k)).toordinal() % 30
    )
    night_clock = replace(CONFIG, clock=lambda: NOW + timedelta(minutes=20))
    [result] = run_nightly(engine, day, night_clock)
    assert (result["verify"]["loans"], result["verify"]["mismatches"]) == (0, 0)
    assert result["verify"]["through"] == (NOW + timedelta(minutes=20)).isoformat()


def test_migration_0007_moves_a_serviced_book_and_its_replay_agrees(
    app, session, client, loan_id, database_url
):
    """Down to 0006 (late fees back to `fees`, allocations as first written) and up again:
    0007's data move rebuilds the transactions, and every loan equals its replay."""
    from lending.migrate import downgrade, upgrade

    app.extensions["lending.clock"] = lambda: datetime(2027, 1, 5, 6, tzinfo=UTC)
    night(app, date(2027, 1, 2))  # instalment 1 late: Rs 500
    app.extensions["lending.clock"] = lambda: datetime(2027, 1, 5, 6, tzinfo=UTC)
    paid = pay(client, loan_id, "3000.00", "a", paid_at="2027-01-05T10:00:00+05:00").json
    pay(client, loan_id, "4000.00", "b", paid_at="2027-01-05T11:00:00+05:00")
    client.post(
        f"/api/v1/payments/{paid['payment_id']}/reverse", json={"reason": "Bounced."}, headers=STAFF
    )
    before = [
        (i.n, i.paid_principal, i.paid_profit, i.paid_late_fee, i.late_fee)
        for i in session.execute(select(Instalment).order_by(Instalment.id)).scalars()
    ]
    session.close()
    get_engine(app).dispose()
    downgrade(database_url, "0006")
    upgrade(database_url)
    with Session(get_engine(app)) as db:
        after = [
            (i.n, i.paid_principal, i.paid_profit, i.paid_late_fee, i.late_fee)
            for i in db.execute(select(Instalment).order_by(Instalment.id)).scalars()
        ]
        loans = db.execute(select(Loan)).scalars().all()
        results = list(verify.check(db, loans, date(2027, 1, 5)))
    assert after == before
    assert [d for _, d in results] == [[]]
    # The ledger of a book migrated from before it: one opening entry states the loan's
    # history (booking, money received, where it went) and one its subsidy, and every
    # control account ties out to its sub-ledger.
    from lending.services import ledger

    with Session(get_engine(app)) as db:
        kinds_posted = db.execute(select(JournalEntry.kind).order_by(JournalEntry.id)).scalars()
        assert list(kinds_posted) == ["opening", "opening"]
        assert ledger.trial_balance(db, date(2099, 1, 1)).balanced
    assert ledger.tie_out(get_engine(app))["differences"] == 0


def test_a_receipt_dated_before_a_fee_the_night_charged_replays_it_away(
    app, session, client, loan_id
):
    """The payment path resumes from the stored state only for payments dated after every
    stored transaction, the night's fee charges included (found by scripts/simulate.py)."""
    app.extensions["lending.clock"] = lambda: datetime(2026, 12, 20, 7, tzinfo=UTC)
    assert pay(client, loan_id, "500.00", "part", paid_at="2026-12-20T12:00:00+05:00")
    night(app, date(2027, 1, 2))  # instalment 1 still short: Rs 500 on 1 January
    assert first(session, loan_id).late_fee == Decimal("500.00")
    paid_at = datetime(2026, 12, 27, 10, tzinfo=UTC)  # after the counter payment, before the fee
    report = import_receipts(
        session,
        "loan_id,amount,paid_at,channel,reference\n"
        f"{loan_id},6490.00,{paid_at.isoformat()},easypaisa,EP-9\n",
    )
    assert report.added == 1
    session.commit()
    night(app, date(2027, 1, 3))
    item = first(session, loan_id)
    assert (item.late_fee, item.paid_late_fee, item.paid_on) == (0, 0, date(2026, 12, 27))
    assert kinds(session, loan_id)[-1] == "late_fee_reversal"
    with Session(get_engine(app)) as db:
        assert [d for _, d in verify.check(db, [db.get(Loan, loan_id)], date(2027, 1, 3))] == [[]]
