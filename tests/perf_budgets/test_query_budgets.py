"""SQL statements per request on the main routes: a budget each, blind to the loan's length.

A route that gains a query per instalment (an N+1) costs the same on a 3-instalment loan as
on a 12-instalment one here only if it is set-based, so each test measures both and asks for
equal counts, plus a ceiling that fails when anyone adds a round trip to the route.
Statements are counted with SQLAlchemy's `before_cursor_execute` on the app's engine
(an executemany is one statement: one round trip).
"""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from lending.db import get_engine
from lending.models import Loan
from lending.models.enums import Role
from tests import factories as f
from tests.web.helpers import AGENT, body, post
from tests.web.servicing import book_loan, pay

# Measured on SQLite and PostgreSQL alike; lower a budget when a route gets cheaper.
# Products, the device registry and programmes come from the reference cache once warm.
BUDGET = {
    # token+user, applicant upsert, loan history, budget reserve, application, decision, audit;
    # on PostgreSQL the upsert carries the history and one statement writes the three rows.
    "new application": {"sqlite": 7, "postgresql": 4},
    # accepting an offer: token+user, the application (read, then locked), its product
    # version, the loan, every instalment in one INSERT, the application's status, incentive
    # tag, fee, audit events (one multi-row INSERT on PostgreSQL), disbursement.
    # (+1: the disbursement's loan transaction; +1 on SQLite: a no-op UPDATE takes the write
    # lock first, as SQLite has no FOR UPDATE, so that two acceptances are serialised)
    # (+1 on PostgreSQL: the journal entry and its lines in one INSERT ... WITH; +2 on
    # SQLite: the lines, then the entry that the balance trigger checks against them)
    "booking": {"sqlite": 16, "postgresql": 13},
    "loan document": 4,  # token+user, loan, instalments, transactions (then replayed)
    # token+user, the loan (access), lock, idempotency key, instalments, transactions,
    # payment, its transaction, changed instalments (one executemany), allocations (one
    # executemany), the loan (where its replay left off), audit, the stored answer; the
    # journal entry (+1 on PostgreSQL, +2 on SQLite, as for booking)
    "payment": {"sqlite": 15, "postgresql": 14},
    # with the shop's receipt number too: the key and the reference in one read (was 14)
    "payment with a receipt number": {"sqlite": 15, "postgresql": 14},
    "portal schedule": 7,
    "staff dashboard": 8,
}
TENORS = (3, 12)


@contextmanager
def statements(app) -> Iterator[list[str]]:
    """Collect every SQL statement the app's engine sends inside the block."""
    sent: list[str] = []

    def note(_conn, _cursor, statement, _parameters, _context, _executemany):
        sent.append(statement)

    engine = get_engine(app)
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", note)


def counted(app, request) -> tuple[int, object]:
    """The number of statements a request sends, and its response."""
    with statements(app) as sent:
        response = request()
    return len(sent), response


def applicant(tenor: int, serial: int = 0) -> dict:
    """A fresh applicant and IMEI per loan (one financed phone per CNIC)."""
    return {
        "tenor": tenor,
        "applicant__cnic": f"3520219{serial:03d}{tenor:02d}1",
        "device__imei": f.imei(700 + serial * 100 + tenor),
    }


@pytest.fixture
def loans(setup, client) -> dict[int, int]:
    """One loan per tenor, booked through the API: {instalments: loan id}; the reference
    cache warmed by a first read of each (a product version's servicing rules)."""
    booked = {tenor: book_loan(client, **applicant(tenor)) for tenor in TENORS}
    for loan_id in booked.values():
        client.get(f"/api/v1/loans/{loan_id}", headers=AGENT)
    return booked


def assert_flat(app, name: str, requests: dict[int, object]) -> None:
    """Equal statement counts for every loan length, within the route's budget."""
    counts = {}
    for tenor, request in requests.items():
        counts[tenor], response = counted(app, request)
        assert response.status_code in (200, 201), response.get_data(as_text=True)[:300]
    assert len(set(counts.values())) == 1, f"{name}: statements grow with instalments {counts}"
    budget = BUDGET[name]
    if isinstance(budget, dict):
        budget = budget[get_engine(app).dialect.name]
    assert max(counts.values()) <= budget, f"{name}: {counts} over {budget}"


