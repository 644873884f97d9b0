"""Time the decision path in process: validate, rules, score, schedule, write (SQLite, warm app).

    .venv/bin/python scripts/bench_decision.py [--n 500] [--decide-calls 2000]

First the pure decision alone (`lending.scoring.decide`: rules and scorecard on plain facts,
no I/O), whose budget is 1 ms a call (a file read or a model fit per call would blow it; this
was a wall-clock assertion in the tests, where a loaded machine made it flaky). Then each
request is a real POST /api/v1/applications through the Flask test client, on a migrated
SQLite file with the demo products and registry, with a fresh applicant and IMEI each time.
Prints the median and the 95th percentile; the target is a median under 50 ms.
"""

import argparse
import random
import statistics
import sys
import tempfile
import time
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lending import create_app  # noqa: E402
from lending.db import get_engine, session_scope  # noqa: E402
from lending.migrate import upgrade  # noqa: E402
from lending.scoring import (  # noqa: E402
    Scorecard,
    Thresholds,
    decide,
)
from lending.services.seed import seed_reference, seed_shop_agent  # noqa: E402
from scripts.bench_api import Client  # noqa: E402  (the same applicants and IMEIs)
from tests.scoring import factories  # noqa: E402

DECIDE_BUDGET_MS = 1.0


def time_decide(calls: int) -> float:
    """Return the median over 5 runs of the time of one pure decision, in milliseconds."""
    # The scoring tests' clean applicant and default policy (scores 629 on the default card).
    facts, policy = factories.facts(), factories.policy()
    card, thresholds = Scorecard.default(), Thresholds()
    decide(facts, policy, card, thresholds)  # warm-up
    runs = timeit.repeat(lambda: decide(facts, policy, card, thresholds), number=calls, repeat=5)
    return statistics.median(runs) / calls * 1000


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--decide-calls", type=int, default=2000)
    args = parser.parse_args()
    per_call = time_decide(args.decide_calls)
    fast = per_call < DECIDE_BUDGET_MS
    print(f"decide() alone, {args.decide_calls} calls x 5: median {per_call * 1000:.0f} us a call")
    print(f"  budget: under {DECIDE_BUDGET_MS:.0f} ms a call -> {'met' if fast else 'NOT met'}")
    workdir = Path(tempfile.mkdtemp())
    url = f"sqlite:///{workdir}/bench.db"
    upgrade(url)
    app = create_app({"env": "testing", "database_url": url, "secret_key": "bench"})
    with app.app_context(), session_scope(get_engine(app)) as session:
        seed_reference(session)
        token = seed_shop_agent(
            session, app.extensions["lending.hasher"], shop="Bench shop", email="bench@shop.pk"
        )
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    rng, bodies = random.Random(7), Client(0, token)
    for _ in range(20):  # warm-up: imports, the scorecard, statement caches
        client.post("/api/v1/applications", json=bodies.application_body(rng), headers=headers)
    timings, statuses = [], {}
    for _ in range(args.n):
        doc = bodies.application_body(rng)
        start = time.perf_counter()
        response = client.post("/api/v1/applications", json=doc, headers=headers)
        timings.append((time.perf_counter() - start) * 1000)
        if response.status_code != 201:
            print("unexpected", response.status_code, response.get_json())
            return 1
        status = response.get_json()["status"]
        statuses[status] = statuses.get(status, 0) + 1
    timings.sort()
    median = statistics.median(timings)
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(f"decision path, {args.n} applications on SQLite (in process, warm app)")
    print(f"  median {median:.1f} ms   p95 {p95:.1f} ms   max {timings[-1]:.1f} ms")
    print(f"  outcomes: {statuses}")
    print(f"  target: median under 50 ms -> {'met' if median < 50 else 'NOT met'}")
    return 0 if median < 50 and fast else 2


if __name__ == "__main__":
    sys.exit(main())
