"""The nightly run: ageing, late fees, reminders, device signals, closing; safe to repeat."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlmodel import Session, func, select

from lending.db import get_engine
from lending.models import (
    JobRun,
    Loan,
    LoanSnapshot,
    LoanTransaction,
    OutboxMessage,
    PaymentReceipt,
)
from lending.models.enums import Bucket, Classification, LoanStatus, TxnKind
from lending.services.nightly import late_fees, verify
from lending.services.nightly.runner import NightlyConfig, run_nightly
from lending.services.receipts import import_receipts
from tests import factories as f
from tests.web.helpers import AGENT, body, post

CONFIG = NightlyConfig(device_webhook_url="http://127.0.0.1:9/devices")


@pytest.fixture
def loans(setup, session, client):
    """Three loans booked on 2026-11-28, first instalments due 2026-12-28: two conventional
    (one of a borrower with an e-mail address, writing in Urdu) and one Murabaha."""
    specs = [
        body(),
        body(applicant__cnic="42101-7654321-9", applicant__email="sana@example.pk",
             applicant__language="ur", device__imei=f.imei(283, "86711205")),
        body(applicant__cnic="61101-1111111-1", device__imei=f.imei(330, "35846711"),
             product_code="MURABAHA-12", tenor=6, down_payment="11000.00"),
    ]
    ids = []
    for spec in specs:
        doc = post(client, spec).json
        assert doc["status"] == "approved", doc
        ids.append(client.post(f"/api/v1/applications/{doc['id']}/accept",
                               headers=AGENT).json["loan_id"])
    return ids


def night(app, day: date):
    return run_nightly(get_engine(app), day, CONFIG)


def count(session, model, *where) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(model).where(*where)).one()


def pay(session, loan_id: int, amount: str, on: datetime, ref: str):
    report = import_receipts(session, f"loan_id,amount,paid_at,channel,reference\n"
                                      f"{loan_id},{amount},{on.isoformat()},jazzcash,{ref}\n")
    assert report.added == 1, report.lines()
    session.commit()


def test_ageing_buckets_and_classification(app, session, loans):
    night(app, date(2027, 1, 10))
    session.expire_all()
    loan = session.get(Loan, loans[0])
    assert (loan.days_past_due, loan.bucket, loan.classification) == (
        13, Bucket.DPD_1_30, Classification.WATCH)
    night(app, date(2027, 3, 1))  # Dec 28, Jan 28 and Feb 28 unpaid: 63 days from Dec 28
    session.expire_all()
    loan = session.get(Loan, loans[0])
    assert (loan.days_past_due, loan.bucket, loan.classification) == (
        63, Bucket.DPD_61_90, Classification.SUBSTANDARD)


def late_fees_charged(session, *where) -> list[tuple]:
    """The late-fee charges (loan transactions): loan, instalment, amount, value date."""
    session.expire_all()
    return [tuple(r) for r in session.exec(
        select(LoanTransaction.loan_id, LoanTransaction.instalment_n, LoanTransaction.amount,
               LoanTransaction.value_date)
        .where(LoanTransaction.kind == TxnKind.LATE_FEE, *where).order_by(LoanTransaction.id))]


def test_late_fee_once_per_overdue_instalment_after_grace(app, session, loans):
    night(app, date(2026, 12, 31))  # three days of grace after Dec 28: no fee yet
    assert late_fees_charged(session) == []
    counts = night(app, date(2027, 1, 1))[0]["late_fees"]
    on = date(2027, 1, 1)
    assert late_fees_charged(session) == [
        (loans[0], 1, Decimal("500.00"), on), (loans[1], 1, Decimal("500.00"), on),
        (loans[2], 1, Decimal("300.00"), on)]
    assert (counts["fees"], counts["charity"]) == (3, 1)  # Murabaha: the charge goes to charity
    night(app, date(2027, 1, 1))
    night(app, date(2027, 1, 5))
    assert len(late_fees_charged(session)) == 3


def test_reminders_once_per_instalment_offset_and_channel_in_the_borrowers_language(
    app, session, loans
):
    night(app, date(2026, 12, 25))  # three days before the first due date
    messages = session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert sorted(m.channel for m in messages) == ["email", "sms", "sms", "sms"]
    urdu = next(m for m in messages if m.channel == "email")
    assert urdu.recipient == "sana@example.pk" and "قسط" in urdu.body
    english = next(m for m in messages if m.loan_id == loans[0])
    assert "is due on 28 Dec 2026" in english.body and "Rs\u00a0" in english.body
    night(app, date(2026, 12, 25))
    assert count(session, OutboxMessage) == 4


def test_a_night_run_again_reads_the_queued_keys_in_chunks_and_queues_nothing_twice(
    app, session, loans, monkeypatch
):
    """The keys already queued are read back a chunk at a time (a statement takes only so many
    parameters); with chunks of one, the four reminders of the first run are all found."""
    from lending.services.nightly import reminders

    night(app, date(2026, 12, 25))
    monkeypatch.setattr(reminders, "KEY_CHUNK", 1)
    night(app, date(2026, 12, 25))
    assert count(session, OutboxMessage) == 4


def test_lock_past_threshold_unlock_when_cured_release_when_paid(app, session, loans):
    night(app, date(2027, 1, 27))  # 30 days past Dec 28: the threshold
    locks = session.exec(select(OutboxMessage).where(OutboxMessage.subject == "lock")).all()
    assert sorted(m.loan_id for m in locks) == sorted(loans)
    assert locks[0].payload["event"] == "lock"
    loan = session.get(Loan, loans[0])
    owed = sum(i.total for i in _instalments(session, loan.id, 2)) + Decimal("500.00")
    pay(session, loans[0], str(owed), datetime(2027, 1, 29, 6, tzinfo=UTC), "JC-CURE")
    night(app, date(2027, 1, 29))
    unlock = session.exec(select(OutboxMessage).where(OutboxMessage.subject == "unlock")).one()
    assert unlock.loan_id == loans[0]
    session.expire_all()
    assert session.get(Loan, loans[0]).device_locked is False


def _instalments(session, loan_id: int, upto: int):
    from lending.models import Instalment

    return session.exec(select(Instalment).where(Instalment.loan_id == loan_id,
                                                 Instalment.n <= upto)).all()


def test_a_borrower_whose_payment_arrived_is_never_locked(app, session, loans):
    night(app, date(2027, 1, 26))
    first = _instalments(session, loans[0], 1)[0]
    # Paid the day before the threshold; the wallet reports it in the night's settlement file.
    pay(session, loans[0], str(first.total + Decimal("500.00")),
        datetime(2027, 1, 26, 12, tzinfo=UTC), "EP-1")
    night(app, date(2027, 1, 27))
    assert session.exec(select(PaymentReceipt)).one().status == "posted"
    locked = {m.loan_id for m in session.exec(
        select(OutboxMessage).where(OutboxMessage.subject == "lock"))}
    assert loans[0] not in locked and loans[1] in locked


def test_paid_in_full_is_closed_and_released(app, session, loans):
    from lending.models import Instalment

    items = session.exec(select(Instalment).where(Instalment.loan_id == loans[0])).all()
    total = sum(i.total for i in items)
    pay(session, loans[0], str(total), datetime(2026, 12, 1, 6, tzinfo=UTC), "JC-ALL")
    night(app, date(2026, 12, 1))
    session.expire_all()
    assert session.get(Loan, loans[0]).status in (LoanStatus.CLOSED, LoanStatus.SETTLED)
    release = session.exec(select(OutboxMessage).where(OutboxMessage.subject == "release")).one()
    assert release.loan_id == loans[0]
    night(app, date(2026, 12, 2))
    assert count(session, OutboxMessage, OutboxMessage.subject == "release") == 1


def test_a_late_fee_owed_on_an_instalment_keeps_the_loan_open(app, session):
    from lending.services.nightly.closing import close_paid

    paid = {"paid_principal": Decimal("3000.00"), "paid_profit": Decimal("1145.00")}
    owing, waived = f.LoanFactory(), f.LoanFactory()
    f.InstalmentFactory(loan_id=owing.id, n=1, late_fee=Decimal("500.00"),
                        paid_late_fee=Decimal("200.00"), **paid)
    f.InstalmentFactory(loan_id=waived.id, n=1, late_fee=Decimal("500.00"),
                        late_fee_waived=Decimal("300.00"), paid_late_fee=Decimal("200.00"),
                        **paid)
    assert close_paid(get_engine(app), date(2026, 3, 31)) == {"closed": 1}  # a month end
    session.expire_all()
    assert session.get(Loan, owing.id).status == LoanStatus.ACTIVE
    assert session.get(Loan, waived.id).status == LoanStatus.CLOSED


def test_closing_looks_at_touched_loans_nightly_and_the_whole_book_at_month_end(app, session):
    from lending.models import LoanTransaction
    from lending.models.enums import TxnKind
    from lending.services.nightly.closing import close_paid

    paid = {"paid_principal": Decimal("3000.00"), "paid_profit": Decimal("1145.00")}
    touched, untouched = f.LoanFactory(), f.LoanFactory()
    for loan in (touched, untouched):
        f.InstalmentFactory(loan_id=loan.id, n=1, **paid)
    session.add(LoanTransaction(  # recorded the day before the night
        loan_id=touched.id, kind=TxnKind.PAYMENT, value_date=date(2026, 3, 9),
        amount=Decimal("4145.00"), created_at=datetime(2026, 3, 9, 10, tzinfo=UTC)))
    session.commit()
    engine = get_engine(app)
    assert close_paid(engine, date(2026, 3, 10)) == {"closed": 1}
    assert close_paid(engine, date(2026, 3, 11)) == {"closed": 0}  # touched two nights ago
    session.expire_all()
    assert session.get(Loan, touched.id).status == LoanStatus.CLOSED
    assert session.get(Loan, untouched.id).status == LoanStatus.ACTIVE
    assert close_paid(engine, date(2026, 3, 31)) == {"closed": 1}
    session.expire_all()
    assert session.get(Loan, untouched.id).status == LoanStatus.CLOSED


def test_each_step_is_a_job_run_and_missed_dates_are_caught_up_in_order(app, session, loans):
    night(app, date(2026, 12, 1))
    results = night(app, date(2026, 12, 4))
    assert [r["as_of"] for r in results] == ["2026-12-02", "2026-12-03", "2026-12-04"]
    runs = session.exec(select(JobRun).where(JobRun.as_of == date(2026, 12, 4))
                        .order_by(JobRun.id)).all()
    assert [r.job for r in runs] == ["nightly", "nightly.reconcile", "nightly.ageing",
                                     "nightly.late_fees", "nightly.reminders",
                                     "nightly.device_signals", "nightly.close",
                                     "nightly.accrual", "nightly.provisions", "nightly.verify",
                                     "nightly.ledger"]
    assert all(r.status == "succeeded" and r.duration_ms is not None for r in runs)
    # The first night's ageing read the whole book; each later one, the loans that can have
    # changed since the night before it.
    first = session.exec(select(JobRun).where(JobRun.as_of == date(2026, 12, 1),
                                              JobRun.job == "nightly.ageing")).one()
    assert first.counts["loans"] == 3 and "since" not in first.counts
    assert runs[2].counts["since"] == "2026-12-03"


def test_month_end_writes_snapshots_once(app, session, loans):
    night(app, date(2026, 12, 31))
    night(app, date(2026, 12, 31))
    assert count(session, LoanSnapshot, LoanSnapshot.as_of == date(2026, 12, 31)) == 3


def state(session) -> tuple:
    """What a night leaves behind, for comparing runs."""
    session.expire_all()
    loans = session.exec(select(Loan.id, Loan.days_past_due, Loan.bucket, Loan.device_locked,
                                Loan.status).order_by(Loan.id)).all()
    fees = session.exec(select(LoanTransaction.loan_id, LoanTransaction.instalment_n,
                               LoanTransaction.amount)
                        .where(LoanTransaction.kind == TxnKind.LATE_FEE)
                        .order_by(LoanTransaction.loan_id, LoanTransaction.instalment_n)).all()
    outbox = session.exec(select(OutboxMessage.dedupe_key, OutboxMessage.body)
                          .order_by(OutboxMessage.dedupe_key)).all()
    return tuple(map(tuple, loans)), tuple(map(tuple, fees)), tuple(map(tuple, outbox))


def test_a_run_killed_midway_and_run_again_ends_as_an_uninterrupted_run(
    app, session, loans, monkeypatch
):
    day = date(2027, 1, 28)  # every loan's instalment 1 is past its grace days
    real = late_fees.charge_range
    calls = {"n": 0}

    def dies_after_first_batch(*args, **kwargs):
        calls["n"] += 1
        real(*args, **kwargs)
        raise KeyboardInterrupt("killed")  # after the batch's work, before its commit

    monkeypatch.setattr(late_fees, "charge_range", dies_after_first_batch)
    with pytest.raises(KeyboardInterrupt):
        night(app, day)
    monkeypatch.setattr(late_fees, "charge_range", real)
    assert calls["n"] == 1 and count(session, LoanTransaction,
                                     LoanTransaction.kind == TxnKind.LATE_FEE) == 0
    failed = session.exec(select(JobRun).where(JobRun.job == "nightly.late_fees")).one()
    assert failed.status == "running"  # killed: never finished
    night(app, day)
    expected = state(session)
    # One fee per loan's first instalment, as an uninterrupted night charges them.
    assert [(n, amount) for _, n, amount in expected[1]] == [
        (1, Decimal("500.00")), (1, Decimal("500.00")), (1, Decimal("300.00"))]
    with Session(get_engine(app)) as db:
        books = db.exec(select(Loan)).all()
        assert [d for _, d in verify.check(db, books, day)] == [[], [], []]
    night(app, day)  # and once more: nothing changes
    assert state(session) == expected


def test_an_edited_product_does_not_reach_booked_loans(app, session, loans):
    from lending.models import Product

    product = session.exec(select(Product).where(Product.code == "QIST-STD")).one()
    product.late_fee_fixed, product.lock_after_dpd = Decimal("900.00"), 5
    product.reminder_offsets = [-10]
    product.version += 1  # an edit makes a new version; the booked loans keep version 1
    session.commit()
    night(app, date(2026, 12, 25))  # -3 under version 1 still reminds
    assert count(session, OutboxMessage, OutboxMessage.dedupe_key.like("reminder:%")) == 4
    night(app, date(2027, 1, 1))
    fees = late_fees_charged(session, LoanTransaction.loan_id == loans[0])
    assert [amount for _loan, _n, amount, _on in fees] == [Decimal("500.00")]
    assert count(session, OutboxMessage, OutboxMessage.subject == "lock") == 0  # 4 days < 30
