"""A referral end to end on a 360 px phone: the shop applies, an underwriter approves, the shop
sees the offer and books it; then the dashboard, the staff pages and the borrower's portal.

The screenshots under docs/screenshots/ are the ones the README shows.
"""

import os
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import Session, select

from lending.db import get_engine
from lending.models import Application, Instalment, Loan
from lending.models.enums import LoanStatus
from lending.services.seed import DEMO_LOGINS
from tests.browser.conftest import screenshot
from tests.factories import imei

pytestmark = pytest.mark.browser

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
UNKNOWN_PHONE = imei(777001, "99999999")  # a TAC the registry does not know: referred


def login(page, base: str, role: str) -> None:
    """Log in as the demo user of a role (logging out whoever was in)."""
    page.context.clear_cookies()
    who = next(x for x in DEMO_LOGINS if x.role == role)
    page.goto(f"{base}/auth/login")
    page.get_by_label("E-mail").fill(who.email)
    page.get_by_label("Password").fill(who.password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def fits(page) -> None:
    """Nothing scrolls sideways on a 360 px screen."""
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, page.url


def shoot(page, name: str) -> None:
    """A screenshot for a person to look at; UPDATE_SCREENSHOTS=1 refreshes the README's."""
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS / f"{name}.png"), full_page=True)
    else:
        screenshot(page, name)


def apply_at_the_counter(page, base: str) -> None:
    """The demo borrower buys a phone whose TAC is unknown."""
    login(page, base, "retailer")
    page.goto(f"{base}/retailer/applications/new")
    page.get_by_label("CNIC", exact=True).fill("42101-1234567-1")
    page.get_by_label("Full name (as on CNIC)").fill("Ayesha Khan")
    page.get_by_label("Date of birth").fill("1994-05-17")
    page.get_by_label("Mobile number").fill("0300 1234567")
    page.get_by_label("Work", exact=True).select_option("salaried")
    page.get_by_label("Net monthly income (Rs)").fill("160000")
    page.get_by_label("IMEI", exact=True).fill(UNKNOWN_PHONE)
    page.get_by_label("Price (Rs)").fill("45999")
    page.get_by_label("Down payment (Rs)").fill("13800")
    page.get_by_label("Product", exact=True).select_option("QIST-STD")
    page.get_by_label("Number of instalments").select_option("6")
    fits(page)
    shoot(page, "counter-form")
    page.get_by_role("button", name="Get the answer").click()
    page.wait_for_selector("text=Referred to an underwriter")


def approve_as_underwriter(page, base: str, application_id: int) -> None:
    login(page, base, "underwriter")
    page.goto(f"{base}/staff/referrals")
    page.get_by_role("link", name=str(application_id), exact=True).click()
    fits(page)
    page.get_by_label("Approve").check()
    page.get_by_label("Note (required)").fill("Phone imported by the shop; salary slip seen.")
    page.get_by_role("button", name="Record the decision").click()
    page.wait_for_selector(f"text=Application {application_id} approved.")


def book_the_offer(page, base: str, application_id: int) -> None:
    login(page, base, "retailer")
    page.goto(f"{base}/retailer/applications/{application_id}")
    page.wait_for_selector("text=Approved. Show the customer the Key Fact Statement")
    fits(page)
    shoot(page, "offer")
    page.get_by_label("The customer has read the Key Fact Statement").check()
    page.get_by_role("button", name="Accept and book the loan").click()
    page.wait_for_selector("text=is booked")


def pay_at_the_counter(page, base: str, loan_id: int, amount: str) -> None:
    """Cash at the counter through the API, as a shop's till system would send it."""
    token = next(x for x in DEMO_LOGINS if x.role == "retailer").token
    response = page.request.post(
        f"{base}/api/v1/loans/{loan_id}/payments",
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"walk-{loan_id}"},
        data={"amount": amount, "paid_at": datetime.now(UTC).isoformat(), "channel": "cash"},
    )
    assert response.status == 201, response.text()


def outstanding(app) -> Decimal:
    """Principal still owed on the active loans, summed in Python from the rows."""
    with Session(get_engine(app)) as session:
        rows = session.exec(
            select(Instalment).join(Loan).where(Loan.status == LoanStatus.ACTIVE)
        ).all()
    return sum((r.principal - r.paid_principal for r in rows), Decimal("0.00"))


def test_a_referred_application_is_approved_booked_and_shown(live_server, page):
    base, app = live_server
    apply_at_the_counter(page, base)
    application_id = int(page.url.rstrip("/").split("/")[-1])
    approve_as_underwriter(page, base, application_id)
    book_the_offer(page, base, application_id)
    with Session(get_engine(app)) as session:
        application = session.get(Application, application_id)
        loan = session.exec(select(Loan).where(Loan.application_id == application_id)).one()
    assert (application.imei, application.status) == (UNKNOWN_PHONE, "accepted")
    page.goto(f"{base}/retailer/loans")
    assert page.locator("#loans").get_by_role("link", name=str(loan.id)).is_visible()
    fits(page)
    pay_at_the_counter(page, base, loan.id, f"{loan.instalment_amount:.2f}")
    login(page, base, "admin")
    page.goto(f"{base}/staff/dashboard")
    assert page.locator("svg[role=img]").count() == 3
    assert page.locator("#outstanding").inner_text() == f"Rs\xa0{outstanding(app):,.2f}"
    fits(page)
    shoot(page, "dashboard")
    page.goto(f"{base}/staff/ledger")  # the booking and the payment, in balanced books
    totals = page.locator("#totals td").all_inner_texts()
    assert totals[0] == totals[1] and totals[2] == "balanced", totals
    fits(page)
    shoot(page, "ledger")
    if "portal" in app.blueprints:
        login(page, base, "borrower")
        page.wait_for_selector(f"#loan-{loan.id}")
        fits(page)
        shoot(page, "portal")


def test_staff_pages_fit_a_phone(live_server, page):
    base, _app = live_server
    login(page, base, "admin")
    for path in [
        "/staff",
        "/staff/products",
        "/staff/products/QIST-STD",
        "/staff/products/new",
        "/staff/jobs",
        "/staff/audit",
        "/retailer/loans",
        "/staff/referrals",
        "/staff/dashboard",
        "/staff/ledger",
        "/staff/ledger/accounts/1111",
        "/staff/approvals",
    ]:
        page.goto(base + path)
        fits(page)
