"""Payments: allocation by the engine, idempotency, the signed gateway callback, reversal."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from lending.models import (
    AuditEvent,
    Instalment,
    Loan,
    LoanTransaction,
    Payment,
    PaymentAllocation,
)
from lending.models.enums import LoanStatus, PaymentStatus, TxnKind
from tests import factories as f
from tests.web.helpers import AGENT, NOW, count
from tests.web.servicing import (
    ADMIN,
    STAFF,
    book_loan,
    callback,
    paid_columns,
    pay,
    scheduled_total,
    signed,
    use_webhook_secret,
)


@pytest.fixture
def loan_id(setup, client) -> int:
    return book_loan(client)


def test_payment_is_allocated_and_the_outstanding_falls_by_it(loan_id, session, client):
    response = pay(client, loan_id, "7000.00", "till-1-0001", reference="R-1")
    assert response.status_code == 201, response.json
    doc = response.json
    payment = session.exec(select(Payment)).one()
    assert doc["payment_id"] == payment.id and payment.idempotency_key.endswith(":till-1-0001")
    # Paid on the booking day: nothing is due yet, so it pays instalment 1 in full, profit
    # included (6,990.00: 962.48 + 6,027.52), then the next one's profit: paying early is
    # never worse than paying on the day.
    assert doc["allocations"] == [
        {
            "instalment": 1,
            "late_fee": "0.00",
            "fee": "0.00",
            "profit": "962.48",
            "principal": "6027.52",
        },
        {
            "instalment": 2,
            "late_fee": "0.00",
            "fee": "0.00",
            "profit": "10.00",
            "principal": "0.00",
        },
    ]
    expected = scheduled_total(session, loan_id) - Decimal("7000.00")
    assert doc["outstanding"]["total"] == str(expected)
    assert doc["outstanding"]["principal"] == "32471.48"
    assert (doc["applied"], doc["unapplied"], doc["loan_status"]) == ("7000.00", "0.00", "active")
    rows = paid_columns(session, loan_id)
    assert rows[0] == (Decimal("6027.52"), Decimal("962.48"), Decimal("0.00"), date(2026, 11, 28))
    assert rows[1][1] == Decimal("10.00")
    assert count(session, PaymentAllocation) == 2
    loan_doc = client.get(f"/api/v1/loans/{loan_id}", headers=AGENT).json
    assert loan_doc["outstanding"] == doc["outstanding"]
    assert [r["status"] for r in loan_doc["schedule"][:2]] == ["paid", "partly_paid"]
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "payment.posted")).one()


def test_waterfall_pays_the_late_fee_then_profit_then_principal_oldest_first(
    app, loan_id, session, client
):
    # Instalment 1 (due 28 December) is unpaid past its 3 grace days: the product's Rs 500 fee.
    app.extensions["lending.clock"] = lambda: NOW + timedelta(days=40)
    paid_at = (NOW + timedelta(days=40)).isoformat()
    doc = pay(client, loan_id, "1600.00", "late-1", paid_at=paid_at).json
    assert doc["allocations"] == [
        {
            "instalment": 1,
            "late_fee": "500.00",
            "fee": "0.00",
            "profit": "962.48",
            "principal": "137.52",
        }
    ]
    session.expire_all()
    first = session.exec(select(Instalment).where(Instalment.n == 1)).one()
    assert (first.late_fee, first.paid_late_fee) == (Decimal("500.00"), Decimal("500.00"))
    (charge,) = session.exec(
        select(LoanTransaction).where(LoanTransaction.kind == TxnKind.LATE_FEE)
    ).all()
    assert (charge.instalment_n, charge.value_date) == (1, date(2027, 1, 1))


def test_same_key_returns_the_first_answer_and_another_body_is_409(loan_id, session, client):
    first = pay(client, loan_id, "2500.00", "dup-key")
    again = pay(client, loan_id, "2500.00", "dup-key")
    assert again.status_code == 201 and again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    clash = pay(client, loan_id, "2600.00", "dup-key")
    assert clash.status_code == 409
    assert count(session, Payment) == 1 and count(session, PaymentAllocation) == 1
    assert paid_columns(session, loan_id)[0][:2] == (Decimal("1537.52"), Decimal("962.48"))


def test_keys_of_different_clients_do_not_meet(loan_id, session, client):
    assert pay(client, loan_id, "100.00", "shared-key").status_code == 201
    assert pay(client, loan_id, "100.00", "shared-key", headers=STAFF).status_code == 201
    assert count(session, Payment) == 2


def test_missing_key_and_bad_body_are_422_and_write_nothing(loan_id, session, client):
    missing = pay(client, loan_id, "100.00", None)
    assert missing.status_code == 422
    assert list(missing.json["errors"]) == ["Idempotency-Key"]
    bad = pay(client, loan_id, "10.005", "k x", channel="barter", paid_at="yesterday")
    assert bad.status_code == 422
    assert set(bad.json["errors"]) == {"Idempotency-Key", "amount", "channel", "paid_at"}
    naive = pay(client, loan_id, "100.00", "k-naive", paid_at="2026-11-28T10:00:00")
    assert naive.status_code == 422 and "paid_at" in naive.json["errors"]
    future = pay(client, loan_id, "100.00", "k-f", paid_at=(NOW + timedelta(days=1)).isoformat())
    assert future.status_code == 422 and "paid_at" in future.json["errors"]
    before = pay(client, loan_id, "100.00", "k-b", paid_at="2026-11-01T10:00:00+05:00")
    assert before.status_code == 422 and "paid_at" in before.json["errors"]
    zero = pay(client, loan_id, "0.00", "k-z")
    assert zero.status_code == 422 and "amount" in zero.json["errors"]
    assert count(session, Payment) == 0 and paid_columns(session, loan_id)[0][0] == Decimal("0")


def test_who_may_post_a_payment(loan_id, session, client):
    other_shop = f.UserFactory(retailer=True)
    f.ApiTokenFactory(user_id=other_shop.id, token="lnd_other_shop")
    other = {"Authorization": "Bearer lnd_other_shop"}
    assert pay(client, loan_id, "100.00", "k-o", headers=other).status_code == 404
    borrower = f.UserFactory(role="borrower", applicant_id=session.get(Loan, loan_id).applicant_id)
    f.ApiTokenFactory(user_id=borrower.id, token="lnd_borrower")
    mine = {"Authorization": "Bearer lnd_borrower"}
    assert pay(client, loan_id, "100.00", "k-b", headers=mine).status_code == 403
    assert pay(client, loan_id, "100.00", "k-s", headers=STAFF).status_code == 201


def test_paying_the_payoff_quote_settles_the_loan(app, loan_id, session, client):
    later = NOW + timedelta(days=40)  # 2027-01-07, after instalment 1 fell due
    app.extensions["lending.clock"] = lambda: later
    quote = client.get(f"/api/v1/loans/{loan_id}/payoff?as_of=2027-01-07", headers=AGENT).json
    doc = pay(client, loan_id, quote["total"], "payoff", paid_at=later.isoformat()).json
    assert doc["loan_status"] == "settled" and doc["unapplied"] == "0.00"
    assert doc["outstanding"] == {
        "principal": "0.00",
        "profit": "0.00",
        "fees": "0.00",
        "total": "0.00",
    }
    session.expire_all()
    loan = session.get(Loan, loan_id)
    assert (loan.status, loan.closed_on) == (LoanStatus.SETTLED, date(2027, 1, 7))
    statuses = [
        r["status"] for r in client.get(f"/api/v1/loans/{loan_id}", headers=AGENT).json["schedule"]
    ]
    assert statuses == ["paid"] + ["settled"] * 5
    assert pay(client, loan_id, "10.00", "after").status_code == 409
    gone = client.get(f"/api/v1/loans/{loan_id}/payoff", headers=AGENT)
    assert gone.status_code == 409


@pytest.mark.parametrize(
    ("days", "status"),
    [(0, "settled"), (40, "settled"), (200, "closed")],
    ids=["booking-day", "one-overdue-with-late-fee", "after-maturity"],
)
def test_the_quote_is_exactly_what_allocation_settles(app, loan_id, session, client, days, status):
    on = NOW + timedelta(days=days)
    app.extensions["lending.clock"] = lambda: on
    as_of = (on + timedelta(hours=5)).date().isoformat()  # the business date in Karachi
    quote = client.get(f"/api/v1/loans/{loan_id}/payoff?as_of={as_of}", headers=AGENT).json
    short = pay(
        client,
        loan_id,
        str(Decimal(quote["total"]) - Decimal("0.01")),
        "short",
        paid_at=on.isoformat(),
    )
    assert short.json["loan_status"] == "active" and short.json["outstanding"]["total"] != "0.00"
    reverse = {"reason": "Test: take it back."}
    client.post(f"/api/v1/payments/{short.json['payment_id']}/reverse", json=reverse, headers=STAFF)
    doc = pay(client, loan_id, quote["total"], "exact", paid_at=on.isoformat()).json
    assert (doc["loan_status"], doc["unapplied"], doc["outstanding"]["total"]) == (
        status,
        "0.00",
        "0.00",
    )
    assert sum(Decimal(a["late_fee"]) for a in doc["allocations"]) == Decimal(quote["late_fees"])


def test_more_than_settles_the_loan_is_refused_unless_staff_accept_it(loan_id, session, client):
    # Seen from outside: Rs 100,000,000 (extra zeros) was accepted, settled the loan and the
    # night sent a device release.
    typo = pay(client, loan_id, "40000.00", "big")
    assert typo.status_code == 422
    assert "38,499.00" in typo.json["errors"]["amount"][0]  # what settles it today
    huge = pay(client, loan_id, "100000000.00", "huge")
    assert huge.status_code == 422 and "amount" in huge.json["errors"]
    not_staff = pay(client, loan_id, "40000.00", "big-2", allow_overpayment=True)
    assert not_staff.status_code == 422 and "allow_overpayment" in not_staff.json["errors"]
    assert count(session, Payment) == 0 and count(session, LoanTransaction) == 1  # disbursed
    within = pay(client, loan_id, "38550.00", "change")  # Rs 51 over: the product allows 100
    assert within.status_code == 201 and within.json["unapplied"] == "51.00"
    assert within.json["credit_balance"] == "51.00"
    assert session.get(Loan, loan_id).credit_balance == Decimal("51.00")


def test_staff_may_accept_an_overpayment_and_refund_the_credit(loan_id, session, client):
    doc = pay(client, loan_id, "40000.00", "big", headers=STAFF, allow_overpayment=True).json
    assert (doc["applied"], doc["unapplied"], doc["credit_balance"]) == (
        "38499.00",
        "1501.00",
        "1501.00",
    )
    assert doc["loan_status"] == "settled"
    assert session.exec(select(Payment)).one().unapplied == Decimal("1501.00")
    url = f"/api/v1/loans/{loan_id}/refunds"
    too_much = client.post(
        url, json={"amount": "1501.01", "reason": "Back to the borrower."}, headers=STAFF
    )
    assert too_much.status_code == 422 and "amount" in too_much.json["errors"]
    by_shop = client.post(url, json={"amount": "1501.00", "reason": "Back."}, headers=AGENT)
    assert by_shop.status_code == 403
    proposed = client.post(
        url, json={"amount": "1501.00", "reason": "Back to the borrower."}, headers=STAFF
    )
    assert proposed.status_code == 201, proposed.json
    assert (proposed.json["kind"], proposed.json["status"]) == ("refund", "pending")
    session.expire_all()
    assert session.get(Loan, loan_id).credit_balance == Decimal("1501.00")  # nothing moved yet
    approval = f"/api/v1/approvals/{proposed.json['id']}"
    mine = client.post(f"{approval}/approve", json={}, headers=STAFF)
    assert mine.status_code == 403  # the proposer cannot approve
    done = client.post(f"{approval}/approve", json={"note": "Seen the slip."}, headers=ADMIN)
    assert done.status_code == 200, done.json
    assert done.json["status"] == "approved" and done.json["transaction_id"]
    again = client.post(f"{approval}/approve", json={}, headers=ADMIN)
    assert again.status_code == 409
    session.expire_all()
    assert session.get(Loan, loan_id).credit_balance == Decimal("0.00")
    refund = session.exec(
        select(LoanTransaction).where(LoanTransaction.kind == TxnKind.REFUND)
    ).one()
    assert refund.amount == Decimal("1501.00") and refund.note == "Back to the borrower."


def test_reversal_restores_the_paid_columns_exactly_and_reopens_the_loan(loan_id, session, client):
    pay(client, loan_id, "3000.00", "first")
    before = paid_columns(session, loan_id)
    quote = client.get(f"/api/v1/loans/{loan_id}/payoff", headers=AGENT).json
    settling = pay(client, loan_id, quote["total"], "settle").json
    assert settling["loan_status"] == "settled"
    body = {"reason": "The cheque bounced."}
    response = client.post(
        f"/api/v1/payments/{settling['payment_id']}/reverse", json=body, headers=STAFF
    )
    assert response.status_code == 200, response.json
    assert response.json["status"] == "reversed" and response.json["loan_status"] == "active"
    assert paid_columns(session, loan_id) == before
    expected = scheduled_total(session, loan_id) - Decimal("3000.00")
    assert response.json["outstanding"]["total"] == str(expected)
    session.expire_all()
    payment = session.get(Payment, settling["payment_id"])
    assert payment.status == PaymentStatus.REVERSED and payment.reversed_at is not None
    assert session.get(Loan, loan_id).status == LoanStatus.ACTIVE
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "payment.reversed")).one()
    assert event.detail["reason"] == "The cheque bounced."
    # The reversed payment's allocation sums to nothing; the first payment's is untouched.
    rows = session.exec(
        select(PaymentAllocation).where(PaymentAllocation.payment_id == payment.id)
    ).all()
    assert sum(r.principal + r.profit + r.fee + r.late_fee for r in rows) == Decimal("0.00")
    twice = client.post(f"/api/v1/payments/{payment.id}/reverse", json=body, headers=STAFF)
    assert twice.status_code == 409
    replay = pay(client, loan_id, quote["total"], "settle")
    assert replay.json == settling  # the key still answers with the first answer


def test_reversal_is_for_staff_with_a_reason(loan_id, session, client):
    payment_id = pay(client, loan_id, "3000.00", "first").json["payment_id"]
    url = f"/api/v1/payments/{payment_id}/reverse"
    assert client.post(url, json={"reason": "oops"}, headers=AGENT).status_code == 403
    missing = client.post(url, json={}, headers=STAFF)
    assert missing.status_code == 422 and "reason" in missing.json["errors"]
    assert (
        client.post(
            "/api/v1/payments/999/reverse", json={"reason": "x-y-z"}, headers=STAFF
        ).status_code
        == 404
    )
    assert session.get(Payment, payment_id).status == PaymentStatus.POSTED


def test_signed_callback_posts_once_and_a_repeat_answers_200(app, loan_id, session, client):
    use_webhook_secret(app)
    raw, headers = signed(callback(loan_id, "6990.00", "JC-0001"))
    first = client.post("/api/v1/webhooks/payments", data=raw, headers=headers)
    assert first.status_code == 201, first.json
    again = client.post("/api/v1/webhooks/payments", data=raw, headers=headers)
    assert again.status_code == 200 and again.json == first.json
    assert count(session, Payment) == 1
    payment = session.exec(select(Payment)).one()
    assert (payment.reference, payment.channel, payment.posted_by_id) == (
        "JC-0001",
        "jazzcash",
        None,
    )
    clash_raw, clash_headers = signed(callback(loan_id, "100.00", "JC-0001"))
    clash = client.post("/api/v1/webhooks/payments", data=clash_raw, headers=clash_headers)
    assert clash.status_code == 409 and count(session, Payment) == 1


@pytest.mark.parametrize("signature", [None, "", "00" * 32, "wrong-secret"])
def test_bad_or_missing_signature_is_401_and_writes_nothing(
    app, loan_id, session, client, signature
):
    use_webhook_secret(app)
    raw, headers = signed(callback(loan_id, "6990.00", "JC-0002"))
    if signature == "wrong-secret":
        headers = signed(callback(loan_id, "6990.00", "JC-0002"), secret="guess")[1]
    elif signature is None:
        headers.pop("X-Signature")
    else:
        headers["X-Signature"] = signature
    response = client.post("/api/v1/webhooks/payments", data=raw, headers=headers)
    assert response.status_code == 401
    assert count(session, Payment) == 0 and count(session, PaymentAllocation) == 0
    assert paid_columns(session, loan_id)[0][0] == Decimal("0.00")
    refused = session.exec(
        select(AuditEvent).where(AuditEvent.action == "payment.webhook_refused")
    ).one()
    assert refused.detail["reason"] in ("missing", "mismatch")


def test_callback_tampered_after_signing_is_refused(app, loan_id, session, client):
    use_webhook_secret(app)
    raw, headers = signed(callback(loan_id, "10.00", "JC-0003"))
    tampered = raw.replace(b'"10.00"', b'"99999.00"')
    assert (
        client.post("/api/v1/webhooks/payments", data=tampered, headers=headers).status_code == 401
    )
    assert count(session, Payment) == 0


def test_callbacks_are_refused_when_no_secret_is_configured(loan_id, session, client):
    raw, headers = signed(callback(loan_id, "10.00", "JC-0004"), secret="")
    assert client.post("/api/v1/webhooks/payments", data=raw, headers=headers).status_code == 401
    assert count(session, Payment) == 0


def test_signed_callback_with_a_bad_body_is_422(app, loan_id, session, client):
    use_webhook_secret(app)
    doc = {**callback(loan_id, "-5", ""), "loan_id": "one"}
    raw, headers = signed(doc)
    response = client.post("/api/v1/webhooks/payments", data=raw, headers=headers)
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"loan_id", "amount", "reference"}
    raw, headers = signed(callback(4242, "10.00", "JC-0005"))
    unknown = client.post("/api/v1/webhooks/payments", data=raw, headers=headers)
    assert unknown.status_code == 422 and "loan_id" in unknown.json["errors"]
    assert count(session, Payment) == 0
