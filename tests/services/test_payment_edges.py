"""Payments at the edges the rest of the suite does not reach: a gateway's clock a little
ahead of ours, each shop's own receipt numbers, and a settlement file with several rows for
one loan around a counter payment (posted in one replay), on both databases.

The loan (tests/services/test_servicing_record.py): 38,499.00 over 6 months on QIST-STD,
booked 2026-11-28 12:00 Karachi (07:00 UTC, the pinned clock); instalment 1 is 6,990.00, due
2026-12-28.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from lending.db import get_engine
from lending.errors import Conflict, InvalidInput
from lending.models import AuditEvent, Instalment, Loan, LoanTransaction, Payment, PaymentAllocation
from lending.models.enums import PaymentChannel, TxnKind
from lending.services import payments
from lending.services.nightly import verify
from lending.services.payments import PaymentRequest, Reversal, post_payment, reverse_payment
from lending.services.receipts import import_receipts
from tests import factories as f
from tests.services.test_servicing_record import first, night
from tests.web.helpers import AGENT, NOW, body, post
from tests.web.servicing import STAFF, book_loan, callback, pay, signed, use_webhook_secret

CASH = PaymentChannel.CASH
KARACHI = "Asia/Karachi"


@pytest.fixture
def loan_id(setup, client) -> int:
    return book_loan(client)


def wallet_file(session, loan_id: int, *rows: tuple[str, str]) -> None:
    """A wallet's settlement file: (amount, day paid at 10:00 Karachi) per row, imported."""
    lines = [
        f"{loan_id},{amount},{day}T10:00:00+05:00,easypaisa,EP-{k}"
        for k, (amount, day) in enumerate(rows, start=1)
    ]
    text = "loan_id,amount,paid_at,channel,reference\n" + "\n".join(lines) + "\n"
    assert import_receipts(session, text).added == len(rows)
    session.commit()


def allocated(session, payment_id: int) -> dict[int, Decimal]:
    """What a payment's allocation rows add up to, by instalment number (0s left out)."""
    part = PaymentAllocation
    rows = session.execute(
        select(Instalment.n, func.sum(part.principal + part.profit + part.fee + part.late_fee))
        .join(Instalment, Instalment.id == part.instalment_id)
        .where(part.payment_id == payment_id)
        .group_by(Instalment.n)
    ).all()
    return {n: Decimal(total) for n, total in rows if total}


def assert_stored_state_is_its_replay(session, loan_id: int, on: date) -> None:
    """What the loan's rows say is what a replay of its transactions from scratch says."""
    loan = session.get(Loan, loan_id)
    assert [differences for _, differences in verify.check(session, [loan], on)] == [[]]


def test_a_payment_up_to_five_minutes_ahead_of_our_clock_is_taken(client, loan_id):
    """A rail's clock may run a little ahead of ours: five minutes, not a second more."""
    ahead = pay(client, loan_id, "100.00", "a", paid_at=(NOW + timedelta(minutes=5)).isoformat())
    assert ahead.status_code == 201
    late = NOW + timedelta(minutes=5, seconds=1)
    refused = pay(client, loan_id, "100.00", "b", paid_at=late.isoformat())
    assert refused.status_code == 422
    assert refused.json["errors"] == {"paid_at": ["A payment cannot be made in the future."]}


def test_each_shop_numbers_its_own_receipts(session, client, loan_id):
    """Shop A's receipt SHOP-1 does not stop shop B writing its own SHOP-1 on its loan."""
    assert pay(client, loan_id, "100.00", "r1", reference="SHOP-1").status_code == 201
    shop = f.UserFactory(retailer=True)
    f.ApiTokenFactory(user_id=shop.id, token="lnd_second_shop")
    other = {"Authorization": "Bearer lnd_second_shop"}
    doc = body(applicant__cnic="42101-7654321-9", device__imei=f.imei(283, "86711205"))
    application = post(client, doc, headers=other).json
    accepted = client.post(f"/api/v1/applications/{application['id']}/accept", headers=other)
    assert accepted.status_code == 201, accepted.json
    theirs = accepted.json["loan_id"]
    assert session.get(Loan, theirs).retailer_id == shop.retailer_id
    again = pay(client, theirs, "100.00", "r2", headers=other, reference="SHOP-1")
    assert again.status_code == 201, again.json
    refs = session.execute(select(Payment.reference, Payment.scope).order_by(Payment.id)).all()
    assert [r.reference for r in refs] == ["SHOP-1", "SHOP-1"]
    assert refs[0].scope != refs[1].scope


