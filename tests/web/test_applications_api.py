"""Taking applications in the API: validation, rules, bureau, decisions, offers, booking."""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from lending.models import (
    Applicant,
    Application,
    AuditEvent,
    Decision,
    Fee,
    Instalment,
    Loan,
)
from lending.models.enums import LoanStatus
from tests import factories as f
from tests.bureau_server import BureauServer
from tests.web.helpers import AGENT, NOW, UNDERWRITER, body, count, post


def test_good_application_is_approved_with_an_exact_offer(setup, session, client):
    response = post(client, body())
    assert response.status_code == 201, response.json
    doc = response.json
    assert doc["status"] == "approved"
    assert response.headers["Location"] == f"/api/v1/applications/{doc['id']}"
    offer = doc["offer"]
    assert offer["financed_amount"] == "38499.00"  # 54,999 - 16,500; the 2% fee is paid up front
    rows = offer["schedule"]
    assert len(rows) == 6 and offer["instalments"] == 6
    assert sum(Decimal(r["principal"]) for r in rows) == Decimal(offer["financed_amount"])
    assert rows[-1]["balance_after"] == "0.00"
    assert Decimal(offer["apr"]) > Decimal("36")  # the fee is a finance charge too
    assert count(session, Application) == 1 and count(session, Decision) == 1
    decision = session.exec(select(Decision)).one()
    assert decision.score == doc["score"] and decision.points
    assert decision.bureau["status"] == "not_configured"
    assert "bureau_not_configured" in [r["code"] for r in doc["reasons"]]
    assert session.exec(
        select(AuditEvent).where(AuditEvent.action == "application.decided")
    ).one().object_id == str(doc["id"])


def test_cnic_and_imei_are_stored_normalised_and_mobile_as_e164(setup, session, client):
    post(
        client, body(**{"applicant__cnic": "3520212345673", "applicant__mobile": "+92 301 2345678"})
    )
    applicant = session.exec(select(Applicant)).one()
    assert (applicant.cnic, applicant.mobile) == ("3520212345673", "+923012345678")


def test_bad_input_is_422_with_every_field_and_writes_nothing(setup, session, client):
    doc = body(
        **{
            "applicant__cnic": "12345",
            "applicant__mobile": "021 35650000",
            "applicant__monthly_income": "-5",
            "applicant__employment_type": "pilot",
            "device__imei": "353327160000011",
            "device__price": "54999.999",
            "tenor": "six",
        }
    )
    response = post(client, doc)
    assert response.status_code == 422
    assert set(response.json["errors"]) == {
        "applicant.cnic",
        "applicant.mobile",
        "applicant.monthly_income",
        "applicant.employment_type",
        "device.imei",
        "device.price",
        "tenor",
    }
    assert count(session, Application) == 0 and count(session, Applicant) == 0


def test_unknown_product_is_a_field_error(setup, session, client):
    response = post(client, body(product_code="NOPE"))
    assert response.status_code == 422
    assert response.json["errors"] == {"product_code": ["Unknown or inactive product."]}
    assert count(session, Applicant) == 0


def test_float_amounts_in_json_are_read_exactly(setup, session, client):
    response = client.post(
        "/api/v1/applications",
        headers={**AGENT, "Content-Type": "application/json"},
        data=str(body()).replace("'", '"').replace('"54999.00"', "54999.10"),
    )
    assert response.status_code == 201
    assert session.exec(select(Application)).one().device_price == Decimal("54999.10")


def test_debt_burden_above_the_cap_declines_without_an_offer(setup, session, client):
    response = post(
        client,
        body(
            **{"applicant__monthly_income": "20000.00", "applicant__monthly_obligations": "3000.00"}
        ),
    )
    doc = response.json
    assert response.status_code == 201
    assert doc["status"] == "declined"
    assert "offer" not in doc
    assert doc["reasons"][0]["code"] == "dbr_above_cap"
    assert Decimal(doc["dbr_pct"]) > Decimal("40")


def test_unknown_tac_is_referred(setup, client):
    doc = post(client, body(**{"device__imei": f.imei(7, "99999999")})).json
    assert doc["status"] == "referred"
    assert "device_unknown" in [r["code"] for r in doc["reasons"]]


def test_phone_already_securing_a_loan_and_second_phone_are_declined(setup, session, client):
    first = post(client, body()).json
    assert (
        client.post(f"/api/v1/applications/{first['id']}/accept", headers=AGENT).status_code == 201
    )
    again = post(client, body()).json  # same CNIC, same IMEI
    codes = {r["code"] for r in again["reasons"]}
    assert again["status"] == "declined"
    assert {"imei_in_use", "active_loan_exists"} <= codes


@pytest.fixture
def bureau(app):
    server = BureauServer().start()
    settings = app.extensions["lending.settings"]
    app.extensions["lending.settings"] = replace(
        settings, credit_bureau_url=server.url, bureau_timeout_seconds=0.5
    )
    yield server
    server.stop()


def test_bureau_report_is_asked_and_stored(setup, session, client, bureau):
    bureau.reports["3520212345673"] = {
        "overdue_accounts": 0,
        "outstanding": "12000.00",
        "worst_dpd": 0,
    }
    doc = post(client, body()).json
    assert bureau.requests == ["/reports/3520212345673"]
    assert doc["status"] == "approved"
    decision = session.exec(select(Decision)).one()
    assert decision.bureau["status"] == "ok" and decision.bureau["outstanding"] == "12000.00"


