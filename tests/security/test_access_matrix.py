"""Every route of the URL map x every role, against ONE table of expected answers.

The routes are read from `app.url_map`, so a new route (or a new method on a route) without a
row in EXPECTED fails the test. Objects in URLs belong to shop A and to the borrower, so shop B
must get 404. Refused POSTs must write nothing (audit events of the refusal aside).
"""

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlmodel import SQLModel

from lending.db import get_engine
from lending.models import IncentiveProgramme, Loan
from lending.models.enums import Role
from tests import factories as f
from tests.conftest import csrf_token
from tests.web.servicing import book_loan, pay

ROLES = ("anonymous", "borrower", "shop_a", "shop_b", "underwriter", "admin")
OK, LOGIN, PASS = "ok", "login", "pass"  # PASS: an allowed POST, let through (2xx-4xx, not refused)
REFUSED = (LOGIN, 401, 403, 404)

ANYONE = (OK,) * 6
API_ANY = (401, OK, OK, OK, OK, OK)
API_OWNED = (401, OK, OK, 404, OK, OK)
API_STAFF = (401, 403, 403, 403, OK, OK)
API_SHOP_STAFF = (401, 403, OK, 404, OK, OK)
PAGE_STAFF = (LOGIN, 403, 403, 403, OK, OK)
PAGE_ADMIN = (LOGIN, 403, 403, 403, 403, OK)
PAGE_SHOP_STAFF = (LOGIN, 403, OK, OK, OK, OK)
PAGE_SHOP_OWNED = (LOGIN, 403, OK, 404, OK, OK)
PAGE_BORROWER = (LOGIN, OK, 403, 403, 403, 403)


def allowed(answers: tuple) -> tuple:
    """The same answers for a POST: the allowed roles are let through, not necessarily 2xx."""
    return tuple(PASS if answer == OK else answer for answer in answers)


# fmt: off
EXPECTED: dict[str, tuple] = {
    "GET /": ANYONE,
    "GET /healthz": ANYONE,
    "GET /openapi.json": ANYONE,
    "GET /static/<path:filename>": ANYONE,
    "GET /auth/login": ANYONE,
    "POST /auth/login": (PASS,) * 6,
    "POST /auth/logout": (LOGIN, PASS, PASS, PASS, PASS, PASS),
    # JSON API: bearer tokens; no token is 401, a wrong role 403, another shop's object 404
    "POST /api/v1/applications": (401, 403, PASS, PASS, 403, 403),
    "GET /api/v1/applications/<int:application_id>": (401, 403, OK, 404, OK, OK),
    "POST /api/v1/applications/<int:application_id>/accept": (401, 403, PASS, 404, 403, PASS),
    "POST /api/v1/applications/<int:application_id>/decision": allowed(API_STAFF),
    "GET /api/v1/device-models": API_ANY,
    "GET /api/v1/devices/<imei>": API_ANY,
    "GET /api/v1/loans/<int:loan_id>": API_OWNED,
    "POST /api/v1/loans/<int:loan_id>/cancel": allowed(API_OWNED),
    "POST /api/v1/loans/<int:loan_id>/payments": allowed(API_SHOP_STAFF),
    "GET /api/v1/loans/<int:loan_id>/payoff": API_OWNED,
    "POST /api/v1/loans/<int:loan_id>/refunds": allowed(API_STAFF),
    "POST /api/v1/loans/<int:loan_id>/waivers": allowed(API_STAFF),
    "POST /api/v1/loans/<int:loan_id>/write-offs": allowed(API_STAFF),
    "GET /api/v1/approvals": API_STAFF,
    "POST /api/v1/approvals/<int:approval_id>/approve": allowed(API_STAFF),
    "POST /api/v1/approvals/<int:approval_id>/reject": allowed(API_STAFF),
    "POST /api/v1/payments/<int:payment_id>/reverse": allowed(API_STAFF),
    "GET /api/v1/products": API_ANY,
    "GET /api/v1/quote": ANYONE,
    "GET /api/v1/reports/incentive-claims": API_STAFF,
    "POST /api/v1/reports/incentive-claims/receipts": allowed(API_STAFF),
    "GET /api/v1/reports/portfolio": API_STAFF,
    "POST /api/v1/webhooks/payments": (401,) * 6,  # unsigned: refused whoever sends it
    # borrower portal
    "GET /portal/": PAGE_BORROWER,
    "GET /portal/activate": ANYONE,
    "POST /portal/activate": (PASS,) * 6,
    "GET /portal/activate/code": ANYONE,
    "POST /portal/activate/code": (PASS,) * 6,
    "POST /portal/language": (PASS,) * 6,
    "GET /portal/loans/<int:loan_id>": PAGE_BORROWER,
    "GET /portal/loans/<int:loan_id>/statement": PAGE_BORROWER,
    "POST /portal/loans/<int:loan_id>/cancel": allowed(PAGE_BORROWER),
    # retailer counter
    "GET /retailer/applications": PAGE_SHOP_STAFF,
    "GET /retailer/applications/<int:application_id>": PAGE_SHOP_OWNED,
    "POST /retailer/applications/<int:application_id>/accept":
        (LOGIN, 403, PASS, 404, 403, 403),
    "GET /retailer/applications/<int:application_id>/kfs": PAGE_SHOP_OWNED,
    "GET /retailer/applications/new": (LOGIN, 403, OK, OK, 403, 403),
    "POST /retailer/applications/new": (LOGIN, 403, PASS, PASS, 403, 403),
    "GET /retailer/loans": PAGE_SHOP_STAFF,
    "GET /retailer/loans/<int:loan_id>": PAGE_SHOP_OWNED,
    # staff
    "GET /staff": PAGE_STAFF,
    "GET /staff/": PAGE_STAFF,
    "GET /staff/applications/<int:application_id>": PAGE_STAFF,
    "POST /staff/applications/<int:application_id>": allowed(PAGE_STAFF),
    "GET /staff/audit": PAGE_STAFF,
    "GET /staff/claims": PAGE_STAFF,
    "POST /staff/claims/receipts": allowed(PAGE_STAFF),
    "GET /staff/dashboard": PAGE_STAFF,
    "GET /staff/dashboard.csv": PAGE_STAFF,
    "GET /staff/jobs": PAGE_STAFF,
    "GET /staff/ledger": PAGE_STAFF,
    "POST /staff/ledger/close": allowed(PAGE_ADMIN),
    "GET /staff/ledger/accounts/<code>": PAGE_STAFF,
    "GET /staff/ledger/income": PAGE_STAFF,
    "GET /staff/approvals": PAGE_STAFF,
    "POST /staff/approvals": allowed(PAGE_STAFF),
    "POST /staff/approvals/<int:approval_id>": allowed(PAGE_STAFF),
    "GET /staff/products": PAGE_STAFF,
    "GET /staff/products/<code>": PAGE_STAFF,
    "POST /staff/products/<code>": allowed(PAGE_ADMIN),
    "GET /staff/products/new": PAGE_ADMIN,
    "POST /staff/products/new": allowed(PAGE_ADMIN),
    "GET /staff/programmes": PAGE_STAFF,
    "POST /staff/programmes": allowed(PAGE_STAFF),
    "GET /staff/programmes/<code>": PAGE_STAFF,
    "POST /staff/programmes/<code>": allowed(PAGE_STAFF),
    "GET /staff/referrals": PAGE_STAFF,
    "GET /staff/registry": PAGE_STAFF,
    "POST /staff/registry": allowed(PAGE_STAFF),
}
# fmt: on

