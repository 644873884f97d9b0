"""A shop assistant logs in on a phone-sized screen and sees the shop's applications."""

import pytest

from lending.services.seed import DEMO_LOGINS
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


def test_agent_logs_in_and_sees_the_applications_page(live_server, page):
    base, _app = live_server
    agent = next(x for x in DEMO_LOGINS if x.role == "retailer")
    page.goto(f"{base}/auth/login")
    screenshot(page, "login")
    page.get_by_label("E-mail").fill(agent.email)
    page.get_by_label("Password").fill(agent.password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/retailer/applications/new")
    assert page.get_by_role("heading", name="New application").is_visible()
    # Nothing overflows sideways on a 360 px screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "counter-form")


def test_wrong_password_shows_a_message(live_server, page):
    base, _app = live_server
    page.goto(f"{base}/auth/login")
    page.get_by_label("E-mail").fill("agent@demo.pk")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("alert").inner_text() == "The e-mail or password is not right."
