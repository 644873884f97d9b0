"""A live server on SQLite with demo data, and Debian's chromium driven by Playwright."""

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from lending import create_app
from lending.db import get_engine, session_scope
from lending.migrate import upgrade
from lending.services.seed import seed_demo, seed_reference

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('browser')}/live.db"
    upgrade(url)
    app = create_app({"env": "testing", "database_url": url, "secret_key": "browser-test"})
    with app.app_context(), session_scope(get_engine(app)) as session:
        seed_reference(session)
        seed_demo(session, app.extensions["lending.hasher"])
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", app
    server.shutdown()
    get_engine(app).dispose()


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail("REQUIRE_BROWSER=1 but Debian's chromium is not installed")
        pytest.skip("browser tests need Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    # A cheap phone's screen: 360 px wide.
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    """Save a screenshot under test-artifacts/ for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
