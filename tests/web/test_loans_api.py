"""The loan document, the payoff quote, booking's disbursement and cancelling in cooling-off."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from lending.errors import Conflict
from lending.models import AuditEvent, Disbursement, Fee, Loan
from lending.models.enums import DisbursementStatus, FeeKind, LoanStatus, Role
from lending.services.lifecycle import TRANSITIONS, move
from tests import factories as f
from tests.web.helpers import AGENT, NOW
from tests.web.servicing import STAFF, book_loan, pay


def borrower_headers(loan_id: int, session, token: str = "lnd_borrower_token") -> dict:
    loan = session.get(Loan, loan_id)
    user = f.UserFactory(role=Role.BORROWER, applicant_id=loan.applicant_id)
    f.ApiTokenFactory(user_id=user.id, token=token)
    return {"Authorization": f"Bearer {token}"}


def test_booking_pays_the_shop_the_price_less_the_down_payment(setup, session, client):
    loan_id = book_loan(client)
    disbursement = session.exec(select(Disbursement)).one()
    assert disbursement.loan_id == loan_id and disbursement.retailer_id == setup.retailer_id
    assert disbursement.amount == Decimal("38499.00")  # 54,999.00 - 16,500.00
    assert disbursement.status == DisbursementStatus.RECORDED
    actions = session.exec(select(AuditEvent.action)).all()
    assert "disbursement.recorded" in actions and "loan.booked" in actions


def test_loan_document_has_the_schedule_and_outstanding_to_the_paisa(setup, session, client):
    loan_id = book_loan(client)
    doc = client.get(f"/api/v1/loans/{loan_id}", headers=AGENT).json
    assert (doc["status"], doc["financed_amount"], doc["instalments"]) == ("active", "38499.00", 6)
    schedule = doc["schedule"]
    assert [r["status"] for r in schedule] == ["due"] * 6
    assert sum(Decimal(r["principal"]) for r in schedule) == Decimal("38499.00")
    total = sum(Decimal(r["total"]) for r in schedule)
    assert doc["outstanding"] == {
        "principal": "38499.00",
        "profit": str(total - Decimal("38499.00")),
        "fees": "0.00",
        "total": str(total),
    }
    assert doc["paid"]["total"] == "0.00"
    assert (doc["days_past_due"], doc["bucket"], doc["due_now"]) == (0, "current", "0.00")
    assert doc["next_due"] == {"instalment": 1, "due_date": "2026-12-28", "amount": "6990.00"}
    assert {t["code"] for t in doc["incentive_tags"]} >= {"assembled_in_pk"}


def test_overdue_instalment_shows_days_past_due_and_bucket(app, setup, session, client):
    loan_id = book_loan(client)
    pay(client, loan_id, "1000.00", "k-part")
    app.extensions["lending.clock"] = lambda: NOW + timedelta(days=45)  # 2027-01-12
    doc = client.get(f"/api/v1/loans/{loan_id}", headers=STAFF).json
    first = doc["schedule"][0]
    assert first["status"] == "overdue" and first["paid"] == "1000.00"
    # 5,990.00 of the instalment and the product's Rs 500 late fee (unpaid past 3 grace days).
    assert (first["late_fee"], first["unpaid"]) == ("500.00", "6490.00")
    assert (doc["days_past_due"], doc["bucket"]) == (15, "1-30")
    assert doc["due_now"] == "6490.00"
    assert doc["next_due"]["instalment"] == 2


def test_who_sees_a_loan(setup, session, client):
    loan_id = book_loan(client)
    other_shop = f.UserFactory(retailer=True)
    f.ApiTokenFactory(user_id=other_shop.id, token="lnd_other_shop")
    assert client.get(f"/api/v1/loans/{loan_id}", headers=STAFF).status_code == 200
    mine = borrower_headers(loan_id, session)
    assert client.get(f"/api/v1/loans/{loan_id}", headers=mine).status_code == 200
    stranger = f.UserFactory(role=Role.BORROWER, applicant_id=f.ApplicantFactory().id)
    f.ApiTokenFactory(user_id=stranger.id, token="lnd_stranger")
    for token in ("lnd_other_shop", "lnd_stranger"):
        response = client.get(
            f"/api/v1/loans/{loan_id}", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 404
    assert client.get("/api/v1/loans/999", headers=STAFF).status_code == 404
    assert client.get(f"/api/v1/loans/{loan_id}").status_code == 401
    refusals = session.exec(
        select(AuditEvent).where(AuditEvent.action == "access.foreign_object")
    ).all()
    assert len(refusals) == 2


def test_payoff_quote_before_the_first_due_date_charges_accrued_profit_only(setup, client):
    loan_id = book_loan(client)
    quote = client.get(f"/api/v1/loans/{loan_id}/payoff?as_of=2026-12-13", headers=AGENT)
    assert quote.status_code == 200, quote.json
    doc = quote.json
    assert doc["as_of"] == "2026-12-13" and doc["principal"] == "38499.00"
    # 15 days of 30% on 38,499.00, actual/365: 474.65; the rest of the profit is not charged.
    assert doc["profit"] == "474.65"
    assert doc["total"] == "38973.65"
    assert Decimal(doc["waived_profit"]) == Decimal("3437.77") - Decimal("474.65")
    assert sum(Decimal(line["principal"]) for line in doc["lines"]) == Decimal("38499.00")


def test_payoff_quote_validates_the_date(setup, client):
    loan_id = book_loan(client)
    bad = client.get(f"/api/v1/loans/{loan_id}/payoff?as_of=2026-13-01", headers=AGENT)
    assert bad.status_code == 422 and "as_of" in bad.json["errors"]
    early = client.get(f"/api/v1/loans/{loan_id}/payoff?as_of=2026-01-01", headers=AGENT)
    assert early.status_code == 422 and "as_of" in early.json["errors"]
    today = client.get(f"/api/v1/loans/{loan_id}/payoff", headers=AGENT).json
    assert today["as_of"] == "2026-11-28" and today["profit"] == "0.00"


def test_cancel_in_cooling_off_reverses_the_disbursement_and_waives_the_fee(
    app, setup, session, client
):
    loan_id = book_loan(client)
    app.extensions["lending.clock"] = lambda: NOW + timedelta(hours=23)
    response = client.post(f"/api/v1/loans/{loan_id}/cancel", headers=AGENT)
    assert response.status_code == 200, response.json
    assert response.json == {"loan_id": loan_id, "status": "cancelled", "closed_on": "2026-11-29"}
    session.expire_all()
    loan = session.get(Loan, loan_id)
    assert loan.status == LoanStatus.CANCELLED and loan.closed_on == date(2026, 11, 29)
    disbursement = session.exec(select(Disbursement)).one()
    assert disbursement.status == DisbursementStatus.REVERSED and disbursement.reversed_at
    fee = session.exec(select(Fee).where(Fee.kind == FeeKind.PROCESSING)).one()
    assert fee.waived_at is not None
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "loan.cancelled")).one()
    assert event.detail == {"reclaim_from_retailer": "38499.00", "fee_refund": "769.98"}
    doc = client.get(f"/api/v1/loans/{loan_id}", headers=AGENT).json
    assert doc["outstanding"]["total"] == "0.00"
    assert {r["status"] for r in doc["schedule"]} == {"cancelled"}
    again = client.post(f"/api/v1/loans/{loan_id}/cancel", headers=AGENT)
    assert again.status_code == 409
    assert pay(client, loan_id, "100.00", "after-cancel").status_code == 409


def test_cancel_is_refused_after_the_cooling_off_period(app, setup, session, client):
    loan_id = book_loan(client)
    app.extensions["lending.clock"] = lambda: NOW + timedelta(hours=24)
    response = client.post(f"/api/v1/loans/{loan_id}/cancel", headers=AGENT)
    assert response.status_code == 409 and "cooling-off" in response.json["message"]
    session.expire_all()
    assert session.get(Loan, loan_id).status == LoanStatus.ACTIVE
    assert session.exec(select(Disbursement)).one().status == DisbursementStatus.RECORDED


def test_cancel_is_refused_after_a_payment(setup, session, client):
    loan_id = book_loan(client)
    assert pay(client, loan_id, "500.00", "k-1").status_code == 201
    response = client.post(
        f"/api/v1/loans/{loan_id}/cancel", headers=borrower_headers(loan_id, session)
    )
    assert response.status_code == 409 and "payment" in response.json["message"]


def test_every_status_change_goes_through_the_lifecycle_table(setup, session, client):
    loan = session.get(Loan, book_loan(client))
    assert TRANSITIONS[LoanStatus.CANCELLED] == frozenset()
    move(session, loan=loan, to=LoanStatus.WRITTEN_OFF, actor_id=None, on=date(2027, 6, 1))
    with pytest.raises(Conflict):
        move(session, loan=loan, to=LoanStatus.CANCELLED, actor_id=None, on=date(2027, 6, 1))
    move(session, loan=loan, to=LoanStatus.CLOSED, actor_id=None, on=date(2027, 6, 2))
    assert (loan.status, loan.closed_on) == (LoanStatus.CLOSED, date(2027, 6, 2))
    session.rollback()


def test_the_servicing_routes_are_in_the_openapi_document(client):
    paths = client.get("/openapi.json").json["paths"]
    for path in (
        "/api/v1/loans/{loan_id}",
        "/api/v1/loans/{loan_id}/payoff",
        "/api/v1/loans/{loan_id}/payments",
        "/api/v1/loans/{loan_id}/cancel",
        "/api/v1/payments/{payment_id}/reverse",
    ):
        assert path in paths
    assert paths["/api/v1/webhooks/payments"]["post"]["security"] == []
