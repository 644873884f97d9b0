"""Load-test the JSON API under gunicorn on PostgreSQL, against the stack's own floor.

    .venv/bin/python scripts/bench_api.py [--workers 3] [--concurrency 8] [--seconds 10]
        [--slice 1] [--rate 50] [--open-seconds 20] [--loans 40]
        [--url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Creates a throw-away database (dropped at the end), migrates and seeds it (products, registry,
a shop agent with an API token), serves the app with gunicorn on 127.0.0.1 and drives it from
a separate process over plain HTTP (threads + http.client, one connection per request as a sync
gunicorn worker closes each). Each operation runs alone, closed loop with --concurrency clients,
for --seconds in all, in turns of --slice seconds that go round the operations (so a burst of
other work on the machine weighs on the floor and on every operation alike):
  healthz      GET /healthz (a route with one `SELECT 1`: the floor for this stack)
  quote        GET /api/v1/quote
  application  POST /api/v1/applications, a fresh valid CNIC and IMEI each time
  loan read    GET /api/v1/loans/{id} on loans booked beforehand
  payment      POST /api/v1/loans/{id}/payments with a fresh Idempotency-Key
then the mix, 60% quote, 30% application, 5% loan read, 5% payment, for --seconds; then an
open-loop phase: new applications at a fixed --rate per second, latency measured from
each request's scheduled start (no coordinated omission). Prints requests per second, p50/p95/p99
per operation, each operation's throughput as a share of the floor's, and the CPU each request
cost the gunicorn workers, PostgreSQL and the load generator (from /proc); exits by itself.
"""

import argparse
import http.client
import itertools
import json
import multiprocessing
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from stdnum import luhn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HOST = "127.0.0.1"
TACS = ["35332716", "86711205", "35846711", "86632507", "35675812"]  # the demo registry
MAX_PER_PHASE = 50_000  # a bound on count as well as on time
TARGETS = {"application": 0.25, "quote": 0.50}  # share of the floor's throughput
OPEN_LOOP_P99_MS = 100


# --- the server side: database, seed, gunicorn ----------------------------------------------


def create_database(admin_url: str) -> tuple[str, str]:
    """Create a throw-away database; return its name and URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"lending_bench_api_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name, make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url: str, name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def seed(url: str) -> str:
    """Migrate, load products and registry, add a shop agent; return the agent's API token."""
    from lending import create_app
    from lending.db import get_engine, session_scope
    from lending.migrate import upgrade
    from lending.services.seed import seed_reference, seed_shop_agent

    upgrade(url)
    app = create_app({"env": "testing", "database_url": url, "secret_key": "bench"})
    with app.app_context(), session_scope(get_engine(app)) as session:
        seed_reference(session)
        token = seed_shop_agent(
            session, app.extensions["lending.hasher"], shop="Bench shop", email="agent@bench.pk"
        )
    get_engine(app).dispose()
    return token


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def start_gunicorn(url: str, port: int, workers: int, log: Path) -> subprocess.Popen:
    """Serve the app as in production; wait until /healthz answers."""
    env = {
        **os.environ,
        "LENDING_ENV": "production",
        "SECRET_KEY": uuid.uuid4().hex,
        "DATABASE_URL": url,
    }
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    command = [gunicorn, "-w", str(workers), "-b", f"{HOST}:{port}", "lending:create_app()"]
    with log.open("ab") as out:  # the app logs every request: keep it off the report
        server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=out)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}; see {log}")
        try:
            if request(port, "GET", "/healthz")[0] == 200:
                time.sleep(1)  # let every worker finish booting, not just the first
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("gunicorn did not answer /healthz within 60 s")


# --- the client side: requests, operations, phases ------------------------------------------


