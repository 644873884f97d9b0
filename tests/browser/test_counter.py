"""At the counter on a 360 px phone: fill the form, get the answer, read the KFS, book."""

import pytest
from sqlmodel import Session, select

from lending.db import get_engine
from lending.models import Application, Instalment, Loan
from lending.services.seed import DEMO_LOGINS
from tests.browser.conftest import screenshot
from tests.factories import imei

pytestmark = pytest.mark.browser


def log_in(page, base, role):
    login = next(x for x in DEMO_LOGINS if x.role == role)
    page.goto(f"{base}/auth/login")
    page.get_by_label("E-mail").fill(login.email)
    page.get_by_label("Password").fill(login.password)
    page.get_by_role("button", name="Log in").click()


def test_shop_assistant_sells_a_phone_on_instalments(live_server, page):
    base, app = live_server
    log_in(page, base, "retailer")
    page.wait_for_url(f"{base}/retailer/applications/new")
    page.get_by_label("CNIC", exact=True).fill("61101-9876543-1")
    page.get_by_label("Full name (as on CNIC)").fill("Zainab Noor")
    page.get_by_label("Date of birth").fill("1995-08-14")
    page.get_by_label("Mobile number").fill("0312 7654321")
    page.get_by_label("Work", exact=True).select_option("freelancer")
    page.get_by_label("Net monthly income (Rs)").fill("140000")
    page.get_by_label("IMEI", exact=True).fill(imei(424242, "86711205"))
    page.get_by_label("Price (Rs)").fill("32999")
    page.get_by_label("Down payment (Rs)").fill("9900")
    page.get_by_label("Product", exact=True).select_option("QIST-STD")
    page.get_by_label("Number of instalments").select_option("6")
    screenshot(page, "counter-form-filled")
    page.get_by_role("button", name="Get the answer").click()
    page.wait_for_selector("text=Approved.")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "offer")
    page.get_by_role("link", name="Key Fact Statement (print)").click()
    page.wait_for_selector("text=Annual percentage rate")
    screenshot(page, "key-fact-statement")
    page.go_back()
    page.get_by_label("The customer has read the Key Fact Statement").check()
    page.get_by_role("button", name="Accept and book the loan").click()
    page.wait_for_selector("text=is booked")
    with Session(get_engine(app)) as session:
        application = session.exec(
            select(Application).where(Application.imei == imei(424242, "86711205"))
        ).one()
        loan = session.exec(select(Loan).where(Loan.application_id == application.id)).one()
        rows = session.exec(select(Instalment).where(Instalment.loan_id == loan.id)).all()
    assert application.status == "accepted"
    assert loan.principal == sum(r.principal for r in rows)
    first = f"{rows[0].total:,.2f}"
    assert first in page.content()  # the page shows the booked schedule to the paisa


def test_form_errors_are_shown_next_to_the_fields(live_server, page):
    base, _ = live_server
    log_in(page, base, "retailer")
    page.wait_for_url(f"{base}/retailer/applications/new")
    page.get_by_label("CNIC", exact=True).fill("123")
    page.get_by_role("button", name="Get the answer").click()
    assert page.locator("#applicant\\.cnic-error").inner_text().startswith("Not a valid CNIC")
    assert page.get_by_label("CNIC", exact=True).input_value() == "123"
    screenshot(page, "counter-form-errors")
