"""Exactly once under real concurrency: 50 requests at once against a live threaded server.

On PostgreSQL the requests really run in parallel (one connection each); the loan row lock
and the unique constraints, not luck, keep the books right. SQLite serialises writers, so
there the duplicate callback is checked one delivery after another.
"""

import json
import threading
import urllib.error
import urllib.request
from decimal import Decimal

import pytest
from sqlmodel import func, select

from lending.models import Instalment, Payment, PaymentAllocation
from tests.live import serve
from tests.web.helpers import AGENT, NOW, count
from tests.web.servicing import (
    STAFF,
    book_loan,
    callback,
    scheduled_total,
    signed,
    use_webhook_secret,
)

N = 50


def fire(requests: list[urllib.request.Request]) -> list[tuple[int, dict]]:
    """Send every request from its own thread, all released at once; return (status, body)."""
    results: list[tuple[int, dict]] = []
    barrier = threading.Barrier(len(requests))
    lock = threading.Lock()

    def send(request: urllib.request.Request) -> None:
        barrier.wait()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                answer = (response.status, json.loads(response.read()))
        except urllib.error.HTTPError as exc:
            answer = (exc.code, json.loads(exc.read() or b"{}"))
        with lock:
            results.append(answer)

    threads = [threading.Thread(target=send, args=(r,)) for r in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


class InFlight:
    """WSGI middleware counting requests served at once: proof that they really overlapped."""

    def __init__(self, app):
        self.inner, self.now, self.peak = app.wsgi_app, 0, 0
        self.lock = threading.Lock()
        app.wsgi_app = self

    def __call__(self, environ, start_response):
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        try:
            return self.inner(environ, start_response)
        finally:
            with self.lock:
                self.now -= 1


def postgres_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("concurrency is proven on PostgreSQL, where requests really run in parallel")


@pytest.mark.postgres_only
def test_fifty_deliveries_of_one_callback_make_one_payment(app, setup, session, client, backend):
    postgres_only(backend)
    use_webhook_secret(app)
    loan_id = book_loan(client)
    raw, headers = signed(callback(loan_id, "6990.00", "JC-RACE-1"))
    in_flight = InFlight(app)
    with serve(app) as base:
        requests = [
            urllib.request.Request(f"{base}/api/v1/webhooks/payments", data=raw, headers=headers)
            for _ in range(N)
        ]
        results = fire(requests)
    print(f"callback x{N}: {in_flight.peak} requests in flight at the peak")
    assert in_flight.peak >= 2  # they really overlapped (repeats after the first are quick)
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * (N - 1) + [201]
    assert len({doc["payment_id"] for _, doc in results}) == 1
    assert count(session, Payment) == 1
    allocated = session.exec(
        select(func.sum(PaymentAllocation.principal + PaymentAllocation.profit))
    ).one()
    paid = session.exec(select(func.sum(Instalment.paid_principal + Instalment.paid_profit))).one()
    assert allocated == paid == Decimal("6990.00")  # applied once, not 50 times


@pytest.mark.postgres_only
def test_fifty_different_payments_at_once_leave_the_books_exact(
    app, setup, session, client, backend
):
    postgres_only(backend)
    loan_id = book_loan(client)
    amounts = [Decimal("100.00") + Decimal(i) / 100 for i in range(N)]  # 100.00 ... 100.49
    in_flight = InFlight(app)
    with serve(app) as base:
        requests = [
            urllib.request.Request(
                f"{base}/api/v1/loans/{loan_id}/payments",
                data=json.dumps(
                    {"amount": str(a), "paid_at": NOW.isoformat(), "channel": "cash"}
                ).encode(),
                headers={**AGENT, "Content-Type": "application/json", "Idempotency-Key": f"k-{i}"},
            )
            for i, a in enumerate(amounts)
        ]
        results = fire(requests)
    print(f"payments x{N}: {in_flight.peak} requests in flight at the peak")
    assert in_flight.peak >= 10  # each holds the loan's lock in turn: many wait at once
    assert sorted(status for status, _ in results) == [201] * N
    paid_in = sum(amounts, Decimal("0"))  # 5,012.25
    assert count(session, Payment) == N
    session.expire_all()
    allocated = session.exec(
        select(func.sum(PaymentAllocation.principal + PaymentAllocation.profit))
    ).one()
    assert allocated == paid_in
    document = client.get(f"/api/v1/loans/{loan_id}", headers=STAFF).json
    assert Decimal(document["outstanding"]["total"]) == scheduled_total(session, loan_id) - paid_in
    assert Decimal(document["paid"]["total"]) == paid_in


@pytest.mark.postgres_only
def test_fifty_retries_of_one_counter_payment_make_one(app, setup, session, client, backend):
    postgres_only(backend)
    loan_id = book_loan(client)
    doc = {"amount": "1234.56", "paid_at": NOW.isoformat(), "channel": "cash"}
    in_flight = InFlight(app)
    with serve(app) as base:
        requests = [
            urllib.request.Request(
                f"{base}/api/v1/loans/{loan_id}/payments",
                data=json.dumps(doc).encode(),
                headers={**AGENT, "Content-Type": "application/json", "Idempotency-Key": "retry"},
            )
            for _ in range(N)
        ]
        results = fire(requests)
    print(f"same key x{N}: {in_flight.peak} requests in flight at the peak")
    assert in_flight.peak >= 2
    assert [status for status, _ in results] == [201] * N
    assert len({json.dumps(body, sort_keys=True) for _, body in results}) == 1
    assert count(session, Payment) == 1


def test_a_callback_delivered_again_and_again_posts_once(app, setup, session, client):
    use_webhook_secret(app)
    loan_id = book_loan(client)
    raw, headers = signed(callback(loan_id, "500.00", "JC-AGAIN"))
    answers = [
        client.post("/api/v1/webhooks/payments", data=raw, headers=headers) for _ in range(5)
    ]
    assert [a.status_code for a in answers] == [201, 200, 200, 200, 200]
    assert len({a.json["payment_id"] for a in answers}) == 1
    assert count(session, Payment) == 1
