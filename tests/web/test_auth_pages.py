"""Log-in pages: argon2 passwords, CSRF, refusals recorded as audit events."""

from sqlmodel import select

from lending.models import AuditEvent, User
from lending.models.enums import Role
from tests import factories as f
from tests.conftest import csrf_token


def audit_actions(session) -> list[str]:
    session.expire_all()
    return [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()]


def test_password_is_stored_as_argon2_hash(session):
    user = f.UserFactory(role=Role.UNDERWRITER)
    assert user.password_hash.startswith("$argon2id$")
    assert f.PASSWORD not in user.password_hash


def test_right_password_logs_in_and_lands_on_the_shop_page(session, client, auth):
    user = f.UserFactory(retailer=True)
    response = auth.login(user.email, f.PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/retailer/applications/new"
    assert client.get("/retailer/applications").status_code == 200
    assert audit_actions(session)[-1] == "auth.login"


def test_wrong_password_is_refused_and_audited(session, client, auth):
    user = f.UserFactory(retailer=True)
    response = auth.login(user.email, "not the password")
    assert response.status_code == 401
    assert "not right" in response.get_data(as_text=True)
    # still anonymous: the shop page sends us to log in
    assert client.get("/retailer/applications").status_code == 302
    session.expire_all()
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "auth.login_failed")).one()
    assert event.actor_id == user.id
    assert event.detail["email"] == user.email
    assert session.get(User, user.id).failed_logins == 1


def test_unknown_email_is_refused_and_audited(session, auth):
    response = auth.login("nobody@example.pk", "whatever")
    assert response.status_code == 401
    assert audit_actions(session) == ["auth.login_failed"]


def test_login_without_csrf_token_is_refused_and_writes_nothing(session, client):
    user = f.UserFactory()
    response = client.post("/auth/login", data={"email": user.email, "password": f.PASSWORD})
    assert response.status_code == 400
    assert audit_actions(session) == []


def test_logout_needs_a_post_with_csrf(session, client, auth):
    user = f.UserFactory(retailer=True)
    auth.login(user.email, f.PASSWORD)
    assert client.get("/auth/logout").status_code == 405
    assert client.post("/auth/logout").status_code == 400  # no CSRF token
    token = csrf_token(client, "/")
    assert client.post("/auth/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/retailer/applications").status_code == 302


def test_open_redirect_after_login_is_refused(session, client):
    user = f.UserFactory(retailer=True)
    token = csrf_token(client, "/auth/login")
    response = client.post(
        "/auth/login?next=//evil.example/x",
        data={"email": user.email, "password": f.PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/retailer/applications/new"


def test_inactive_user_cannot_log_in(session, auth):
    user = f.UserFactory(active=False)
    assert auth.login(user.email, f.PASSWORD).status_code == 401