def test_new_application_stays_within_its_budget(app, setup, client):
    post(client, body(**applicant(6, serial=9)))  # warm-up: the token's last-used day
    requests = {
        tenor: (lambda t=tenor: post(client, body(**applicant(t, serial=1)))) for tenor in TENORS
    }
    assert_flat(app, "new application", requests)


def test_booking_writes_any_number_of_instalments_in_the_same_statements(app, setup, client):
    # Warm-up: the token's last-used day, and a booking (the chart of accounts is cached)
    warm = post(client, body(**applicant(6, serial=9))).get_json()["id"]
    assert client.post(f"/api/v1/applications/{warm}/accept", headers=AGENT).status_code == 201
    offers = {t: post(client, body(**applicant(t, serial=4))).get_json()["id"] for t in TENORS}

    def accept(application_id):
        return client.post(f"/api/v1/applications/{application_id}/accept", headers=AGENT)

    requests = {tenor: (lambda i=offers[tenor]: accept(i)) for tenor in TENORS}
    assert_flat(app, "booking", requests)


def test_loan_document_costs_the_same_for_any_number_of_instalments(app, loans, client):
    requests = {
        tenor: (lambda i=loan_id: client.get(f"/api/v1/loans/{i}", headers=AGENT))
        for tenor, loan_id in loans.items()
    }
    assert_flat(app, "loan document", requests)


def test_payment_over_several_instalments_is_set_based(app, loans, client):
    # Rs 20,000 clears one instalment and a half of the short loan, five and more of the long one.
    requests = {
        tenor: (lambda i=loan_id: pay(client, i, "20000.00", f"budget-{i}"))
        for tenor, loan_id in loans.items()
    }
    assert_flat(app, "payment", requests)


def test_payment_with_a_receipt_number_looks_up_key_and_reference_at_once(app, loans, client):
    requests = {
        tenor: (lambda i=loan_id: pay(client, i, "500.00", f"rcpt-{i}", reference=f"R-{i}"))
        for tenor, loan_id in loans.items()
    }
    assert_flat(app, "payment with a receipt number", requests)


def test_portal_schedule_page_costs_the_same_for_any_number_of_instalments(
    app, loans, client, session, auth
):
    counts = {}
    for tenor, loan_id in loans.items():
        pay(client, loan_id, "20000.00", f"portal-{loan_id}")  # paid lines and a payment row
        borrower = f.UserFactory(
            role=Role.BORROWER, applicant_id=session.get(Loan, loan_id).applicant_id
        )
        auth.login(borrower.email, f.PASSWORD)
        counts[tenor], response = counted(app, lambda i=loan_id: client.get(f"/portal/loans/{i}"))
        assert response.status_code == 200, response.headers.get("Location")
        auth.logout()
    assert len(set(counts.values())) == 1, f"portal: statements grow with instalments {counts}"
    assert max(counts.values()) <= BUDGET["portal schedule"], counts


def test_staff_dashboard_costs_the_same_for_a_bigger_book(app, loans, client, auth):
    admin = f.UserFactory(role=Role.ADMIN)
    auth.login(admin.email, f.PASSWORD)
    small, response = counted(app, lambda: client.get("/staff/dashboard"))
    assert response.status_code == 200
    for serial in (2, 3):
        for tenor in TENORS:
            pay(
                client,
                book_loan(client, **applicant(tenor, serial)),
                "5000.00",
                f"d{serial}{tenor}",
            )
    bigger, response = counted(app, lambda: client.get("/staff/dashboard"))
    assert response.status_code == 200
    assert small == bigger, f"dashboard: {small} statements for 2 loans, {bigger} for 6"
    assert bigger <= BUDGET["staff dashboard"]