def test_a_file_with_two_rows_for_a_loan_on_either_side_of_a_counter_payment(
    app, session, client, loan_id
):
    """1,000.00 at the counter on 3 December; the wallet's file, read on the night of 6
    December, has 2,000.00 paid on 1 December and 3,990.00 on 5 December: both rows are posted
    in one replay (the first is dated before the counter payment, so the history is replayed),
    and instalment 1, 6,990.00 in all, is paid on 5 December, ahead of its due date."""
    app.extensions["lending.clock"] = lambda: datetime(2026, 12, 6, 7, tzinfo=UTC)
    counter = pay(client, loan_id, "1000.00", "c", paid_at="2026-12-03T10:00:00+05:00")
    assert counter.status_code == 201
    wallet_file(session, loan_id, ("2000.00", "2026-12-01"), ("3990.00", "2026-12-05"))
    night(app, date(2026, 12, 6))
    session.expire_all()
    payments = session.execute(select(Payment).order_by(Payment.paid_at)).scalars().all()
    assert [(p.amount, p.unapplied) for p in payments] == [
        (Decimal("2000.00"), 0),
        (Decimal("1000.00"), 0),
        (Decimal("3990.00"), 0),
    ]
    for payment in payments:  # each payment's allocation is what it paid
        assert allocated(session, payment.id) == {1: payment.amount}
    item = first(session, loan_id)
    assert (item.paid_principal + item.paid_profit, item.paid_on) == (
        Decimal("6990.00"),
        date(2026, 12, 5),
    )
    assert_stored_state_is_its_replay(session, loan_id, date(2026, 12, 6))


def test_a_file_row_dated_before_a_fee_replays_it_away_beside_a_later_row(
    app, session, client, loan_id
):
    """Instalment 1 unpaid: the night of 2 January charges Rs 500. 100.00 is paid at the
    counter on 3 January. The wallet's file then brings 6,990.00 paid on 27 December (before
    the due date) and 100.00 on 4 January: posted together, the earlier row takes the fee back
    (the whole history is replayed, not resumed from the stored state)."""
    night(app, date(2027, 1, 2))
    assert first(session, loan_id).late_fee == Decimal("500.00")
    aged = session.get(Loan, loan_id)
    assert (aged.days_past_due, aged.bucket, aged.classification) == (5, "1-30", "watch")
    app.extensions["lending.clock"] = lambda: datetime(2027, 1, 4, 12, tzinfo=UTC)
    counter = pay(client, loan_id, "100.00", "c", paid_at="2027-01-03T10:00:00+05:00")
    assert counter.status_code == 201
    wallet_file(session, loan_id, ("6990.00", "2026-12-27"), ("100.00", "2027-01-04"))
    night(app, date(2027, 1, 4))
    item = first(session, loan_id)
    assert (item.late_fee, item.paid_on) == (Decimal("0.00"), date(2026, 12, 27))
    loan = session.get(Loan, loan_id)
    assert (loan.days_past_due, loan.bucket, loan.classification) == (0, "current", "regular")
    assert_stored_state_is_its_replay(session, loan_id, date(2027, 1, 4))
    # The replay that took the fee back says so in the audit trail, as the night's charge did.
    actions = session.execute(
        select(AuditEvent.action, AuditEvent.after)
        .where(AuditEvent.object_type == "loans", AuditEvent.object_id == loan_id)
        .where(AuditEvent.action.like("fee.%"))
        .order_by(AuditEvent.id)
    ).all()
    assert [a.action for a in actions][-1] == "fee.reversed"
    assert actions[-1].after == {"instalment": 1, "amount": "500.00", "charity": False}


def test_a_loan_paid_off_on_its_last_due_date_is_closed_not_settled_early(
    app, session, client, loan_id
):
    """Paid in full on the sixth and last due date, 29 May 2027 (28 May, Youm-e-Takbeer, rolled
    to the next working day): it ran its course (CLOSED); a
    day earlier it would have been settled early (SETTLED)."""
    app.extensions["lending.clock"] = lambda: datetime(2027, 5, 29, 7, tzinfo=UTC)
    quote = client.get(f"/api/v1/loans/{loan_id}/payoff?as_of=2027-05-29", headers=AGENT).json
    doc = pay(client, loan_id, quote["total"], "all", paid_at="2027-05-29T12:00:00+05:00").json
    assert doc["loan_status"] == "closed"


