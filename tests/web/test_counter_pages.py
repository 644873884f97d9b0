"""The counter form, the answer page, the Key Fact Statement and the underwriter's page."""

import re

import pytest
from sqlmodel import func, select

from lending.models import Applicant, Application, Loan
from lending.models.enums import Role
from tests import factories as f
from tests.conftest import csrf_token
from tests.web.helpers import NOW

FORM = {
    "applicant.cnic": "35202-1234567-3",
    "applicant.full_name": "Bilal Ahmed",
    "applicant.date_of_birth": "1991-06-15",
    "applicant.mobile": "0301 2345678",
    "applicant.employment_type": "salaried",
    "applicant.monthly_income": "150000",
    "applicant.monthly_obligations": "0",
    "device.imei": f.imei(1, "35332716"),
    "device.price": "54999",
    "down_payment": "16500",
    "product_code": "QIST-STD",
    "tenor": "6",
}


@pytest.fixture
def agent(app, session, auth):
    from lending.services.seed import seed_reference

    seed_reference(session)
    session.commit()
    app.extensions["lending.clock"] = lambda: NOW
    user = f.UserFactory(retailer=True)
    auth.login(user.email, f.PASSWORD)
    return user


def submit(client, **changes):
    data = {**FORM, **changes, "csrf_token": csrf_token(client, "/retailer/applications/new")}
    return client.post("/retailer/applications/new", data=data)


def test_form_errors_are_shown_beside_the_fields_with_values_kept(agent, session, client):
    response = submit(client, **{"applicant.cnic": "123", "device.imei": "12345"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="applicant.cnic-error"' in page and "Not a valid CNIC" in page
    assert 'id="device.imei-error"' in page
    assert 'value="Bilal Ahmed"' in page and 'value="123"' in page
    assert session.exec(select(func.count()).select_from(Applicant)).one() == 0


def test_form_without_csrf_is_refused(agent, session, client):
    response = client.post("/retailer/applications/new", data=FORM)
    assert response.status_code == 400
    assert session.exec(select(func.count()).select_from(Application)).one() == 0


def test_instant_answer_then_key_facts_then_booking(agent, session, client):
    response = submit(client)
    assert response.status_code == 303
    answer = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Approved" in answer and "Rs\u00a038,499.00" in answer
    application = session.exec(select(Application)).one()
    kfs = client.get(f"/retailer/applications/{application.id}/kfs").get_data(as_text=True)
    assert "Annual percentage rate" in kfs and "سالانہ فیصد شرح" in kfs
    assert application.offer["apr"] + "%" in kfs
    token = csrf_token(client, f"/retailer/applications/{application.id}")
    url = f"/retailer/applications/{application.id}/accept"
    # Without the Key Fact Statement box ticked nothing is booked.
    client.post(url, data={"csrf_token": token})
    assert session.exec(select(func.count()).select_from(Loan)).one() == 0
    client.post(url, data={"csrf_token": token, "kfs_read": "yes"})
    loan = session.exec(select(Loan)).one()
    page = client.get(f"/retailer/applications/{application.id}").get_data(as_text=True)
    assert f"Loan {loan.id} is booked" in page


def test_underwriter_decides_a_referral_on_the_staff_page(agent, session, client, auth):
    submit(client, **{"device.imei": f.imei(5, "99999999")})
    application = session.exec(select(Application)).one()
    assert application.status == "referred"
    auth.logout()
    underwriter = f.UserFactory(role=Role.UNDERWRITER)
    auth.login(underwriter.email, f.PASSWORD)
    queue = client.get("/staff/referrals").get_data(as_text=True)
    assert f"/staff/applications/{application.id}" in queue
    url = f"/staff/applications/{application.id}"
    token = csrf_token(client, url)
    no_note = client.post(url, data={"csrf_token": token, "status": "approved"})
    assert no_note.status_code == 422
    done = client.post(
        url, data={"csrf_token": token, "status": "approved", "note": "Checked the box and receipt"}
    )
    assert done.status_code == 303
    session.expire_all()
    assert session.get(Application, application.id).status == "approved"
    assert re.search(r"0 waiting", client.get("/staff/referrals").get_data(as_text=True))


def test_a_retailer_cannot_open_the_staff_pages(agent, client):
    assert client.get("/staff/referrals").status_code == 403
