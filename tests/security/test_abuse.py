"""Abuse: log-in rate limit and lock-out, CSRF on every form, cookies, headers, API tokens."""

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text
from sqlmodel import SQLModel

from lending import create_app
from lending.db import get_engine
from lending.models import ApiToken, AuditEvent, User
from lending.models.enums import Role
from lending.security import token_digest
from tests import factories as f
from tests.conftest import csrf_token
from tests.security.test_access_matrix import make_world, url_for_rule


def actions(session, action: str) -> int:
    session.expire_all()
    query = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    return session.execute(query).scalar_one()


def all_rows(app) -> dict:
    with get_engine(app).connect() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in SQLModel.metadata.sorted_tables
        }


def test_login_attempts_are_rate_limited_per_address(session, client, auth):
    user = f.UserFactory()
    answers = [auth.login(user.email, f"guess {n}").status_code for n in range(10)]
    assert answers == [401] * 10  # the fifth failure locks the account: the rest are 401 too
    refused = auth.login(user.email, f.PASSWORD)
    assert refused.status_code == 429
    assert actions(session, "auth.login_failed") + actions(session, "auth.login_locked") == 10
    other = f.UserFactory()
    elsewhere = client.application.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    token = csrf_token(elsewhere, "/auth/login")
    data = {"email": other.email, "password": f.PASSWORD, "csrf_token": token}
    assert elsewhere.post("/auth/login", data=data).status_code == 302


def test_five_failures_lock_the_account_even_for_the_right_password(session, auth):
    user = f.UserFactory()
    for n in range(5):
        assert auth.login(user.email, f"wrong {n}").status_code == 401
    assert actions(session, "auth.locked") == 1
    locked = auth.login(user.email, f.PASSWORD)
    assert locked.status_code == 401
    assert "/auth/login" in auth.client.get("/staff/referrals").headers["Location"]  # not in
    assert actions(session, "auth.login_locked") == 1
    assert actions(session, "auth.login") == 0


def test_the_lock_ends_and_a_good_login_clears_the_count(session, auth):
    user = f.UserFactory()
    for n in range(5):
        auth.login(user.email, f"wrong {n}")
    session.expire_all()
    row = session.get(User, user.id)
    assert row.locked_until > datetime.now(UTC) + timedelta(minutes=14)
    row.locked_until = datetime.now(UTC) - timedelta(seconds=1)  # fifteen minutes later
    session.commit()
    assert auth.login(user.email, f.PASSWORD).status_code == 302
    session.expire_all()
    row = session.get(User, user.id)
    assert (row.failed_logins, row.locked_until) == (0, None)


def test_every_form_refuses_a_post_without_csrf_token_and_writes_nothing(app, client, setup):
    world = make_world(app, client)
    admin, borrower = world.clients["admin"], world.clients["borrower"]
    pages = sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if "POST" in rule.methods and not rule.rule.startswith("/api/")
    )
    before = all_rows(app)
    for rule in pages:
        who = borrower if rule.startswith("/portal/loans") else admin
        response = who.post(url_for_rule(rule, world.args), data={"email": "x@example.pk"})
        assert response.status_code == 400, rule
        assert "expired or was not sent from this site" in response.get_data(as_text=True)
    assert all_rows(app) == before
    assert len(pages) >= 10


def make_app(database_url: str, env: str):
    return create_app({"env": env, "database_url": database_url, "secret_key": "s" * 32})


def test_session_cookie_is_secure_httponly_samesite_in_production(database_url, session):
    app = make_app(database_url, "production")
    user = f.UserFactory(password_hash=app.extensions["lending.hasher"].hash(f.PASSWORD))
    client = app.test_client()
    site = {"base_url": "https://qist.example", "headers": {"Referer": "https://qist.example/"}}
    page = client.get("/auth/login", **site).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    data = {"email": user.email, "password": f.PASSWORD, "csrf_token": token}
    response = client.post("/auth/login", data=data, **site)
    cookie = response.headers["Set-Cookie"]
    assert response.status_code == 302
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    get_engine(app).dispose()


def test_security_headers_everywhere_and_no_hsts_in_development(database_url):
    app = make_app(database_url, "development")
    client = app.test_client()
    for path in ("/", "/auth/login", "/api/v1/products", "/openapi.json", "/nowhere"):
        headers = client.get(path).headers
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert "unsafe-inline" not in headers["Content-Security-Policy"]
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert "Strict-Transport-Security" not in headers  # plain http on a laptop
    get_engine(app).dispose()
    production = make_app(database_url, "production")
    assert "max-age=" in production.test_client().get("/").headers["Strict-Transport-Security"]
    get_engine(production).dispose()


def test_api_token_is_shown_once_and_stored_only_as_a_digest(app, session, client):
    f.UserFactory(email="ops@example.pk", role=Role.ADMIN)
    result = app.test_cli_runner().invoke(args=["tokens", "issue", "--email", "ops@example.pk"])
    token = result.output.strip()
    assert token.startswith("lnd_") and len(token) > 40
    row = session.execute(select(ApiToken)).scalars().one()
    assert (row.token_hash, row.prefix) == (token_digest(token), token[:12])
    with get_engine(app).connect() as conn:
        dump = " ".join(map(str, conn.execute(text("SELECT * FROM api_tokens")).all()))
    assert token not in dump
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/products", headers=headers).status_code == 200