def test_a_payment_is_found_again_by_its_key_before_its_reference(session, client, loan_id):
    """A repeat with the same key and receipt number answers the first payment (so does the
    same payment under a new key: the receipt number is the shop's own record of it); another
    amount with a used receipt number, or a used key with a new one, is a clash (409) that names
    which of the two was used before. When the key is one payment's and the receipt number
    another's, the key decides."""
    first_doc = pay(client, loan_id, "100.00", "k1", reference="R1")
    assert first_doc.status_code == 201
    again = pay(client, loan_id, "100.00", "k1", reference="R1")
    assert (again.status_code, again.headers.get("Idempotent-Replayed")) == (201, "true")
    assert again.json == first_doc.json
    assert pay(client, loan_id, "200.00", "k2", reference="R2").status_code == 201
    same = pay(client, loan_id, "100.00", "k3", reference="R1")  # the same payment, new key
    assert (same.status_code, same.json) == (201, first_doc.json)
    reference_used = pay(client, loan_id, "150.00", "k3", reference="R1")
    assert reference_used.status_code == 409
    assert reference_used.json["message"] == "This reference is already used for another payment."
    key_used = "This Idempotency-Key was already used for a different payment."
    assert pay(client, loan_id, "100.00", "k1", reference="R9").json["message"] == key_used
    both = pay(client, loan_id, "100.00", "k1", reference="R2")  # k1 is R1's, R2 is k2's
    assert (both.status_code, both.json["message"]) == (409, key_used)
    assert session.execute(select(func.count()).select_from(Payment)).scalar_one() == 2


def request(loan_id: int, amount: str, **fields) -> PaymentRequest:
    values = dict(loan_id=loan_id, amount=Decimal(amount), paid_at=NOW, channel=CASH)
    return PaymentRequest(**{**values, **fields})


def post_one(session, payment: PaymentRequest):
    return post_payment(session=session, request=payment, now=NOW, timezone=KARACHI)


def test_up_to_the_products_tolerance_above_the_payoff_is_kept_and_a_paisa_more_refused(
    session, client, loan_id
):
    """QIST-STD keeps up to Rs 100.00 beyond what settles the loan as a credit; a request
    that does not say staff allowed more is refused a paisa beyond that, writing nothing."""
    quote = client.get(f"/api/v1/loans/{loan_id}/payoff?as_of=2026-11-28", headers=AGENT).json
    payoff = Decimal(quote["total"])
    with pytest.raises(InvalidInput) as raised:
        post_one(session, request(loan_id, str(payoff + Decimal("100.01"))))
    assert list(raised.value.errors) == ["amount"]
    session.rollback()
    assert session.execute(select(func.count()).select_from(Payment)).scalar_one() == 0
    posted = post_one(session, request(loan_id, str(payoff + Decimal("100.00"))))
    assert (posted.document["loan_status"], posted.document["credit_balance"]) == (
        "settled",
        "100.00",
    )


@pytest.mark.parametrize(
    ("key", "reference", "answer"),
    [
        ("k1", "OTHER", "same"),  # the key was committed meanwhile: its first answer
        ("k2", "R1", "This payment clashes with another one being posted; try again."),
    ],
)
def test_a_key_or_receipt_committed_while_we_posted_is_answered_not_a_500(
    session, client, loan_id, monkeypatch, key, reference, answer
):
    """Two requests race: the second looked for an earlier payment before the first
    committed, so its INSERT meets the unique key or receipt number. It is answered with the
    first payment (the same key) or a 409 (another key, the same receipt), never a 500."""
    first_posted = post_one(
        session, request(loan_id, "100.00", idempotency_key="k1", reference="R1")
    )
    session.commit()
    monkeypatch.setattr(payments, "_earlier_or_refused", lambda *args: None)  # the race
    body = request(loan_id, "100.00", idempotency_key=key, reference=reference)
    if answer == "same":
        body = request(loan_id, "100.00", idempotency_key="k1", reference="R1")
        again = post_one(session, body)
        assert (again.replayed, again.document) == (True, first_posted.document)
    else:
        with pytest.raises(Conflict) as raised:
            post_one(session, body)
        assert raised.value.message == answer
    session.rollback()
    assert session.execute(select(func.count()).select_from(Payment)).scalar_one() == 1


