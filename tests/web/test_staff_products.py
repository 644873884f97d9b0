"""Product pages: create and edit as versions, validation, roles, and booked loans' terms."""

from decimal import Decimal

import pytest
from sqlmodel import select

from lending.models import AuditEvent, Loan, Product, ProductVersion
from lending.models.enums import Role
from lending.services.products import terms_for_loan
from tests import factories as f
from tests.conftest import csrf_token
from tests.web.helpers import count
from tests.web.servicing import book_loan


@pytest.fixture
def admin(setup, auth):
    user = f.UserFactory(role=Role.ADMIN)
    auth.login(user.email, f.PASSWORD)
    return user


def product_form(client, code: str, **changes) -> dict:
    """The edit form of a product as the page fills it, with changes."""
    page = client.get(f"/staff/products/{code}").get_data(as_text=True)
    product = {
        "name": "Standard phone instalments",
        "method": "reducing",
        "frequency": "monthly",
        "day_count": "30/360",
        "annual_rate": "36",
        "tenors": "3, 6, 9, 12",
        "processing_fee_pct": "2",
        "processing_fee_fixed": "0",
        "min_down_payment_pct": "25",
        "min_price": "10000",
        "max_price": "500000",
        "max_dbr_pct": "40",
        "rounding": "1",
        "roll_holidays": "true",
        "late_fee_fixed": "500",
        "late_fee_pct": "0",
        "grace_days": "3",
        "arrears_tolerance_amount": "0",
        "arrears_tolerance_pct": "0",
        "prepayment": "next_instalments",
        "settlement_rebate_pct": "100",
        "overpayment_tolerance": "100",
        "reminder_offsets": "-3, 0, 1, 7, 30",
        "lock_after_dpd": "30",
        "cooling_off_hours": "24",
        "offer_valid_days": "7",
        "active": "true",
    }
    assert 'name="late_fee_fixed" type="text" value="500.00"' in page
    assert 'name="overpayment_tolerance" type="text" value="100.00"' in page
    return {**product, "csrf_token": csrf_token(client, f"/staff/products/{code}"), **changes}


def test_editing_the_late_fee_keeps_booked_loans_terms_and_applies_to_new_loans(
    admin, session, client
):
    first = book_loan(client)
    form = product_form(client, "QIST-STD", late_fee_fixed="750", grace_days="5", based_on="1")
    assert client.post("/staff/products/QIST-STD", data=form).status_code == 303
    second = book_loan(
        client, applicant__cnic=f.cnic(7_654_321), device__imei=f.imei(2, "35332716")
    )
    session.expire_all()
    old, new = (terms_for_loan(session, session.get(Loan, i)) for i in (first, second))
    assert (old.version, old.late_fee.fixed, old.late_fee.grace_days) == (1, Decimal("500.00"), 3)
    assert (new.version, new.late_fee.fixed, new.late_fee.grace_days) == (2, Decimal("750.00"), 5)
    product = session.exec(select(Product).where(Product.code == "QIST-STD")).one()
    assert (product.version, product.late_fee_fixed) == (2, Decimal("750.00"))
    [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "product.revised")).all()
    assert (event.actor_id, event.before["late_fee_fixed"], event.after["late_fee_fixed"]) == (
        admin.id,
        "500.00",
        "750.00",
    )
    assert event.detail["changed"] == ["late_fee_fixed", "grace_days"]


def test_admin_creates_a_product_as_version_one(admin, session, client):
    form = {
        **product_form(client, "QIST-STD"),
        "code": "QIST-18",
        "name": "Eighteen months",
        "tenors": "18, 12",
        "islamic": "true",
        "late_fee_cap": "1500",
    }
    response = client.post("/staff/products/new", data=form)
    assert response.status_code == 303
    product = session.exec(select(Product).where(Product.code == "QIST-18")).one()
    assert (product.tenors, product.islamic, product.late_fee_cap) == (
        [12, 18],
        True,
        Decimal("1500.00"),
    )
    versions = session.exec(
        select(ProductVersion).where(ProductVersion.product_id == product.id)
    ).all()
    assert [(v.version, v.tenors) for v in versions] == [(1, [12, 18])]
    assert count(session, AuditEvent) >= 1
    assert "QIST-18" in client.get("/staff/products").get_data(as_text=True)


