"""Profile the new-application path with pyinstrument, in process, on PostgreSQL.

    .venv/bin/python scripts/profile_application.py [--n 300] [--html profile.html]
        [--url postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--route application|quote]

Creates a throw-away database (dropped at the end), migrates and seeds it like
scripts/bench_api.py, builds the app as production does (LENDING_ENV=production: JSON logs,
security headers, rate limiter) and sends --n real POST /api/v1/applications through Flask's
test client (or GET /api/v1/quote with --route quote), a fresh applicant and IMEI each, after
a warm-up. First unprofiled, in chunks of 50: the least disturbed chunk's wall time and CPU
per request (this process, and every PostgreSQL process from /proc); then under pyinstrument,
whose call tree it prints (wall time, so waiting on PostgreSQL shows as such) with the time
spent in the driver and the statements per request.
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

from scripts.bench_api import Client, create_database, drop_database, seed  # noqa: E402


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
        rng, bodies = random.Random(3), Client(0, token)  # bench_api's applicants and IMEIs

        def one() -> None:
            if args.route == "quote":
                path = f"/api/v1/quote?amount={rng.randint(15, 120) * 1000}.00&tenor=12"
                response = client.get(path + "&product_code=QIST-STD")
                assert response.status_code == 200, response.get_data(as_text=True)
                return
            response = client.post(
                "/api/v1/applications", json=bodies.application_body(rng), headers=headers
            )
            assert response.status_code == 201, response.get_data(as_text=True)

        for _ in range(30):  # warm-up: imports, statement caches, the connection pool
            one()
        # Unprofiled: chunks of 50 requests; the best chunk is the least disturbed by the
        # rest of the machine (wall, this process's CPU and PostgreSQL's CPU per request).
        chunks = []
        for _ in range(max(1, args.n // 50)):
            wall, cpu, server = time.perf_counter(), time.process_time(), postgres_cpu()
            for _ in range(50):
                one()
            chunks.append(
                (
                    (time.process_time() - cpu) / 50,
                    (postgres_cpu() - server) / 50,
                    (time.perf_counter() - wall) / 50,
                )
            )
        best = min(chunks)  # by this process's CPU (PostgreSQL's is counted in 10 ms ticks)
        clock = SqlClock(get_engine(app))
        profiler = Profiler(interval=0.0005)
        started = time.perf_counter()
        profiler.start()
        for _ in range(args.n):
            one()
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
            f"profiled, {args.n} requests of {args.route}: {wall * per:.2f} ms each, of which "
            f"{clock.seconds * per:.2f} ms in the driver ({clock.statements / args.n:.1f} "
            f"statements and commits a request)"
        )
        get_engine(app).dispose()
    finally:
        drop_database(args.url, name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
