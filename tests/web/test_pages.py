"""Public pages, the OpenAPI document and the shop's application pages."""

from decimal import Decimal
from types import SimpleNamespace

import pytest

from lending.schemas.loans import LoanDocumentSchema
from lending.web.filters import pct
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


def test_products_api_shows_four_place_rates_and_the_servicing_terms(session, client, auth):
    user = f.UserFactory(retailer=True)
    f.ApiTokenFactory(user_id=user.id, token="lnd_pages_products_token")
    for code, rate in (("P-4DP", "9.4822"), ("P-3DP", "9.4820"), ("P-2DP", "36")):
        f.ProductFactory(code=code, annual_rate=Decimal(rate), processing_fee_pct=Decimal("2.5"))
    f.ProductFactory(
        code="P-SRV",
        arrears_tolerance_amount=Decimal("50"),
        arrears_tolerance_pct=Decimal("2.5"),
        settlement_rebate_pct=Decimal("80"),
        overpayment_tolerance=Decimal("250.5"),
    )
    response = client.get("/api/v1/products", headers=auth.bearer("lnd_pages_products_token"))
    assert response.status_code == 200
    products = {p["code"]: p for p in response.json}
    rates = {code: products[code]["annual_rate"] for code in ("P-4DP", "P-3DP", "P-2DP")}
    assert rates == {"P-4DP": "9.4822", "P-3DP": "9.482", "P-2DP": "36.00"}
    assert products["P-4DP"]["processing_fee_pct"] == "2.50"  # other percentages: two places
    servicing = {
        k: products["P-SRV"][k]
        for k in (
            "arrears_tolerance_amount",
            "arrears_tolerance_pct",
            "prepayment",
            "settlement_rebate_pct",
            "overpayment_tolerance",
        )
    }
    assert servicing == {
        "arrears_tolerance_amount": "50.00",
        "arrears_tolerance_pct": "2.50",
        "prepayment": "next_instalments",
        "settlement_rebate_pct": "80.00",
        "overpayment_tolerance": "250.50",
    }
    assert products["P-2DP"]["settlement_rebate_pct"] == "100.00"  # the defaults
    assert products["P-2DP"]["overpayment_tolerance"] == "100.00"


def test_loan_document_shows_the_annual_rate_to_four_places_and_the_apr_to_two():
    def dump(rate: str, apr: str) -> dict:
        loan = SimpleNamespace(annual_rate=Decimal(rate), apr=Decimal(apr))
        return LoanDocumentSchema(only=("annual_rate", "apr")).dump({"loan": loan})

    assert dump("9.4822", "10.1200") == {"annual_rate": "9.4822", "apr": "10.12"}
    assert dump("36.0000", "42.5800") == {"annual_rate": "36.00", "apr": "42.58"}


def test_openapi_gives_rates_and_servicing_terms_as_strings(client):
    product = client.get("/openapi.json").json["components"]["schemas"]["Product"]["properties"]
    assert product["annual_rate"] == {"type": "string", "format": "decimal"}
    assert product["overpayment_tolerance"] == {"type": "string", "format": "decimal"}
    assert product["prepayment"]["type"] == "string"


@pytest.mark.parametrize(
    ("rate", "shown"),
    [
        (Decimal("9.4822"), "9.4822%"),
        (Decimal("9.4820"), "9.482%"),
        (Decimal("9.4800"), "9.48%"),
        (Decimal("36"), "36.00%"),
        ("27.15", "27.15%"),
        (Decimal("0.00005"), "0.0001%"),
        (None, "—"),
    ],
)
def test_pct_shows_two_places_or_up_to_four_where_the_rate_has_them(rate, shown):
    assert pct(rate) == shown


def test_the_staff_product_list_shows_a_four_place_rate(setup, session, client, auth):
    f.ProductFactory(code="P-4DP", annual_rate=Decimal("9.4822"))
    admin = f.UserFactory(role="admin")
    auth.login(admin.email, f.PASSWORD)
    listing = client.get("/staff/products").get_data(as_text=True)
    assert "9.4822%" in listing and "36.00%" in listing


def test_the_counter_form_shows_a_four_place_rate(setup, session, client, auth):
    f.ProductFactory(code="P-4DP", name="Four places", annual_rate=Decimal("9.4822"))
    auth.login(setup.email, f.PASSWORD)
    counter = client.get("/retailer/applications/new").get_data(as_text=True)
    assert "Four places (9.4822%, 3/6/12)" in counter
