"""A gunicorn worker killed while payments are being posted: no payment is ever half-written.

The app runs under gunicorn on the test's PostgreSQL database; threads post counter payments
while its workers get SIGKILL. The database rolls back whatever the dead worker had open; every
request that failed is retried with its Idempotency-Key, and in the end each key is exactly one
payment whose allocations add up, and the instalments hold exactly what the payments applied.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlmodel import func, select

from lending.models import Instalment, Payment, PaymentAllocation
from tests.web.helpers import AGENT
from tests.web.servicing import book_loan

KEYS = 60  # sixty counter payments at once, a key each


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(database_url: str, port: int, log) -> subprocess.Popen:
    env = {
        **os.environ,
        "LENDING_ENV": "production",
        "SECRET_KEY": "kill-test",
        "DATABASE_URL": database_url,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--graceful-timeout",
            "2",
            "lending:create_app()",
        ],
        env=env,
        stdout=log,
        stderr=log,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("gunicorn did not start")


def post_payment(base: str, loan_id: int, key: str, paid_at: str) -> int | None:
    """POST one counter payment; a retry must send the same body under the same key."""
    body = json.dumps({"amount": "10.00", "channel": "cash", "paid_at": paid_at}).encode()
    request = urllib.request.Request(
        f"{base}/api/v1/loans/{loan_id}/payments",
        data=body,
        method="POST",
        headers={**AGENT, "Content-Type": "application/json", "Idempotency-Key": key},
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None  # the worker died under this request


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (gunicorn's workers), read from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    stat = handle.read()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return sorted(found)


def test_killing_workers_mid_payments_loses_nothing_and_posts_nothing_twice(
    app, session, client, setup, backend, tmp_path
):
    if backend != "postgresql":
        pytest.skip("gunicorn workers are separate processes: PostgreSQL is what they share")
    app.extensions.pop("lending.clock")  # the server runs on the real clock
    loan_id = book_loan(client)
    port, answers = free_port(), {}
    paid_at = datetime.now(UTC).isoformat()  # one body per key, resent as is on a retry
    with open(tmp_path / "gunicorn.log", "w") as log:
        server = start_gunicorn(app.config["DATABASE_URL"], port, log)
        try:
            base = f"http://127.0.0.1:{port}"
            threads = [
                threading.Thread(
                    target=lambda k=k: answers.__setitem__(
                        k, post_payment(base, loan_id, k, paid_at)
                    )
                )
                for k in (f"k{i}" for i in range(KEYS))
            ]
            for i, t in enumerate(threads):
                t.start()
                if i == KEYS // 3:
                    workers = subprocess.run(
                        ["pgrep", "-P", str(server.pid)], capture_output=True, text=True
                    ).stdout.split()
                    os.kill(int(workers[0]), signal.SIGKILL)
            for t in threads:
                t.join()
            failed = [k for k, status in answers.items() if status != 201]
            print(f"requests cut by the kill: {len(failed)} of {KEYS}")
            for key in failed:  # the counter retries what did not answer
                assert post_payment(base, loan_id, key, paid_at) in (200, 201)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(20)
    session.expire_all()
    payments = session.exec(select(Payment).where(Payment.loan_id == loan_id)).all()
    # Keys are stored per client ("u<user id>:<key>"), so two clients never collide.
    assert len(payments) == KEYS
    assert {p.idempotency_key.split(":", 1)[1] for p in payments} == set(answers)
    applied = session.exec(
        select(
            func.sum(
                PaymentAllocation.principal
                + PaymentAllocation.profit
                + PaymentAllocation.fee
                + PaymentAllocation.late_fee
            )
        )
    ).one()
    assert applied == Decimal("600.00") == sum(p.amount - p.unapplied for p in payments)
    held = session.exec(
        select(
            func.sum(Instalment.paid_principal + Instalment.paid_profit + Instalment.paid_fee)
        ).where(Instalment.loan_id == loan_id)
    ).one()
    late = session.exec(select(func.sum(PaymentAllocation.late_fee))).one()
    assert held + late == applied
