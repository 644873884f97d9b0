"""Public pages, the OpenAPI document and the shop's application pages."""

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
