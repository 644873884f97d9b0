"""Public pages, the OpenAPI document and the shop's application pages."""

from decimal import Decimal

from tests import factories as f


def test_home_page_and_health(client):
    page = client.get("/")
    assert page.status_code == 200
    assert "Phones on instalments" in page.get_data(as_text=True)
    assert client.get("/healthz").json == {"status": "ok"}


def test_openapi_document_lists_the_api(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    spec = response.json
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/applications/{application_id}" in spec["paths"]
    assert "/api/v1/products" in spec["paths"]
    assert "ApplicationDocument" in spec["components"]["schemas"]


def test_shop_pages_need_a_log_in(client):
    response = client.get("/retailer/applications")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")


def test_shop_sees_only_its_own_applications(session, client, auth):
    agent = f.UserFactory(retailer=True)
    mine = f.ApplicationFactory(retailer_id=agent.retailer_id, device_price="123456.50")
    theirs = f.ApplicationFactory()
    auth.login(agent.email, f.PASSWORD)
    page = client.get("/retailer/applications").get_data(as_text=True)
    assert f'/retailer/applications/{mine.id}"' in page
    assert f'/retailer/applications/{theirs.id}"' not in page
    assert "Rs\u00a0123,456.50" in page
    assert client.get(f"/retailer/applications/{mine.id}").status_code == 200
    assert client.get(f"/retailer/applications/{theirs.id}").status_code == 404


def test_application_page_masks_the_cnic(session, client, auth):
    agent = f.UserFactory(retailer=True)
    applicant = f.ApplicantFactory(cnic="4210112345671")
    application = f.ApplicationFactory(retailer_id=agent.retailer_id, applicant_id=applicant.id)
    auth.login(agent.email, f.PASSWORD)
    page = client.get(f"/retailer/applications/{application.id}").get_data(as_text=True)
    assert "4210112345671" not in page and "42101-1234567-1" not in page
    assert "•••••-•••4567-1" in page


def test_public_quote_for_a_product(session, client):
    from lending.services.seed import seed_reference

    seed_reference(session)
    session.commit()
    response = client.get("/api/v1/quote?amount=40000&tenor=6&product_code=QIST-FLAT")
    assert response.status_code == 200, response.json
    offer = response.json
    # Flat 24% a year on 40,000 plus the financed Rs 1,000 fee: markup 41,000 x 24% x 6/12.
    assert offer["financed_amount"] == "41000.00"
    assert offer["total_profit"] == "4920.00"
    assert sum(Decimal(r["total"]) for r in offer["schedule"]) == Decimal(offer["total_payable"])
    assert offer["product_code"] == "QIST-FLAT"


def test_quote_refuses_bad_input_with_field_errors(session, client):
    from lending.services.seed import seed_reference

    seed_reference(session)
    session.commit()
    bad = client.get("/api/v1/quote?amount=-5&tenor=x&product_code=QIST-FLAT")
    assert bad.status_code == 422
    assert set(bad.json["errors"]) == {"amount", "tenor"}
    tenor = client.get("/api/v1/quote?amount=40000&tenor=5&product_code=QIST-FLAT")
    assert tenor.json == {"errors": {"tenor": ["This product offers 3, 6, 12 instalments."]}}
    unknown = client.get("/api/v1/quote?amount=40000&tenor=6&product_code=NOPE")
    assert unknown.status_code == 422


def test_quote_terms_the_engine_refuses_are_422_on_amount(session, client):
    from lending.services.seed import seed_reference

    seed_reference(session)
    session.commit()
    # The engine prices at most PKR 10,000,000: a larger amount is the caller's field error.
    response = client.get("/api/v1/quote?amount=20000000&tenor=6&product_code=QIST-FLAT")
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["amount"]
