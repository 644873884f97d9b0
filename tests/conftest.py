"""Fixtures: every database test runs once on SQLite and once on PostgreSQL.

Each backend is migrated once per run with Alembic (the only way the schema is made): SQLite
into a template file copied for every test, PostgreSQL into a throw-away database created for
this run and dropped at its end, emptied before every test.
"""

import os
import re
import shutil
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel

import lending.models  # noqa: F401
from lending import create_app
from lending.db import get_engine
from lending.migrate import upgrade
from lending.models.enums import Role

REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"
PG_URL = os.environ.get("TEST_DATABASE_URL", "")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    upgrade(f"sqlite:///{path}")
    return str(path)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    if not PG_URL:
        if REQUIRE_POSTGRES:
            pytest.fail("REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set")
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL")
    name = f"lending_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server
        admin.dispose()
        if REQUIRE_POSTGRES:
            pytest.fail(f"REQUIRE_POSTGRES=1 but PostgreSQL is not reachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# The chart of accounts is seeded by its migration and kept, like the schema.
KEPT = {"gl_accounts"}
TABLES = [t.name for t in reversed(SQLModel.metadata.sorted_tables) if t.name not in KEPT]


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_url")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def app(database_url):
    app = create_app({"env": "testing", "database_url": database_url, "secret_key": "test-key"})
    yield app
    get_engine(app).dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def session(app) -> Iterator[Session]:
    """A session of the test's own, beside the app's request sessions."""
    from tests import factories

    with Session(get_engine(app), expire_on_commit=False) as db_session:
        factories.bind(db_session, app.extensions["lending.hasher"])
        yield db_session
        factories.bind(None, None)


@pytest.fixture
def backend(database_url) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgresql"


def csrf_token(client, path: str) -> str:
    """Fetch a page with a form and return its CSRF token."""
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page
    )
    assert match, f"no CSRF token on {path}"
    return match.group(1)


class Auth:
    """Log-in helper for page tests, and bearer headers for API tests."""

    def __init__(self, client):
        self.client = client

    def login(self, email: str, password: str, follow: bool = False):
        token = csrf_token(self.client, "/auth/login")
        return self.client.post(
            "/auth/login",
            data={"email": email, "password": password, "csrf_token": token},
            follow_redirects=follow,
        )

    def logout(self):
        token = csrf_token(self.client, "/")
        return self.client.post("/auth/logout", data={"csrf_token": token})

    @staticmethod
    def bearer(token: str) -> dict:
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def auth(client) -> Auth:
    return Auth(client)


@pytest.fixture
def setup(app, session):
    """A shop with an agent and a token, the demo products and registry, a pinned clock."""
    from lending.services.seed import seed_reference
    from tests import factories as f
    from tests.web.helpers import NOW

    seed_reference(session)
    session.commit()
    agent = f.UserFactory(retailer=True)
    f.ApiTokenFactory(user_id=agent.id, token="lnd_agent_token")
    underwriter = f.UserFactory(role=Role.UNDERWRITER)
    f.ApiTokenFactory(user_id=underwriter.id, token="lnd_underwriter_token")
    admin = f.UserFactory(role=Role.ADMIN)  # a second member of staff (maker-checker)
    f.ApiTokenFactory(user_id=admin.id, token="lnd_admin_token")
    app.extensions["lending.clock"] = lambda: NOW
    return agent
