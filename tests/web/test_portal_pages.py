"""The borrower portal: activation by SMS code, my loans, schedule, payoff, cancel, Urdu."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from lending.models import ActivationCode, AuditEvent, Loan, OutboxMessage, User
from lending.models.enums import LoanStatus, OutboxChannel, Role
from lending.services.activation import MAX_ATTEMPTS
from tests import factories as f
from tests.conftest import csrf_token
from tests.web.helpers import NOW, count
from tests.web.servicing import book_loan, pay

CNIC, MOBILE = "35202-1234567-3", "0301 2345678"  # the applicant of tests.web.helpers.body()


@pytest.fixture
def loan(setup, session, client) -> Loan:
    loan_id = book_loan(client)
    return session.get(Loan, loan_id)


@pytest.fixture
def borrower(loan, auth) -> User:
    """The loan's borrower, logged in to the portal."""
    user = f.UserFactory(
        role=Role.BORROWER, applicant_id=loan.applicant_id, email="bilal@example.pk"
    )
    assert auth.login(user.email, f.PASSWORD).headers["Location"] == "/portal/"
    return user


def ask_for_code(client, cnic=CNIC, mobile=MOBILE):
    token = csrf_token(client, "/portal/activate")
    return client.post(
        "/portal/activate", data={"cnic": cnic, "mobile": mobile, "csrf_token": token}
    )


