"""Time the decision path in process: validate, rules, score, schedule, write (SQLite, warm app).

    .venv/bin/python scripts/bench_decision.py [--n 500]

Each request is a real POST /api/v1/applications through the Flask test client, on a migrated
SQLite file with the demo products and registry, with a fresh applicant and IMEI each time.
Prints the median and the 95th percentile; the target is a median under 50 ms.
"""

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from stdnum import luhn

from lending import create_app
from lending.db import get_engine, session_scope
from lending.migrate import upgrade
from lending.services.seed import seed_reference, seed_shop_agent

TACS = ["35332716", "86711205", "35846711", "86632507", "35675812"]


def application(rng: random.Random, i: int) -> dict:
    tac = rng.choice(TACS)
    body = f"{tac}{i:06d}"
    cnic = f"35202{i:07d}{rng.randint(1, 9)}"
    price = rng.choice([32999, 54999, 79999, 139999])
    return {
        "applicant": {
            "cnic": cnic,
            "full_name": "Bench Customer",
            "date_of_birth": "1990-01-01",
            "mobile": f"0300{i % 10_000_000:07d}",
            "monthly_income": str(rng.randint(40, 300) * 1000),
            "monthly_obligations": str(rng.choice([0, 2000, 8000])),
            "employment_type": rng.choice(["salaried", "freelancer", "self_employed"]),
        },
        "device": {"imei": body + luhn.calc_check_digit(body), "price": f"{price}.00"},
        "down_payment": f"{price * 3 // 10}.00",
        "tenor": rng.choice([3, 6, 12]),
        "product_code": "QIST-STD",
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=500)
    args = parser.parse_args()
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
    rng = random.Random(7)
    for i in range(20):  # warm-up: imports, the scorecard, statement caches
        client.post("/api/v1/applications", json=application(rng, 900_000 + i), headers=headers)
    timings, statuses = [], {}
    for i in range(args.n):
        doc = application(rng, i)
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
    return 0 if median < 50 else 2


if __name__ == "__main__":
    sys.exit(main())