def test_bad_terms_are_422_beside_the_fields_and_nothing_is_written(admin, session, client):
    before = (count(session, Product), count(session, ProductVersion), count(session, AuditEvent))
    form = product_form(
        client,
        "QIST-STD",
        annual_rate="12.34567",
        tenors="3, x",
        max_dbr_pct="50",
        max_price="5000",
        late_fee_fixed="100",
        late_fee_cap="50",
        reminder_offsets="0, 0",
    )
    response = client.post("/staff/products/QIST-STD", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    for field, message in [
        ("annual_rate", "at most four decimals"),
        ("tenors", "Whole numbers separated by commas"),
        ("max_dbr_pct", "Must be from 1 to 40"),
        ("max_price", "Must be more than the minimum price"),
        ("late_fee_cap", "Must not be below the fixed late fee"),
        ("reminder_offsets", "A number is repeated"),
    ]:
        assert f'<p class="field-error" id="{field}-error">' in page, field
        assert message in page, message
    assert 'value="12.34567"' in page  # what was typed is kept
    after = (count(session, Product), count(session, ProductVersion), count(session, AuditEvent))
    assert after == before


def test_a_rate_with_four_decimals_is_kept_exactly_and_quoted_to_the_paisa(admin, session, client):
    form = {**product_form(client, "QIST-STD"), "code": "QIST-4DP", "annual_rate": "9.4822"}
    assert client.post("/staff/products/new", data=form).status_code == 303
    session.expire_all()
    product = session.exec(select(Product).where(Product.code == "QIST-4DP")).one()
    assert product.annual_rate == Decimal("9.4822")
    [version] = session.exec(
        select(ProductVersion).where(ProductVersion.product_id == product.id)
    ).all()
    assert version.annual_rate == Decimal("9.4822")
    # 100,000 at 9.4822% over 12 months, rounded up to the rupee: the first month earns
    # 100,000 x 9.4822% / 12 = 790.18 (790.00 had the rate been cut to 9.48%), 8,768 a month.
    offer = client.get("/api/v1/quote?amount=100000&tenor=12&product_code=QIST-4DP").json
    assert offer["instalment_amount"] == "8768.00"
    assert offer["schedule"][0]["profit"] == "790.18"
    assert offer["schedule"][-1]["total"] == "8762.04"


def test_the_edit_form_shows_a_four_decimal_rate_as_stored(admin, session, client):
    form = {**product_form(client, "QIST-STD"), "code": "QIST-4DP", "annual_rate": "9.4822"}
    assert client.post("/staff/products/new", data=form).status_code == 303
    page = client.get("/staff/products/QIST-4DP").get_data(as_text=True)
    assert 'name="annual_rate" type="text" value="9.4822"' in page  # re-saving keeps it
    assert "9.4822%" in page  # the versions table
    assert 'name="annual_rate" type="text" value="36.00"' in client.get(
        "/staff/products/QIST-STD"
    ).get_data(as_text=True)
    assert 'value="1" selected' in page  # the rounding select still matches "1"


def test_a_rate_with_five_decimals_is_422_and_nothing_is_written(admin, session, client):
    before = (count(session, Product), count(session, ProductVersion), count(session, AuditEvent))
    new = {**product_form(client, "QIST-STD"), "code": "QIST-5DP", "annual_rate": "9.48221"}
    edit = product_form(client, "QIST-STD", annual_rate="9.48221", based_on="1")
    for path, form in (("/staff/products/new", new), ("/staff/products/QIST-STD", edit)):
        response = client.post(path, data=form)
        page = response.get_data(as_text=True)
        assert response.status_code == 422
        assert '<p class="field-error" id="annual_rate-error">' in page
        assert "A percentage with at most four decimals." in page
    after = (count(session, Product), count(session, ProductVersion), count(session, AuditEvent))
    assert after == before
    session.expire_all()
    product = session.exec(select(Product).where(Product.code == "QIST-STD")).one()
    assert (product.version, product.annual_rate) == (1, Decimal("36.0000"))


def test_an_unchanged_form_makes_no_version_and_a_stale_form_is_refused(admin, session, client):
    assert (
        client.post("/staff/products/QIST-STD", data=product_form(client, "QIST-STD")).status_code
        == 303
    )
    stale = product_form(client, "QIST-STD", annual_rate="30", based_on="0")
    response = client.post("/staff/products/QIST-STD", data=stale)
    assert response.status_code == 422
    assert "Someone else changed QIST-STD" in response.get_data(as_text=True)
    product = session.exec(select(Product).where(Product.code == "QIST-STD")).one()
    assert (product.version, product.annual_rate) == (1, Decimal("36.0000"))


def test_underwriter_reads_products_but_may_not_change_them(setup, session, client, auth):
    underwriter = f.UserFactory(role=Role.UNDERWRITER)
    auth.login(underwriter.email, f.PASSWORD)
    page = client.get("/staff/products/QIST-STD").get_data(as_text=True)
    assert "<fieldset disabled>" in page and "Save" not in page
    token = csrf_token(client, "/staff/products")
    edit = client.post("/staff/products/QIST-STD", data={"csrf_token": token, "name": "Hacked"})
    create = client.post("/staff/products/new", data={"csrf_token": token, "code": "NEW-1"})
    assert (edit.status_code, create.status_code) == (403, 403)
    assert session.exec(select(Product.name).where(Product.code == "QIST-STD")).one() != "Hacked"
    assert session.exec(select(Product).where(Product.code == "NEW-1")).first() is None


def test_retailer_may_not_open_the_product_pages(setup, client, auth):
    agent = f.UserFactory(retailer=True)
    auth.login(agent.email, f.PASSWORD)
    assert client.get("/staff/products").status_code == 403
    assert client.get("/staff/products/QIST-STD").status_code == 403


def test_terms_change_without_a_new_version_is_refused_by_the_model(session):
    product = f.ProductFactory()
    product.late_fee_fixed = Decimal("900")
    with pytest.raises(ValueError, match="without a new version"):
        session.commit()
    session.rollback()


SERVICING = {
    "arrears_tolerance_amount": "50",
    "arrears_tolerance_pct": "2.5",
    "prepayment": "next_instalments",
    "settlement_rebate_pct": "80",
    "overpayment_tolerance": "250.75",
}


def servicing_of(row) -> tuple:
    return tuple(getattr(row, name) for name in SERVICING)


def test_admin_sets_the_servicing_terms_on_a_new_product(admin, session, client):
    form = {**product_form(client, "QIST-STD"), "code": "QIST-SRV", **SERVICING}
    assert client.post("/staff/products/new", data=form).status_code == 303
    session.expire_all()
    product = session.exec(select(Product).where(Product.code == "QIST-SRV")).one()
    [version] = session.exec(
        select(ProductVersion).where(ProductVersion.product_id == product.id)
    ).all()
    stored = (
        Decimal("50.00"),
        Decimal("2.5"),
        "next_instalments",
        Decimal("80"),
        Decimal("250.75"),
    )
    assert servicing_of(product) == servicing_of(version) == stored
    page = client.get("/staff/products/QIST-SRV").get_data(as_text=True)
    for name, shown in [
        ("arrears_tolerance_amount", "50.00"),
        ("arrears_tolerance_pct", "2.50"),
        ("settlement_rebate_pct", "80.00"),
        ("overpayment_tolerance", "250.75"),
    ]:
        assert f'name="{name}" type="text" value="{shown}"' in page, name
    assert '<option value="next_instalments" selected>' in page


def test_a_new_product_takes_the_servicing_defaults(admin, session, client):
    page = client.get("/staff/products/new").get_data(as_text=True)
    assert 'name="settlement_rebate_pct" type="text" value="100.00"' in page
    assert 'name="overpayment_tolerance" type="text" value="100.00"' in page
    form = {**product_form(client, "QIST-STD"), "code": "QIST-DEF"}
    for name in SERVICING:
        form.pop(name)
    assert client.post("/staff/products/new", data=form).status_code == 303
    product = session.exec(select(Product).where(Product.code == "QIST-DEF")).one()
    assert servicing_of(product) == (0, 0, "next_instalments", 100, 100)


def test_editing_the_servicing_terms_makes_a_new_version(admin, session, client):
    first = book_loan(client)
    form = product_form(client, "QIST-STD", based_on="1", **SERVICING)
    assert client.post("/staff/products/QIST-STD", data=form).status_code == 303
    session.expire_all()
    product = session.exec(select(Product).where(Product.code == "QIST-STD")).one()
    old, new = session.exec(
        select(ProductVersion)
        .where(ProductVersion.product_id == product.id)
        .order_by(ProductVersion.version)
    ).all()
    assert (product.version, old.version, new.version) == (2, 1, 2)
    assert servicing_of(old) == (0, 0, "next_instalments", 100, 100)
    assert servicing_of(new) == servicing_of(product)
    assert servicing_of(new) == (
        Decimal("50.00"),
        Decimal("2.50"),
        "next_instalments",
        Decimal("80.00"),
        Decimal("250.75"),
    )
    assert session.get(Loan, first).product_version == 1  # the booked loan keeps version 1
    [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "product.revised")).all()
    assert event.detail["changed"] == [
        "arrears_tolerance_amount",
        "arrears_tolerance_pct",
        "settlement_rebate_pct",
        "overpayment_tolerance",
    ]
    assert (event.before["overpayment_tolerance"], event.after["overpayment_tolerance"]) == (
        "100.00",
        "250.75",
    )