def request(port: int, method: str, path: str, body=None, headers=None) -> tuple[int, bytes]:
    """One HTTP request on a new connection; return the status and the body."""
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        payload = None if body is None else json.dumps(body)
        sent = {"Content-Type": "application/json", **(headers or {})} if payload else headers
        conn.request(method, path, body=payload, headers=sent or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class Client:
    """The operations of the mix, against one server, with fresh applicants and IMEIs."""

    def __init__(self, port: int, token: str, loans: list[int] | None = None):
        self.port = port
        self.auth = {"Authorization": f"Bearer {token}"}
        self.loans = loans or []
        self.serial = itertools.count(1)  # next() is atomic under the GIL

    def application_body(self, rng: random.Random) -> dict:
        i = next(self.serial)
        tac = TACS[i % len(TACS)]
        imei = f"{tac}{(i // len(TACS)) % 1_000_000:06d}"
        price = rng.choice([32999, 54999, 79999, 139999])
        return {
            "applicant": {
                "cnic": f"{rng.randint(1, 7)}{i:011d}{rng.randint(1, 9)}",
                "full_name": "Bench Customer",
                "date_of_birth": "1990-01-01",
                "mobile": f"0300{i % 10_000_000:07d}",
                "monthly_income": str(rng.randint(60, 300) * 1000),
                "monthly_obligations": str(rng.choice([0, 2000, 8000])),
                "employment_type": rng.choice(["salaried", "freelancer", "self_employed"]),
            },
            "device": {"imei": imei + luhn.calc_check_digit(imei), "price": f"{price}.00"},
            "down_payment": f"{price * 3 // 10}.00",
            "tenor": rng.choice([3, 6, 12]),
            "product_code": "QIST-STD",
        }

    def healthz(self, _rng) -> int:
        return request(self.port, "GET", "/healthz")[0]

    def quote(self, rng) -> int:
        amount, tenor = rng.randint(15, 120) * 1000, rng.choice([3, 6, 9, 12])
        path = f"/api/v1/quote?amount={amount}.00&tenor={tenor}&product_code=QIST-STD"
        return request(self.port, "GET", path)[0]

    def application(self, rng) -> int:
        body = self.application_body(rng)
        return request(self.port, "POST", "/api/v1/applications", body, self.auth)[0]

    def loan_read(self, rng) -> int:
        path = f"/api/v1/loans/{rng.choice(self.loans)}"
        return request(self.port, "GET", path, headers=self.auth)[0]

    def payment(self, rng) -> int:
        path = f"/api/v1/loans/{rng.choice(self.loans)}/payments"
        body = {"amount": "300.00", "paid_at": datetime.now(UTC).isoformat(), "channel": "cash"}
        headers = {**self.auth, "Idempotency-Key": uuid.uuid4().hex}
        return request(self.port, "POST", path, body, headers)[0]

    def book_loan(self, rng) -> int | None:
        """Apply and accept; the loan id, or None when the applicant was not approved."""
        status, raw = request(
            self.port, "POST", "/api/v1/applications", self.application_body(rng), self.auth
        )
        document = json.loads(raw)
        if status != 201 or document["status"] != "approved":
            return None
        path = f"/api/v1/applications/{document['id']}/accept"
        status, raw = request(self.port, "POST", path, {}, self.auth)
        return json.loads(raw)["loan_id"] if status == 201 else None


MIX = [("quote", 60), ("application", 30), ("loan read", 5), ("payment", 5)]
OPERATIONS = {
    "healthz": "healthz",
    "quote": "quote",
    "application": "application",
    "loan read": "loan_read",
    "payment": "payment",
}


def machine_cpu(server_pid: int | None) -> dict[str, float]:
    """CPU seconds so far of the gunicorn master and workers, and of every PostgreSQL process."""
    totals = {"server": 0.0, "postgres": 0.0}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, tail = stat.read_text().rsplit(")", 1)
        except OSError:
            continue  # gone meanwhile
        pid, fields = int(stat.parent.name), tail.split()
        seconds = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        if head.endswith("(postgres"):
            totals["postgres"] += seconds
        elif server_pid is not None and server_pid in (pid, int(fields[1])):  # fields[1]: ppid
            totals["server"] += seconds
    return totals


def closed_loop(
    client: Client, choose, seconds: float, concurrency: int, server_pid: int | None = None
) -> dict:
    """Run `concurrency` clients back to back for `seconds`; samples per operation."""
    samples: dict[str, list] = {}
    lock, deadline, issued = threading.Lock(), time.monotonic() + seconds, itertools.count()

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        while time.monotonic() < deadline and next(issued) < MAX_PER_PHASE:
            name = choose(rng)
            start = time.perf_counter()
            status = getattr(client, OPERATIONS[name])(rng)
            elapsed = (time.perf_counter() - start) * 1000
            with lock:
                samples.setdefault(name, []).append((elapsed, status))

    started, cpu, before = time.perf_counter(), time.process_time(), machine_cpu(server_pid)
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    after = machine_cpu(server_pid)
    used = {name: after[name] - before[name] for name in after}
    used["client"] = time.process_time() - cpu
    return {"samples": samples, "wall": wall, "cpu": used}


CPU_PARTS = ("server", "postgres", "client")


def open_loop(client: Client, rate: float, seconds: float) -> dict:
    """New applications at a fixed rate; latency from each one's scheduled start."""
    total, samples, lock = int(rate * seconds), [], threading.Lock()
    start = time.perf_counter() + 0.1

    def one(i: int) -> None:
        due = start + i / rate
        status = client.application(random.Random(i))
        with lock:
            samples.append(((time.perf_counter() - due) * 1000, status))

    with ThreadPoolExecutor(max_workers=64) as pool:
        for i in range(total):
            time.sleep(max(0.0, start + i / rate - time.perf_counter()))
            pool.submit(one, i)
    return {"samples": {"application": samples}, "wall": time.perf_counter() - start}


def drive(port: int, token: str, args: dict, results) -> None:
    """The load generator (its own process): book loans, then run every phase."""
    client = Client(port, token)
    rng = random.Random(1)
    booked = (client.book_loan(rng) for _ in range(args["loans"] * 3))
    client.loans = list(itertools.islice(filter(None, booked), args["loans"]))
    for name in ("quote", "application", "loan_read", "payment", "healthz"):  # warm-up
        for _ in range(10):
            getattr(client, name)(rng)
    # Each operation alone, in interleaved slices (healthz, quote, ..., healthz, quote, ...):
    # whatever else the machine does then weighs on every operation and on the floor alike.
    phases = {
        name: {"samples": {name: []}, "wall": 0.0, "cpu": dict.fromkeys(CPU_PARTS, 0.0)}
        for name in OPERATIONS
    }
    slices = max(1, round(args["seconds"] / args["slice"]))
    for _ in range(slices):
        for name in OPERATIONS:
            part = closed_loop(
                client,
                lambda _r, n=name: n,
                args["seconds"] / slices,
                args["concurrency"],
                args["server_pid"],
            )
            phases[name]["samples"][name] += part["samples"].get(name, [])
            phases[name]["wall"] += part["wall"]
            for key in CPU_PARTS:
                phases[name]["cpu"][key] += part["cpu"][key]
    names, weights = zip(*MIX, strict=True)
    phases["mix"] = closed_loop(
        client, lambda r: r.choices(names, weights)[0], args["seconds"], args["concurrency"]
    )
    phases["open"] = open_loop(client, args["rate"], args["open_seconds"])
    results.put({"loans": len(client.loans), "phases": phases})


# --- the report -----------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile of sorted values."""
    return values[max(0, min(len(values) - 1, int(round(p / 100 * len(values))) - 1))]


def summary(samples: list, wall: float) -> dict:
    times = sorted(t for t, _ in samples)
    errors = sum(1 for _, status in samples if status >= 400)
    return {
        "n": len(samples),
        "errors": errors,
        "rps": len(samples) / wall,
        **{f"p{p}": percentile(times, p) for p in (50, 95, 99)},
    }


def row(label: str, s: dict, floor: float | None) -> str:
    share = f"{s['rps'] / floor:6.1%}" if floor else "      "
    return (
        f"  {label:<13} {s['n']:>7} {s['errors']:>6} {s['rps']:>8.1f} "
        f"{s['p50']:>8.1f} {s['p95']:>8.1f} {s['p99']:>8.1f}   {share}"
    )


HEADER = "  operation      requests errors    req/s   p50 ms   p95 ms   p99 ms   vs floor"


def report(result: dict, args: argparse.Namespace) -> bool:
    """Print every phase; return whether every target was met."""
    phases = result["phases"]
    alone = {n: summary(phases[n]["samples"][n], phases[n]["wall"]) for n in OPERATIONS}
    floor = alone["healthz"]["rps"]
    print(
        f"each operation alone, closed loop, {args.concurrency} clients, {args.seconds:.0f} s "
        f"each, interleaved in turns of {args.slice:g} s:"
    )
    print(HEADER)
    for name in OPERATIONS:
        print(row(name, alone[name], floor))
    print("  CPU per request, ms (each operation alone): gunicorn + PostgreSQL + load generator")
    for name in OPERATIONS:
        used, n = phases[name]["cpu"], max(1, alone[name]["n"])
        server, postgres, client = (used[k] * 1000 / n for k in ("server", "postgres", "client"))
        print(
            f"  {name:<13} {server:6.2f} + {postgres:5.2f} + {client:5.2f} = "
            f"{server + postgres + client:6.2f}"
        )
    mix = phases["mix"]
    print(f"mix 60/30/5/5, closed loop, {args.concurrency} clients, {args.seconds:.0f} s:")
    print(HEADER)
    for name, _ in MIX:
        print(row(name, summary(mix["samples"].get(name, []), mix["wall"]), floor))
    everything = [s for samples in mix["samples"].values() for s in samples]
    print(row("all", summary(everything, mix["wall"]), floor))
    opened = summary(phases["open"]["samples"]["application"], phases["open"]["wall"])
    print(f"open loop: new applications at {args.rate:.0f}/s for {args.open_seconds:.0f} s:")
    print(HEADER)
    print(row("application", opened, None))
    return targets(alone, opened, floor)


def targets(alone: dict, opened: dict, floor: float) -> bool:
    checks = [
        (
            f"new application p99 at {OPEN_LOOP_P99_MS} ms or less under the open loop",
            opened["p99"] < OPEN_LOOP_P99_MS and opened["errors"] == 0,
            f"{opened['p99']:.1f} ms",
        ),
        *(
            (
                f"{name} throughput at least {share:.0%} of the floor's",
                alone[name]["rps"] >= share * floor,
                f"{alone[name]['rps'] / floor:.1%}",
            )
            for name, share in TARGETS.items()
        ),
    ]
    print("targets:")
    for text, met, measured in checks:
        print(f"  {text}: {measured} -> {'met' if met else 'NOT met'}")
    return all(met for _, met, _ in checks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--open-seconds", type=float, default=20)
    parser.add_argument("--loans", type=int, default=40)
    parser.add_argument(
        "--slice", type=float, default=1.0, help="seconds per turn when interleaving operations"
    )
    args = parser.parse_args()
    name, url = create_database(args.url)
    server = None
    try:
        token = seed(url)
        port, log = free_port(), Path(tempfile.mkdtemp()) / "gunicorn.log"
        server = start_gunicorn(url, port, args.workers, log)
        print(
            f"API benchmark: gunicorn -w {args.workers} on {HOST}:{port}, PostgreSQL, "
            f"{os.cpu_count()} cores; client in its own process"
        )
        result = run_driver(port, token, args, server.pid)
        print(f"  ({result['loans']} loans booked beforehand for reads and payments)")
        return 0 if report(result, args) else 2
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        drop_database(args.url, name)


def run_driver(port: int, token: str, args: argparse.Namespace, server_pid: int) -> dict:
    """Run the load generator in a separate process and wait for its figures."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    options = {k: getattr(args, k) for k in ("seconds", "concurrency", "rate", "loans", "slice")}
    options.update(open_seconds=args.open_seconds, server_pid=server_pid)
    driver = context.Process(target=drive, args=(port, token, options, results))
    driver.start()
    budget = 60 + 7 * args.seconds + args.open_seconds + 60
    try:
        result = results.get(timeout=budget)
    finally:
        driver.join(timeout=10)
        if driver.is_alive():
            driver.terminate()
    return result


if __name__ == "__main__":
    sys.exit(main())