QUERY = {
    "/api/v1/quote": "?amount=40000&tenor=6&product_code=QIST-STD",
    "/api/v1/reports/incentive-claims": "?month=2026-11",
}
SECURITY_HEADERS = (
    "Content-Security-Policy",
    "X-Content-Type-Options",
    "X-Frame-Options",
    "Referrer-Policy",
    "Strict-Transport-Security",  # the tests run outside development
)
# Inline code a `script-src 'self'; style-src 'self'` policy blocks: handlers, style attributes,
# <style> and <script> elements without a src.
INLINE = re.compile(r"""\son[a-z]+\s*=|\sstyle\s*=|<style\b|<script\b(?![^>]*\ssrc=)""", re.I)
LAST = ("/cancel", "/auth/logout")  # allowed POSTs that end a loan, then a session, go last


@dataclass
class World:
    """The objects in URLs, and one logged-in test client per role."""

    args: dict
    clients: dict


def make_world(app, client) -> World:
    """Shop A's loan (owned by the borrower), a payment, and a client for every role."""
    loan_id = book_loan(client)
    payment = pay(client, loan_id, "1000.00", key="matrix-1").json["payment_id"]
    session = f.UserFactory._meta.sqlalchemy_session
    loan = session.get(Loan, loan_id)
    users = {
        "borrower": f.UserFactory(role=Role.BORROWER, applicant_id=loan.applicant_id),
        "shop_a": f.UserFactory(role=Role.RETAILER, retailer_id=loan.retailer_id),
        "shop_b": f.UserFactory(retailer=True),
        "underwriter": f.UserFactory(role=Role.UNDERWRITER),
        "admin": f.UserFactory(role=Role.ADMIN),
    }
    programme = session.execute(select(IncentiveProgramme.code)).scalars().first()
    args = {
        "application_id": loan.application_id,
        "loan_id": loan_id,
        "payment_id": payment,
        "imei": f.imei(1, "35332716"),
        "filename": "app.css",
        "/staff/products/": "QIST-STD",
        "/staff/programmes/": programme,
        "/staff/ledger/accounts/": "1200",
        # a refund proposed by someone else, for every staff role to try to decide
        "approval_id": f.ApprovalFactory(loan_id=loan_id).id,
    }
    return World(args, {role: role_client(app, users.get(role)) for role in ROLES})