def sent_code(session) -> str:
    session.expire_all()
    message = session.exec(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    return re.search(r"\b(\d{6})\b", message.body).group(1)


def enter_code(client, code: str, email="bilal@example.pk", password="a long passphrase"):
    token = csrf_token(client, "/portal/activate/code")
    data = {"code": code, "email": email, "password": password, "password_again": password}
    return client.post("/portal/activate/code", data={**data, "csrf_token": token})


def amount(text: str) -> Decimal:
    """The number in a PKR amount as the page shows it (e.g. 'Rs 6,990.00')."""
    return Decimal(re.sub(r"[^\d.]", "", text))


def test_activation_sends_a_hashed_code_through_the_outbox_and_opens_the_account(
    loan, session, client, auth
):
    response = ask_for_code(client)
    assert response.status_code == 303 and response.headers["Location"] == "/portal/activate/code"
    message = session.exec(select(OutboxMessage)).one()
    assert (message.channel, message.recipient) == (OutboxChannel.SMS, "+923012345678")
    code = sent_code(session)
    stored = session.exec(select(ActivationCode)).one()
    assert code not in stored.code_hash and len(stored.code_hash) == 64
    done = enter_code(client, code)
    assert done.status_code == 303 and done.headers["Location"] == "/portal/"
    page = client.get("/portal/").get_data(as_text=True)
    assert f"Loan {loan.id}" in page
    user = session.exec(select(User).where(User.email == "bilal@example.pk")).one()
    assert (user.role, user.applicant_id) == (Role.BORROWER, loan.applicant_id)
    assert client.get("/portal/activate/code").status_code == 303  # the step is over
    auth.logout()
    assert auth.login("bilal@example.pk", "a long passphrase").headers["Location"] == "/portal/"
    assert "portal.activated" in session.exec(select(AuditEvent.action)).all()


def test_a_wrong_code_counts_and_too_many_wrong_codes_lock_it(loan, session, client):
    ask_for_code(client)
    code = sent_code(session)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(MAX_ATTEMPTS):
        response = enter_code(client, wrong)
        assert response.status_code == 422
        assert "The code is not right or has expired." in response.get_data(as_text=True)
    session.expire_all()
    assert session.exec(select(ActivationCode)).one().attempts == MAX_ATTEMPTS
    assert enter_code(client, code).status_code == 422  # locked even for the right code
    assert count(session, User) == 3  # the agent, the underwriter and the admin only


def test_an_expired_code_is_refused(app, loan, session, client):
    ask_for_code(client)
    app.extensions["lending.clock"] = lambda: NOW + timedelta(minutes=11)
    assert enter_code(client, sent_code(session)).status_code == 422


def test_unknown_details_look_the_same_and_send_nothing(loan, session, client):
    response = ask_for_code(client, mobile="0300 7654321")
    assert response.status_code == 303 and response.headers["Location"] == "/portal/activate/code"
    assert count(session, OutboxMessage) == 0
    assert enter_code(client, "123456").status_code == 422


def test_at_most_three_codes_an_hour(loan, session, client):
    for _ in range(4):
        ask_for_code(client)
    assert count(session, OutboxMessage) == 3
    live = [c for c in session.exec(select(ActivationCode)).all() if c.expires_at > NOW]
    assert len(live) == 1  # a new code retires the previous ones


def test_activation_form_errors_are_422_and_csrf_is_required(loan, session, client):
    token = csrf_token(client, "/portal/activate")
    bad = client.post("/portal/activate", data={"cnic": "123", "mobile": "", "csrf_token": token})
    assert bad.status_code == 422
    page = bad.get_data(as_text=True)
    assert "Not a valid CNIC" in page and "Missing data for required field." in page
    forged = client.post("/portal/activate", data={"cnic": CNIC, "mobile": MOBILE})
    assert forged.status_code == 400
    ask_for_code(client)
    short = enter_code(client, sent_code(session), password="short")
    assert short.status_code == 422 and "Use 10 to 200 characters." in short.get_data(as_text=True)
    assert count(session, OutboxMessage) == 1


def test_an_email_in_use_is_refused_without_spending_the_code(loan, session, client):
    ask_for_code(client)
    code = sent_code(session)
    taken = session.exec(select(User)).first().email
    assert enter_code(client, code, email=taken).status_code == 422
    assert enter_code(client, code).status_code == 303


def test_loan_page_shows_the_schedule_payments_and_next_due(loan, borrower, session, client):
    pay(client, loan.id, "1000.00", "p-1", headers={"Authorization": "Bearer lnd_agent_token"})
    sent = NOW - timedelta(hours=1)
    f.OutboxMessageFactory(
        loan_id=loan.id,
        body="Your instalment of Rs 6,990 is due on 28 Dec.",
        status="sent",
        sent_at=sent,
    )
    f.OutboxMessageFactory(loan_id=loan.id, body="Queued, not sent yet.")
    f.OutboxMessageFactory(
        loan_id=loan.id, channel="webhook", body="lock", status="sent", sent_at=sent
    )
    response = client.get(f"/portal/loans/{loan.id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    rows = re.findall(r'<tr data-n="(\d+)" class="(\w+)">(.*?)</tr>', page, re.S)
    assert [(n, status) for n, status, _ in rows][:2] == [("1", "partly_paid"), ("2", "due")]
    cells = re.findall(r'data-col="(\w+)">([^<]+)<', rows[0][2])
    assert {k: amount(v) for k, v in cells} == {
        "total": Decimal("6990.00"),
        "paid": Decimal("1000.00"),
        "unpaid": Decimal("5990.00"),
    }
    reminders = re.search(r'id="reminders">(.*?)</ul>', page, re.S).group(1)
    assert "Your instalment of Rs 6,990 is due on 28 Dec." in reminders
    assert "Queued" not in reminders and "lock" not in reminders
    assert re.search(r'data-amount="next-due">([^<]+)<', page).group(1).strip().endswith("5,990.00")
    assert "Cancel this loan" not in page  # a payment was made


def test_payoff_quote_on_the_page_is_the_api_quote(loan, borrower, session, client):
    page = client.get(f"/portal/loans/{loan.id}?as_of=2026-12-13").get_data(as_text=True)
    shown = re.search(r'data-amount="payoff">([^<]+)<', page).group(1)
    assert amount(shown) == Decimal("38973.65")
    bad = client.get(f"/portal/loans/{loan.id}?as_of=2020-01-01")
    assert bad.status_code == 422
    assert "The date must not be before the loan was booked." in bad.get_data(as_text=True)


def test_borrower_sees_only_own_loans(loan, session, client, auth):
    stranger = f.UserFactory(role=Role.BORROWER, applicant_id=f.ApplicantFactory().id)
    auth.login(stranger.email, f.PASSWORD)
    assert client.get(f"/portal/loans/{loan.id}").status_code == 404
    assert client.get(f"/portal/loans/{loan.id}/statement").status_code == 404
    assert f"Loan {loan.id}" not in client.get("/portal/").get_data(as_text=True)
    refused = session.exec(select(AuditEvent).where(AuditEvent.action == "access.foreign_object"))
    assert len(refused.all()) == 2
    auth.logout()
    assert client.get("/portal/").status_code == 302  # to the log-in page


def test_staff_do_not_use_the_portal(loan, client, auth):
    admin = f.UserFactory(role=Role.ADMIN)
    auth.login(admin.email, f.PASSWORD)
    assert client.get(f"/portal/loans/{loan.id}").status_code == 403


def test_borrower_cancels_in_cooling_off_from_the_portal(app, loan, borrower, session, client):
    page = client.get(f"/portal/loans/{loan.id}").get_data(as_text=True)
    assert "Cancel this loan" in page
    token = csrf_token(client, f"/portal/loans/{loan.id}")
    response = client.post(f"/portal/loans/{loan.id}/cancel", data={"csrf_token": token})
    assert response.status_code == 303
    session.expire_all()
    assert session.get(Loan, loan.id).status == LoanStatus.CANCELLED
    after = client.get(f"/portal/loans/{loan.id}").get_data(as_text=True)
    assert "Your loan is cancelled." in after and "Cancel this loan" not in after


def test_cancel_after_the_period_explains_why(app, loan, borrower, session, client):
    token = csrf_token(client, f"/portal/loans/{loan.id}")
    app.extensions["lending.clock"] = lambda: NOW + timedelta(days=2)
    response = client.post(
        f"/portal/loans/{loan.id}/cancel", data={"csrf_token": token}, follow_redirects=True
    )
    assert "cooling-off period of this loan has ended" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Loan, loan.id).status == LoanStatus.ACTIVE


def test_language_switch_is_saved_and_the_portal_speaks_urdu_right_to_left(
    loan, borrower, session, client
):
    token = csrf_token(client, "/portal/")
    response = client.post(
        "/portal/language", data={"lang": "ur", "next": "/portal/", "csrf_token": token}
    )
    assert response.status_code == 303 and response.headers["Location"] == "/portal/"
    assert "lang=ur" in response.headers["Set-Cookie"]
    session.expire_all()
    assert session.get(User, borrower.id).language == "ur"
    page = client.get(f"/portal/loans/{loan.id}").get_data(as_text=True)
    assert 'lang="ur" dir="rtl"' in page
    assert "قسطوں کا شیڈول" in page and "باقی رقم" in page  # schedule, left to pay
    assert "6,990.00" in page


def test_language_cookie_works_before_logging_in_and_next_stays_local(client):
    token = csrf_token(client, "/portal/activate")
    response = client.post(
        "/portal/language", data={"lang": "ur", "next": "//evil.example", "csrf_token": token}
    )
    assert response.headers["Location"] == "/"
    page = client.get("/portal/activate").get_data(as_text=True)
    assert 'dir="rtl"' in page and "اپنا اکاؤنٹ کھولیں" in page
    token = csrf_token(client, "/portal/activate")
    odd = client.post("/portal/language", data={"lang": "fr", "csrf_token": token})
    assert odd.status_code == 422 and "Set-Cookie" not in odd.headers


def test_statement_is_a_printable_page_with_the_amounts(loan, borrower, client):
    page = client.get(f"/portal/loans/{loan.id}/statement").get_data(as_text=True)
    assert "Loan statement" in page and "data-print" in page and "/static/print.js" in page
    outstanding = re.search(r'data-amount="outstanding">([^<]+)<', page).group(1)
    assert amount(outstanding) == Decimal("41936.77")
