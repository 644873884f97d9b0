"""A borrower on a 360 px phone: opens the account with an SMS code, reads the schedule, Urdu."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from lending.db import get_engine, session_scope
from lending.models import Applicant, Instalment, Loan, OutboxMessage, Retailer, User
from lending.models.enums import PaymentChannel
from lending.services.applications import Origin, submit_application
from lending.services.booking import accept_offer
from lending.services.demo_loans import demo_context
from lending.services.loan_book import business_day
from lending.services.loan_view import quote_payoff
from lending.services.payments import PaymentRequest, post_payment
from lending.services.seed import DEMO_SHOP
from tests.browser.conftest import screenshot
from tests.factories import imei

pytestmark = pytest.mark.browser
CNIC, MOBILE = "37405-1122334-5", "0345 1234987"


def book_with_a_payment(app) -> int:
    """Book a loan for a new borrower at the demo shop and post a first part-payment."""
    settings = app.extensions["lending.settings"]
    context = demo_context(settings)
    with app.app_context(), session_scope(get_engine(app)) as session:
        shop = session.exec(select(Retailer).where(Retailer.name == DEMO_SHOP)).one()
        application = submit_application(
            session=session, data=_application(), context=context, origin=Origin(shop.id, None)
        )
        loan = accept_offer(
            session=session,
            application_id=application.id,
            user_id=None,
            now=context.now,
            timezone=settings.timezone,
        )
        request = PaymentRequest(
            loan.id, Decimal("2500.00"), context.now, PaymentChannel.EASYPAISA, "EP-BROWSER-1"
        )
        post_payment(session=session, request=request, now=context.now, timezone=settings.timezone)
        return loan.id


def _application() -> dict:
    return {
        "applicant": {
            "cnic": CNIC.replace("-", ""),
            "full_name": "Mehwish Raza",
            "date_of_birth": datetime(1994, 7, 2).date(),
            "mobile": "+923451234987",
            "monthly_income": Decimal("160000"),
            "monthly_obligations": Decimal("0"),
            "employment_type": "freelancer",
            "language": "en",
        },
        "device": {"imei": imei(777001, "35332716"), "price": Decimal("54999")},
        "down_payment": Decimal("16500"),
        "tenor": 6,
        "product_code": "QIST-STD",
    }


def amount(text: str) -> Decimal:
    return Decimal(re.sub(r"[^\d.]", "", text))


def latest_code(app) -> str:
    with Session(get_engine(app)) as session:
        sms = session.exec(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    return re.search(r"\b(\d{6})\b", sms.body).group(1)


def rows_in_db(app, loan_id: int) -> list[tuple[Decimal, Decimal, Decimal]]:
    with Session(get_engine(app)) as session:
        rows = session.exec(
            select(Instalment).where(Instalment.loan_id == loan_id).order_by(Instalment.n)
        ).all()
    paid = [r.paid_principal + r.paid_profit + r.paid_fee for r in rows]
    return [(r.total, p, r.total - p) for r, p in zip(rows, paid, strict=True)]


def test_borrower_opens_the_account_and_checks_the_schedule(live_server, page):
    base, app = live_server
    loan_id = book_with_a_payment(app)
    page.goto(f"{base}/auth/login")
    page.get_by_role("link", name="Open your account").click()
    page.get_by_label("CNIC").fill(CNIC)
    page.get_by_label("Mobile number").fill(MOBILE)
    screenshot(page, "portal-activate")
    page.get_by_role("button", name="Send me a code").click()
    page.wait_for_url(f"{base}/portal/activate/code")
    page.get_by_label("Code").fill(latest_code(app))
    page.get_by_label("E-mail (your log-in)").fill("mehwish@example.pk")
    page.get_by_label("New password", exact=True).fill("phone on instalments 2026")
    page.get_by_label("New password again").fill("phone on instalments 2026")
    screenshot(page, "portal-activate-code")
    page.get_by_role("button", name="Open my account").click()
    page.wait_for_url(f"{base}/portal/")
    screenshot(page, "portal-loans")
    page.get_by_role("link", name="Schedule and payments").click()
    page.wait_for_url(f"{base}/portal/loans/{loan_id}")
    check_schedule_against_the_database(page, app, loan_id)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "portal-schedule")
    check_payoff_quote(page, app, loan_id)
    screenshot(page, "portal-payoff")
    switch_to_urdu(page, app)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "portal-schedule-ur")
    page.goto(f"{base}/portal/loans/{loan_id}/statement")
    assert amount(page.locator('[data-amount="outstanding"]').inner_text()) > 0
    screenshot(page, "portal-statement-ur")


def check_schedule_against_the_database(page, app, loan_id: int) -> None:
    expected = rows_in_db(app, loan_id)
    shown = []
    for row in page.locator("#schedule tbody tr").all():
        cells = [
            amount(row.locator(f'[data-col="{c}"]').inner_text())
            for c in ("total", "paid", "unpaid")
        ]
        shown.append(tuple(cells))
    assert shown == expected
    assert expected[0][1] == Decimal("2500.00")  # the part-payment, to the paisa
    assert page.locator("#schedule tbody tr").first.get_attribute("class") == "partly_paid"
    outstanding = sum(unpaid for _, _, unpaid in expected)
    assert amount(page.locator('#summary [data-amount="outstanding"]').inner_text()) == outstanding
    assert amount(page.locator('#summary [data-amount="paid"]').inner_text()) == Decimal("2500.00")
    assert page.locator("#payments").inner_text().count("EP-BROWSER-1") == 1


def check_payoff_quote(page, app, loan_id: int) -> None:
    settings = app.extensions["lending.settings"]
    on = business_day(datetime.now(UTC), settings.timezone) + timedelta(days=20)
    page.get_by_label("Pay on this date").fill(on.isoformat())
    page.get_by_role("button", name="Show the amount").click()
    page.wait_for_selector("#quote")
    with Session(get_engine(app)) as session:
        quote = quote_payoff(session=session, loan=session.get(Loan, loan_id), as_of=on)
    assert amount(page.locator('[data-amount="payoff"]').inner_text()) == quote.total


def switch_to_urdu(page, app) -> None:
    page.get_by_role("button", name="اردو").click()
    page.wait_for_selector("html[dir=rtl]")
    assert page.locator("#schedule caption").inner_text() == "قسطوں کا شیڈول"
    with Session(get_engine(app)) as session:
        applicant = session.exec(
            select(Applicant).where(Applicant.cnic == CNIC.replace("-", ""))
        ).one()
        user = session.exec(select(User).where(User.applicant_id == applicant.id)).one()
    assert user.language == "ur"
    page.reload()
    assert page.locator("html").get_attribute("lang") == "ur"  # remembered