BAD_SERVICING = [
    ("arrears_tolerance_amount", "-1", "Must be at least 0."),
    ("arrears_tolerance_pct", "100.5", "Must be from 0 to 100"),
    ("settlement_rebate_pct", "80.125", "A percentage with at most two decimals"),
    ("overpayment_tolerance", "lots", "Not a valid amount."),
    ("prepayment", "reduce_later", "Must be one of: next_instalments, reduce_tenor,"),
]


@pytest.mark.parametrize("path", ["/staff/products/new", "/staff/products/QIST-STD"])
def test_bad_servicing_terms_are_422_beside_the_fields_and_nothing_is_written(
    admin, session, client, path
):
    before = (count(session, Product), count(session, ProductVersion), count(session, AuditEvent))
    bad = {name: value for name, value, _ in BAD_SERVICING}
    form = {**product_form(client, "QIST-STD", based_on="1", **bad), "code": "QIST-BAD"}
    response = client.post(path, data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    for name, _value, message in BAD_SERVICING:
        assert f'<p class="field-error" id="{name}-error">' in page, name
        assert message in page, message
    after = (count(session, Product), count(session, ProductVersion), count(session, AuditEvent))
    assert after == before
    session.expire_all()
    product = session.exec(select(Product).where(Product.code == "QIST-STD")).one()
    assert (product.version, *servicing_of(product)) == (1, 0, 0, "next_instalments", 100, 100)


@pytest.mark.parametrize(
    ("terms", "value", "status"),
    [
        ({}, "reduce_instalment", 303),  # conventional reducing: re-amortises
        ({}, "reduce_tenor", 303),
        ({"method": "flat"}, "reduce_tenor", 422),  # flat: profit fixed at booking
        ({"islamic": "y"}, "reduce_instalment", 422),  # Murabaha likewise
        ({"method": "equal_principal"}, "reduce_tenor", 422),  # no level instalment
        ({}, "anything", 422),
    ],
)
def test_reducing_the_principal_is_for_conventional_reducing_products(
    admin, session, client, terms, value, status
):
    code = "QIST-STD"
    form = product_form(client, code, based_on="1", prepayment=value, **terms)
    response = client.post(f"/staff/products/{code}", data=form)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    version = session.exec(select(Product.version).where(Product.code == code)).one()
    if status == 303:
        session.expire_all()
        product = session.exec(select(Product).where(Product.code == code)).one()
        assert (version, product.prepayment) == (2, value)
    else:
        page = response.get_data(as_text=True)
        assert "for conventional reducing-balance products only" in page or (
            "Must be one of" in page
        )
        assert version == 1


def test_underwriter_may_not_change_the_servicing_terms(setup, session, client, auth):
    underwriter = f.UserFactory(role=Role.UNDERWRITER)
    auth.login(underwriter.email, f.PASSWORD)
    page = client.get("/staff/products/QIST-STD").get_data(as_text=True)
    assert page.count("<fieldset disabled>") == page.count("<fieldset")
    assert 'name="overpayment_tolerance" type="text" value="100.00"' in page
    token = csrf_token(client, "/staff/products/QIST-STD")
    form = {**SERVICING, "csrf_token": token, "based_on": "1"}
    edit = client.post("/staff/products/QIST-STD", data=form)
    create = client.post("/staff/products/new", data={**form, "code": "NEW-SRV"})
    assert (edit.status_code, create.status_code) == (403, 403)
    product = session.exec(select(Product).where(Product.code == "QIST-STD")).one()
    assert (product.version, *servicing_of(product)) == (1, 0, 0, "next_instalments", 100, 100)
    assert [
        v.version
        for v in session.exec(
            select(ProductVersion).where(ProductVersion.product_id == product.id)
        ).all()
    ] == [1]