def role_client(app, user):
    """A test client logged in as `user` (page session and bearer token), or anonymous."""
    client = app.test_client()
    if user is None:
        return client
    token = f"lnd_matrix_{user.id:06d}_" + "x" * 16
    f.ApiTokenFactory(user_id=user.id, token=token)
    with client.session_transaction() as flask_session:
        flask_session["_user_id"], flask_session["_fresh"] = str(user.id), True
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def url_for_rule(rule: str, args: dict) -> str:
    """The rule with shop A's objects in its arguments, plus the query it needs."""
    url = rule
    for name, value in args.items():
        if name.startswith("/"):
            url = url.replace(f"{name}<code>", f"{name}{value}")
        else:
            url = url.replace(f"<int:{name}>", str(value)).replace(f"<path:{name}>", str(value))
            url = url.replace(f"<{name}>", str(value))
    return url + QUERY.get(rule, "")


def routes(app) -> set[str]:
    """Every `METHOD rule` the application answers."""
    return {
        f"{method} {rule.rule}"
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def classify(response) -> str | int:
    """The class of an answer: ok, login redirect, or the status code."""
    if response.status_code in (301, 302, 303, 307, 308):
        return LOGIN if "/auth/login" in response.headers["Location"] else OK
    return OK if response.status_code < 300 else response.status_code


def row_counts(app) -> dict:
    """Rows per table, audit events aside (refusals are audited on purpose)."""
    with get_engine(app).connect() as conn:
        return {
            table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in SQLModel.metadata.sorted_tables
            if table.name != "audit_events"
        }


def ask(app, world: World, key: str, role: str):
    """Send one cell's request; a POST carries a valid CSRF token and an empty body."""
    method, rule = key.split(" ", 1)
    client = world.clients[role]
    url = url_for_rule(rule, world.args)
    if method == "GET":
        return client.get(url)
    if rule.startswith("/api/"):
        return client.post(url, json={})
    return client.post(url, data={"csrf_token": csrf_token(client, "/auth/login")})


def check_cell(app, world: World, key: str, role: str, expected) -> list[str]:
    """Return what is wrong with one cell: its answer, a write, its headers."""
    refused_post = key.startswith("POST") and expected in REFUSED
    before = row_counts(app) if refused_post else None
    response = ask(app, world, key, role)
    response.close()
    actual = classify(response)
    if expected == PASS:
        good = actual not in REFUSED and response.status_code < 500
    else:
        good = actual == expected
    problems = [] if good else [f"{key} as {role}: expected {expected}, got {actual}"]
    if good and refused_post and row_counts(app) != before:
        problems.append(f"{key} as {role}: refused but wrote rows")
    return problems + [f"{key} as {role}: {p}" for p in page_problems(response)]


def page_problems(response) -> list[str]:
    """Security headers missing, or HTML that the Content-Security-Policy would block."""
    problems = [f"no {name}" for name in SECURITY_HEADERS if name not in response.headers]
    if response.mimetype == "text/html":
        html = response.get_data(as_text=True)
        problems += [f"CSP would block {m.group(0)!r}" for m in INLINE.finditer(html)]
    return problems


def cells() -> list[tuple[str, str, object]]:
    """Every (route, role, expected) cell; allowed POSTs that end something come last."""
    found = [
        (key, role, answers[i]) for key, answers in EXPECTED.items() for i, role in enumerate(ROLES)
    ]
    return sorted(found, key=_order)


def _order(cell: tuple) -> tuple:
    last = next((n for n, end in enumerate(LAST, 1) if cell[0].endswith(end)), 0)
    return cell[2] == PASS, last


def test_every_route_is_in_the_table(app):
    missing = sorted(routes(app) - set(EXPECTED))
    stale = sorted(set(EXPECTED) - routes(app))
    assert not missing, f"routes without expected answers: {missing}"
    assert not stale, f"expected answers for routes that do not exist: {stale}"
    assert all(len(answers) == len(ROLES) for answers in EXPECTED.values())


def test_access_matrix(app, client, setup, backend):
    world = make_world(app, client)
    assert routes(app) == set(EXPECTED)
    problems = [
        problem
        for key, role, expected in cells()
        for problem in check_cell(app, world, key, role, expected)
    ]
    print(f"access matrix on {backend}: {len(cells())} cells checked")
    assert problems == []