def test_a_payment_reversed_by_someone_else_meanwhile_is_not_reversed_twice(
    app, session, client, loan_id
):
    """Staff A has the payment in hand (loaded before); staff B reverses it and commits;
    A's reversal then finds it reversed (read again once the loan is locked): 409."""
    paid = pay(client, loan_id, "6990.00", "p").json
    mine = Session(get_engine(app))
    held = mine.get(Payment, paid["payment_id"])  # held in A's session, as posted
    theirs = client.post(
        f"/api/v1/payments/{paid['payment_id']}/reverse", json={"reason": "Bounced."}, headers=STAFF
    )
    assert theirs.status_code == 200
    user = session.execute(select(Payment.posted_by_id)).scalar_one()
    with pytest.raises(Conflict) as raised:
        reverse_payment(
            session=mine,
            reversal=Reversal(paid["payment_id"], user, "Bounced too."),
            now=NOW,
            timezone=KARACHI,
        )
    assert raised.value.message == "This payment has already been reversed."
    assert held.status == "reversed"  # read again, under the loan's lock
    mine.close()
    reversals = select(func.count()).select_from(LoanTransaction)
    assert (
        session.execute(reversals.where(LoanTransaction.kind == TxnKind.REVERSAL)).scalar_one() == 1
    )


def test_a_reversal_keeps_the_first_500_characters_of_its_reason(session, client, loan_id):
    paid = pay(client, loan_id, "6990.00", "p").json
    user = session.execute(select(Payment.posted_by_id)).scalar_one()
    reason = "x" * 499 + "yz"
    reverse_payment(
        session=session,
        reversal=Reversal(paid["payment_id"], user, reason),
        now=NOW,
        timezone=KARACHI,
    )
    note = session.execute(
        select(LoanTransaction.note).where(LoanTransaction.kind == TxnKind.REVERSAL)
    ).scalar_one()
    assert note == "x" * 499 + "y"


def test_a_payment_a_minute_into_tomorrow_in_karachi_is_replayed_through_tomorrow(
    app, session, client, loan_id
):
    """At 23:58 in Karachi on instalment 1's due date (28 December), a wallet reports a
    payment made at 00:02 on the 29th (its clock four minutes ahead). Its business day is the
    29th: the loan is replayed through that day, so the instalment it fully pays is paid on
    the 29th and, short by 100.00 otherwise, would be a day past due."""
    app.extensions["lending.clock"] = lambda: datetime(2026, 12, 28, 18, 58, tzinfo=UTC)
    paid_at = "2026-12-29T00:02:00+05:00"
    short = pay(client, loan_id, "6890.00", "s", paid_at=paid_at)
    assert short.status_code == 201
    assert session.get(Loan, loan_id).days_past_due == 1
    rest = pay(client, loan_id, "100.00", "r", paid_at=paid_at)
    assert rest.status_code == 201
    item = first(session, loan_id)
    assert item.paid_on == date(2026, 12, 29)
    session.expire_all()
    assert session.get(Loan, loan_id).days_past_due == 0


def test_a_settlement_after_a_prepayment_in_the_same_period_pays_exactly_the_quote(
    app, session, client, loan_id
):
    """19,249.50 paid on 8 December lowers the balance from that day; the quote for 18
    December counts the profit on 38,499.00 for 10 days and on what is left for 10 more. A
    payment of exactly that quote on the 18th (resumed from the stored state, which keeps
    where the period's accrual stands) settles the loan with nothing over."""
    app.extensions["lending.clock"] = lambda: datetime(2026, 12, 18, 7, tzinfo=UTC)
    half = pay(client, loan_id, "19249.50", "h", paid_at="2026-12-08T12:00:00+05:00")
    assert half.status_code == 201
    quote = client.get(f"/api/v1/loans/{loan_id}/payoff?as_of=2026-12-18", headers=AGENT).json
    doc = pay(client, loan_id, quote["total"], "s", paid_at="2026-12-18T12:00:00+05:00").json
    assert (doc["loan_status"], doc["unapplied"], doc["credit_balance"]) == (
        "settled",
        "0.00",
        "0.00",
    )


def test_payments_after_the_last_due_date_resume_from_a_state_with_no_period_running(
    app, session, client, loan_id
):
    """Past the sixth and last due date (28 May 2027) no period is running, so the stored
    state has no accrual; a second payment then starts from that state."""
    app.extensions["lending.clock"] = lambda: datetime(2027, 6, 10, 7, tzinfo=UTC)
    for key in ("a", "b"):
        paid = pay(client, loan_id, "100.00", key, paid_at="2027-06-10T12:00:00+05:00")
        assert paid.status_code == 201, paid.json
    loan = session.get(Loan, loan_id)
    assert (loan.accrual_index, loan.accrual_mark, loan.accrual_balance_days) == (None, None, 0)
    assert_stored_state_is_its_replay(session, loan_id, date(2027, 6, 10))