def test_bureau_delinquency_declines(setup, client, bureau):
    bureau.reports["3520212345673"] = {
        "overdue_accounts": 2,
        "outstanding": "90000",
        "worst_dpd": 95,
    }
    doc = post(client, body()).json
    assert doc["status"] == "declined"
    assert "bureau_overdue_accounts" in {r["code"] for r in doc["reasons"]}


@pytest.mark.parametrize("fault", ["down", "slow", "error"])
def test_bureau_down_or_slow_refers_never_approves_blind(setup, session, client, bureau, fault):
    if fault == "down":
        bureau.stop()
    elif fault == "slow":
        bureau.delay = 1.5
    else:
        bureau.fail = True
    doc = post(client, body()).json
    assert doc["status"] == "referred"
    assert "bureau_unavailable" in {r["code"] for r in doc["reasons"]}
    if fault == "down":
        bureau.start = lambda: None  # already stopped; the fixture's stop must not fail
        bureau.stop = lambda: None


def refer(client) -> int:
    doc = post(client, body(**{"device__imei": f.imei(9, "99999999")})).json
    assert doc["status"] == "referred"
    return doc["id"]


def test_underwriter_approves_a_referral_and_the_shop_books_it(setup, session, client):
    application_id = refer(client)
    response = client.post(
        f"/api/v1/applications/{application_id}/decision",
        json={"status": "approved", "note": "Known customer, TAC is new"},
        headers=UNDERWRITER,
    )
    assert response.status_code == 200 and response.json["status"] == "approved"
    booked = client.post(f"/api/v1/applications/{application_id}/accept", headers=AGENT)
    assert booked.status_code == 201
    loan = session.get(Loan, booked.json["loan_id"])
    assert loan.status == LoanStatus.ACTIVE
    instalments = session.exec(select(Instalment).where(Instalment.loan_id == loan.id)).all()
    assert len(instalments) == 6
    assert sum(i.principal for i in instalments) == loan.principal
    assert session.exec(select(Fee)).one().amount == Decimal("769.98")  # 2% of 38,499
    actions = [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions.index("application.underwriter_decision") < actions.index("loan.booked")


def test_accepting_twice_is_409_and_books_one_loan(setup, session, client):
    application_id = post(client, body()).json["id"]
    assert (
        client.post(f"/api/v1/applications/{application_id}/accept", headers=AGENT).status_code
        == 201
    )
    again = client.post(f"/api/v1/applications/{application_id}/accept", headers=AGENT)
    assert again.status_code == 409
    assert count(session, Loan) == 1


def test_expired_offer_is_refused_with_a_clear_message(app, setup, session, client):
    application_id = post(client, body()).json["id"]
    app.extensions["lending.clock"] = lambda: NOW + timedelta(days=7, seconds=1)
    response = client.post(f"/api/v1/applications/{application_id}/accept", headers=AGENT)
    assert response.status_code == 409
    assert response.json["error"] == "offer_expired"
    assert "expired" in response.json["message"]
    assert count(session, Loan) == 0


def test_declined_offer_cannot_be_accepted(setup, session, client):
    doc = post(client, body(**{"applicant__monthly_income": "20000.00"})).json
    response = client.post(f"/api/v1/applications/{doc['id']}/accept", headers=AGENT)
    assert response.status_code == 409
    assert count(session, Loan) == 0


def test_decision_rules(setup, session, client):
    approved_id = post(client, body()).json["id"]
    referred_id = refer(client)
    url = f"/api/v1/applications/{referred_id}/decision"
    assert (
        client.post(url, json={"status": "approved", "note": "ok"}, headers=AGENT).status_code
        == 403
    )
    missing = client.post(url, json={"status": "approved"}, headers=UNDERWRITER)
    assert missing.status_code == 422 and list(missing.json["errors"]) == ["note"]
    assert (
        client.post(
            f"/api/v1/applications/{approved_id}/decision",
            json={"status": "declined", "note": "changed mind"},
            headers=UNDERWRITER,
        ).status_code
        == 409
    )
    assert count(session, Decision) == 2  # the two automatic ones only


def test_another_shop_cannot_accept_or_read(setup, session, client):
    application_id = post(client, body()).json["id"]
    other = f.UserFactory(retailer=True)
    f.ApiTokenFactory(user_id=other.id, token="lnd_other_shop")
    headers = {"Authorization": "Bearer lnd_other_shop"}
    assert client.get(f"/api/v1/applications/{application_id}", headers=headers).status_code == 404
    assert (
        client.post(f"/api/v1/applications/{application_id}/accept", headers=headers).status_code
        == 404
    )
    assert count(session, Loan) == 0


@pytest.mark.parametrize("amount", ["1E+100", "-1E+100", "1e-50", "NaN", "Infinity", "12.345"])
def test_absurd_amounts_are_field_errors_not_crashes(setup, session, client, amount):
    response = post(client, body(down_payment=amount))
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["down_payment"]
    assert count(session, Applicant) == 0
