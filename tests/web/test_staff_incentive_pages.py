"""Staff pages: registry import, programme versions, the claims page and its CSV."""

import io
import re

import pytest
from sqlmodel import select

from lending.models import DeviceTac, IncentiveProgramme
from lending.models.enums import Role
from tests import factories as f
from tests.conftest import csrf_token
from tests.web.helpers import AGENT, body, post


@pytest.fixture
def admin(setup, auth):
    user = f.UserFactory(role=Role.ADMIN)
    auth.login(user.email, f.PASSWORD)
    return user


def test_admin_imports_tacs_from_the_registry_page(admin, session, client):
    token = csrf_token(client, "/staff/registry")
    csv = (
        "manufacturer,assembled_in_pk,assembler,model,list_price,tacs\n"
        "Infinix,true,Transsion local plant,Hot 50,38999,35666666\n"
        "Infinix,true,Transsion local plant,Hot 50 Pro,44999,12\n"
    )
    page = client.post(
        "/staff/registry",
        data={"csrf_token": token, "file": (io.BytesIO(csv.encode()), "tacs.csv")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "2 rows: 1 imported (1 new TACs), 1 rejected" in page
    assert "line 3: tacs:" in page
    assert session.get(DeviceTac, "35666666") is not None


def test_underwriter_sees_the_registry_but_cannot_import(setup, session, client, auth):
    user = f.UserFactory(role=Role.UNDERWRITER)
    auth.login(user.email, f.PASSWORD)
    page = client.get("/staff/registry?local=no").get_data(as_text=True)
    assert "iPhone 15" in page and "Galaxy A15" not in page
    assert 'type="file"' not in page


def test_programme_is_created_and_revised_as_versions(admin, session, client):
    token = csrf_token(client, "/staff/programmes")
    form = {
        "csrf_token": token,
        "code": "FREELANCE-PK",
        "name": "Freelancer phones",
        "sponsor": "PSEB (demo)",
        "valid_from": "2026-11-01",
        "valid_to": "2027-03-31",
        "local_only": "true",
        "markup_discount_bp": "300",
        "subsidy_per_loan": "1000",
        "budget_count": "100",
    }
    assert client.post("/staff/programmes", data=form).status_code == 303
    bad = client.post("/staff/programmes", data={**form, "code": "X2", "valid_to": "2026-01-01"})
    assert bad.status_code == 422 and "must not be before the start" in bad.get_data(as_text=True)
    revised = client.post(
        "/staff/programmes/FREELANCE-PK", data={**form, "markup_discount_bp": "450"}
    )
    assert revised.status_code == 303
    versions = session.exec(
        select(IncentiveProgramme)
        .where(IncentiveProgramme.code == "FREELANCE-PK")
        .order_by(IncentiveProgramme.version)
    ).all()
    assert [(v.version, v.current, v.markup_discount_bp) for v in versions] == [
        (1, False, 300),
        (2, True, 450),
    ]


def test_claims_page_and_csv(admin, session, client):
    doc = post(client, body())
    client.post(f"/api/v1/applications/{doc.json['id']}/accept", headers=AGENT)
    page = client.get("/staff/claims?month=2026-11").get_data(as_text=True)
    assert "DPL-2026" in page and "Rs\u00a02,000.00" in page
    csv = client.get("/staff/claims?month=2026-11&format=csv")
    assert csv.mimetype == "text/csv" and "DPL-2026" in csv.get_data(as_text=True)
    assert client.get("/staff/claims?month=nope").status_code == 422
    # The ledger agrees with the claim; the sponsor's payment is recorded from the page.
    assert "agrees with the claim" in page
    token = csrf_token(client, "/staff/claims?month=2026-11")
    form = {
        "csrf_token": token,
        "month": "2026-11",
        "programme": "DPL-2026",
        "amount": "2000.01",
        "reference": "HBL-77",
        "received_on": "2026-11-28",
    }
    refused = client.post("/staff/claims/receipts", data=form)
    assert refused.status_code == 422
    assert "Rs 2,000.00 outstanding" in refused.get_data(as_text=True)
    done = client.post("/staff/claims/receipts", data={**form, "amount": "2000.00"})
    assert done.status_code == 303
    paid = client.get("/staff/claims?month=2026-11").get_data(as_text=True)
    assert re.search(r'id="outstanding">Rs.0\.00<', paid)
    assert "Record a sponsor" not in paid  # nothing left to record
