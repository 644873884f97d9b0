"""One winner when many ask at once: decisions on one referral, acceptances of one offer.

Twenty requests, released together by a barrier, go to a live threaded server. On PostgreSQL
they run in parallel, each on its own connection: the application's row lock, read fresh after
the wait, makes every request but the first see the decided (or booked) application and answer
409. SQLite has one writer at a time: there the requests queue on the database's write lock, and
waiting too long must also end as 409, never as 500.
"""

import json
import sqlite3
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlmodel import func, select

from lending.db import get_engine
from lending.models import AuditEvent, Decision, Disbursement, Instalment, Loan
from lending.models.enums import DecisionKind, Role
from tests import factories as f
from tests.conftest import csrf_token
from tests.live import serve
from tests.web.helpers import AGENT, UNDERWRITER, body, count, post
from tests.web.test_payment_concurrency import InFlight

N = 20


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args, **_kwargs):
        return None  # a 303 after a form is the answer itself


_OPENER = urllib.request.build_opener(_NoRedirect)


def fire(requests: list[urllib.request.Request]) -> list[tuple[int, bytes]]:
    """Send every request from its own thread, all released at once; return (status, body)."""
    results: list[tuple[int, bytes]] = []
    barrier = threading.Barrier(len(requests))
    lock = threading.Lock()

    def send(request: urllib.request.Request) -> None:
        barrier.wait()
        try:
            with _OPENER.open(request, timeout=120) as response:
                answer = (response.status, response.read())
        except urllib.error.HTTPError as exc:
            answer = (exc.code, exc.read())
        with lock:
            results.append(answer)

    threads = [threading.Thread(target=send, args=(r,)) for r in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def referral(client) -> int:
    doc = post(client, body(**{"device__imei": f.imei(9, "99999999")})).json
    assert doc["status"] == "referred", doc
    return doc["id"]


def underwriter_decisions(session, application_id: int) -> tuple[int, int]:
    """How many underwriter decisions, and their audit events, the application has."""
    session.expire_all()
    decisions = session.exec(
        select(func.count())
        .select_from(Decision)
        .where(Decision.application_id == application_id, Decision.kind == DecisionKind.UNDERWRITER)
    ).one()
    events = session.exec(
        select(func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.action == "application.underwriter_decision",
            AuditEvent.object_id == str(application_id),
        )
    ).one()
    return decisions, events


def test_twenty_decisions_at_once_on_one_referral_record_one(app, setup, session, client):
    application_id = referral(client)
    in_flight = InFlight(app)
    with serve(app) as base:
        requests = [
            urllib.request.Request(
                f"{base}/api/v1/applications/{application_id}/decision",
                data=json.dumps({"status": "approved", "note": f"underwriter {i}"}).encode(),
                headers={**UNDERWRITER, "Content-Type": "application/json"},
            )
            for i in range(N)
        ]
        results = fire(requests)
    assert in_flight.peak >= 2  # they really overlapped
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [409] * (N - 1), [b for s, b in results if s not in (200, 409)]
    assert all(json.loads(b)["error"] == "conflict" for s, b in results if s == 409)
    assert underwriter_decisions(session, application_id) == (1, 1)


def test_twenty_decisions_at_once_on_the_staff_page_record_one(app, setup, session, client, auth):
    application_id = referral(client)
    underwriter = f.UserFactory(role=Role.UNDERWRITER)
    auth.login(underwriter.email, f.PASSWORD)
    url = f"/staff/applications/{application_id}"
    token = csrf_token(client, url)
    cookie = f"session={client.get_cookie('session').value}"
    in_flight = InFlight(app)
    with serve(app) as base:
        requests = [
            urllib.request.Request(
                f"{base}{url}",
                data=urllib.parse.urlencode(
                    {"csrf_token": token, "status": "declined", "note": f"page {i}"}
                ).encode(),
                headers={"Cookie": cookie},
            )
            for i in range(N)
        ]
        results = fire(requests)
    assert in_flight.peak >= 2
    assert sorted(status for status, _ in results) == [303] + [409] * (N - 1)
    assert underwriter_decisions(session, application_id) == (1, 1)


def test_twenty_acceptances_at_once_book_one_loan(app, setup, session, client):
    doc = post(client, body()).json
    assert doc["status"] == "approved"
    in_flight = InFlight(app)
    with serve(app) as base:
        requests = [
            urllib.request.Request(
                f"{base}/api/v1/applications/{doc['id']}/accept", data=b"", headers=AGENT
            )
            for _ in range(N)
        ]
        results = fire(requests)
    assert in_flight.peak >= 2
    statuses = sorted(status for status, _ in results)
    assert statuses == [201] + [409] * (N - 1), [b for s, b in results if s not in (201, 409)]
    assert all(json.loads(b)["error"] == "conflict" for s, b in results if s == 409)
    assert count(session, Loan) == 1 and count(session, Disbursement) == 1
    assert count(session, Instalment) == doc["offer"]["instalments"]  # one schedule
    booked = session.exec(select(AuditEvent).where(AuditEvent.action == "loan.booked")).all()
    assert len(booked) == 1


def test_a_write_lock_held_too_long_on_sqlite_is_a_409_not_a_500(
    app, setup, session, client, backend
):
    if backend != "sqlite":
        pytest.skip("the database-wide write lock is SQLite's")
    application_id = referral(client)
    # The token's first use today writes its day (api/__init__.py): done before the lock.
    assert (
        client.get(f"/api/v1/applications/{application_id}", headers=UNDERWRITER).status_code == 200
    )
    engine = get_engine(app)
    engine.dispose()  # new connections wait 0.1 s for a lock, not 30 s
    event.listen(engine, "connect", lambda conn, _record: conn.execute("PRAGMA busy_timeout=100"))
    blocker = sqlite3.connect(make_url(str(engine.url)).database)
    blocker.execute("BEGIN IMMEDIATE")  # another writer holds the database
    try:
        response = client.post(
            f"/api/v1/applications/{application_id}/decision",
            json={"status": "approved", "note": "while locked"},
            headers=UNDERWRITER,
        )
    finally:
        blocker.rollback()
        blocker.close()
    assert response.status_code == 409, response.get_data(as_text=True)
    assert "try again" in response.json["message"]
    assert underwriter_decisions(session, application_id) == (0, 0)