def test_a_payment_after_a_waiver_owes_only_what_was_not_waived(app, session, client, loan_id):
    """The night of 2 January charges Rs 500 on instalment 1; staff waive it on 3 January;
    6,990.00 paid the same day (resumed from the stored state, where the fee stands net of
    the waiver) pays the instalment and nothing of the fee."""
    night(app, date(2027, 1, 2))
    app.extensions["lending.clock"] = lambda: datetime(2027, 1, 3, 7, tzinfo=UTC)
    waived = client.post(
        f"/api/v1/loans/{loan_id}/waivers",
        json={"instalment": 1, "reason": "First time late."},
        headers=STAFF,
    )
    assert waived.status_code == 201, waived.json
    paid = pay(client, loan_id, "6990.00", "p", paid_at="2027-01-03T12:00:00+05:00").json
    assert paid["allocations"][0]["late_fee"] == "0.00"
    item = first(session, loan_id)
    assert (item.late_fee_waived, item.paid_late_fee, item.paid_on) == (
        Decimal("500.00"),
        Decimal("0.00"),
        date(2027, 1, 3),
    )
    assert_stored_state_is_its_replay(session, loan_id, date(2027, 1, 3))


def test_a_gateway_payment_dated_before_a_counter_payment_takes_its_place_in_the_waterfall(
    app, session, client, loan_id
):
    """3,000.00 at the counter on 10 December goes to instalment 1. The wallet's callback then
    reports 6,990.00 paid on 5 December: replayed in date order, the wallet's payment pays
    instalment 1 in full and the counter's 3,000.00 moves to instalment 2 (each payment's
    allocation rows add up to where its money is now)."""
    app.extensions["lending.clock"] = lambda: datetime(2026, 12, 10, 9, tzinfo=UTC)
    counter = pay(client, loan_id, "3000.00", "c", paid_at="2026-12-10T12:00:00+05:00").json
    use_webhook_secret(app)
    raw, headers = signed(
        callback(loan_id, "6990.00", "JC-5", paid_at=datetime(2026, 12, 5, 7, tzinfo=UTC))
    )
    wallet = client.post("/api/v1/webhooks/payments", data=raw, headers=headers)
    assert wallet.status_code == 201, wallet.json
    assert allocated(session, wallet.json["payment_id"]) == {1: Decimal("6990.00")}
    assert allocated(session, counter["payment_id"]) == {2: Decimal("3000.00")}


def test_a_conventional_flat_loan_settled_early_pays_its_profit_by_time_not_by_balance(
    setup, client
):
    """A flat (not Islamic) loan fixes its profit at booking: settled 10 days into its first
    30-day period (28 November to 28 December), it owes all its principal and 10/30 of
    instalment 1's profit, half up; the rest is rebated (the product's 100%). Worked from the
    booked rows: not the reducing-balance accrual a conventional loan would earn."""
    loan_id = book_loan(client, product_code="QIST-FLAT")
    loan = client.get(f"/api/v1/loans/{loan_id}", headers=AGENT).json
    rows = loan["schedule"]
    principal = sum(Decimal(r["principal"]) for r in rows)
    profit = (Decimal(rows[0]["profit"]) * 10 / 30).quantize(Decimal("0.01"), ROUND_HALF_UP)
    quote = client.get(f"/api/v1/loans/{loan_id}/payoff?as_of=2026-12-08", headers=AGENT).json
    assert (Decimal(quote["principal"]), Decimal(quote["profit"])) == (principal, profit)


def test_a_callback_dated_before_the_due_date_cures_the_loan_at_once(app, session, client, loan_id):
    """Five days past due and in the watch list after the night of 2 January; the wallet's
    callback for a payment made on 27 December arrives on the 3rd: the loan is current and
    regular again as soon as it is posted, not after the next night."""
    night(app, date(2027, 1, 2))
    app.extensions["lending.clock"] = lambda: datetime(2027, 1, 3, 7, tzinfo=UTC)
    use_webhook_secret(app)
    paid_at = datetime(2026, 12, 27, 7, tzinfo=UTC)
    raw, headers = signed(callback(loan_id, "6990.00", "JC-27", paid_at=paid_at))
    assert client.post("/api/v1/webhooks/payments", data=raw, headers=headers).status_code == 201
    session.expire_all()
    loan = session.get(Loan, loan_id)
    assert (loan.days_past_due, loan.bucket, loan.classification) == (0, "current", "regular")
