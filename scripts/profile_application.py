"""Profile the new-application path with pyinstrument, in process, on PostgreSQL.

    .venv/bin/python scripts/profile_application.py [--n 300] [--html profile.html]
        [--url postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--route application|quote]

Creates a throw-away database (dropped at the end), migrates and seeds it like
scripts/bench_api.py, builds the app as production does (LENDING_ENV=production: JSON logs,
security headers, rate limiter) and sends --n real POST /api/v1/applications through Flask's
test client, a fresh applicant and IMEI each, after a warm-up. Prints pyinstrument's call tree
(wall time, so waiting on PostgreSQL shows as such), then per request: wall time, time inside
the driver's execute (statements and commit), and SQL statements.
"""

import argparse
import logging
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pyinstrument import Profiler  # noqa: E402
from sqlalchemy import event  # noqa: E402

from scripts.bench_api import TACS, create_database, drop_database, seed  # noqa: E402


def application_body(rng: random.Random, i: int) -> dict:
    from stdnum import luhn

    tac = TACS[i % len(TACS)]
    imei = f"{tac}{i:06d}"
    price = rng.choice([32999, 54999, 79999, 139999])
    return {
        "applicant": {
            "cnic": f"{rng.randint(1, 7)}{i:011d}{rng.randint(1, 9)}",
            "full_name": "Profile Customer",
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


class SqlClock:
    """Statements and time spent in the driver, counted with SQLAlchemy's cursor events."""

    def __init__(self, engine) -> None:
        self.statements, self.seconds, self._started = 0, 0.0, 0.0
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        event.listen(engine, "commit", self._commit)

    def _before(self, *_args) -> None:
        self.statements += 1
        self._started = time.perf_counter()

    def _after(self, *_args) -> None:
        self.seconds += time.perf_counter() - self._started

    def _commit(self, *_args) -> None:
        self.statements += 1  # a COMMIT is a round trip too (its time is in the wall figure)


def postgres_cpu() -> float:
    """CPU seconds used so far by every PostgreSQL process on this machine (Linux /proc)."""
    total, tick = 0, os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)
        except OSError:
            continue  # gone meanwhile
        if fields[0].endswith("(postgres"):
            values = fields[1].split()
            total += int(values[11]) + int(values[12])  # utime, stime
    return total / tick


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--html", help="also write pyinstrument's HTML report here")
    parser.add_argument("--route", choices=("application", "quote"), default="application")
    args = parser.parse_args()
    name, url = create_database(args.url)
    try:
        token = seed(url)
        os.environ.update(LENDING_ENV="production", SECRET_KEY="profile", DATABASE_URL=url)
        from lending import create_app
        from lending.db import get_engine

        app = create_app()
        logging.getLogger("lending.request").setLevel(logging.WARNING)  # keep the report readable
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        rng = random.Random(3)

        def one(i: int) -> None:
            if args.route == "quote":
                path = f"/api/v1/quote?amount={rng.randint(15, 120) * 1000}.00&tenor=12"
                response = client.get(path + "&product_code=QIST-STD")
                assert response.status_code == 200, response.get_data(as_text=True)
                return
            response = client.post(
                "/api/v1/applications", json=application_body(rng, i), headers=headers
            )
            assert response.status_code == 201, response.get_data(as_text=True)

        for i in range(30):  # warm-up: imports, statement caches, the connection pool
            one(900_000 + i)
        # Unprofiled: chunks of 50 requests; the best chunk is the least disturbed by the
        # rest of the machine (wall, this process's CPU and PostgreSQL's CPU per request).
        chunks = []
        for c in range(max(1, args.n // 50)):
            wall, cpu, server = time.perf_counter(), time.process_time(), postgres_cpu()
            for i in range(50):
                one(600_000 + c * 50 + i)
            chunks.append(
                (
                    (time.process_time() - cpu) / 50,
                    (postgres_cpu() - server) / 50,
                    (time.perf_counter() - wall) / 50,
                )
            )
        best = min(chunks, key=lambda chunk: chunk[0] + chunk[1])
        clock = SqlClock(get_engine(app))
        profiler = Profiler(interval=0.0005)
        started = time.perf_counter()
        profiler.start()
        for i in range(args.n):
            one(i)
        profiler.stop()
        wall = time.perf_counter() - started
        print(profiler.output_text(unicode=True, color=False, show_all=False))
        if args.html:
            Path(args.html).write_text(profiler.output_html())
        per = 1000 / args.n
        print(
            f"without the profiler, best chunk of 50: {best[2] * 1000:.2f} ms each; CPU: this "
            f"process {best[0] * 1000:.2f} ms + PostgreSQL {best[1] * 1000:.2f} ms = "
            f"{(best[0] + best[1]) * 1000:.2f} ms"
        )
        print(
            f"{args.n} requests of {args.route}: {wall * per:.2f} ms each; in the driver "
            f"{clock.seconds * per:.2f} ms ({clock.statements / args.n:.1f} statements and "
            f"commits); the rest, {(wall - clock.seconds) * per:.2f} ms, is Python"
        )
        get_engine(app).dispose()
    finally:
        drop_database(args.url, name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
