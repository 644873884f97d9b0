"""Benchmark the nightly run on PostgreSQL against a hand-written set-based SQL floor.

    .venv/bin/python scripts/bench_nightly.py [--loans 200000 | --million] [--workers N]
        [--url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Creates a throw-away database, generates N active monthly loans of 12 instalments booked over
the past year (about 80% current, the rest 1 to 200 days late), runs the whole nightly for one
date, and in the same run times one hand-written UPDATE that does the ageing step's work on the
same table (days past due, bucket, classification, aged_on): the floor.
Prints loans per second, each step's time, the ageing ratio to the floor and peak RSS.
"""

import argparse
import resource
import sys
import time
import uuid
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lending.db import make_engine  # noqa: E402
from lending.migrate import upgrade  # noqa: E402
from lending.services.nightly.runner import NightlyConfig, run_nightly  # noqa: E402

AS_OF = date(2026, 11, 28)
GENERATE = """
INSERT INTO retailers (id, name, city, address, phone, active, created_at)
VALUES (1, 'Bench shop', 'Lahore', '', '', true, now());
INSERT INTO applicants (id, cnic, full_name, date_of_birth, mobile, language, created_at)
VALUES (1, '3520212345673', 'Bench', '1990-01-01', '+923001234567', 'en', now());
INSERT INTO applications (id, retailer_id, applicant_id, product_id, product_version,
  monthly_income, monthly_obligations, employment_type, imei, device_price, down_payment, tenor,
  status, reasons, incentive_tags, created_at)
SELECT g, 1, 1, 1, 1, 90000, 0, 'salaried', lpad(g::text, 15, '3'), 60000, 15000, 12,
  'accepted', '[]', '[]', now() FROM generate_series(1, :n) g;
INSERT INTO loans (id, application_id, applicant_id, retailer_id, product_id, product_version,
  imei, method, frequency, day_count, islamic, annual_rate, device_price, down_payment,
  principal, instalment_amount, instalments_count, apr, total_payable, disbursed_on,
  first_due_on, maturity_on, status, days_past_due, bucket, classification, device_locked,
  device_released, incentive_tags, created_at)
SELECT g, g, 1, 1, 1, 1, lpad(g::text, 15, '3'), 'reducing', 'monthly', '30/360', false, 36,
  60000, 15000, 45000, 4521, 12, 42.6, 54252, d, d + interval '1 month',
  d + interval '12 months', 'active', 0, 'current', 'regular', false, false, '[]', now()
FROM (SELECT g, CAST(:as_of AS DATE) - (g % 360) AS d FROM generate_series(1, :n) g) s;
INSERT INTO instalments (loan_id, n, due_date, principal, profit, fee, total, balance_after,
  paid_principal, paid_profit, paid_fee)
SELECT l.id, k, (l.disbursed_on + make_interval(months => k))::date, 3750, 771, 0, 4521,
  45000 - 3750 * k,
  CASE WHEN paid THEN 3750 ELSE 0 END, CASE WHEN paid THEN 771 ELSE 0 END, 0
FROM loans l CROSS JOIN generate_series(1, 12) k
CROSS JOIN LATERAL (SELECT (l.disbursed_on + make_interval(months => k))::date < :as_of
  AND (l.id % 5 <> 0 OR k < 1 + (l.id / 5) % 8) AS paid) p;
"""
FLOOR = """
UPDATE loans SET days_past_due = COALESCE(o.dpd, 0), aged_on = CAST(:as_of AS DATE),
  bucket = CASE WHEN COALESCE(o.dpd, 0) >= 91 THEN '90+' WHEN COALESCE(o.dpd, 0) >= 61 THEN '61-90'
    WHEN COALESCE(o.dpd, 0) >= 31 THEN '31-60' WHEN COALESCE(o.dpd, 0) >= 1 THEN '1-30'
    ELSE 'current' END,
  classification = CASE WHEN COALESCE(o.dpd, 0) >= 180 THEN 'loss'
    WHEN COALESCE(o.dpd, 0) >= 90 THEN 'doubtful' WHEN COALESCE(o.dpd, 0) >= 30 THEN 'substandard'
    WHEN COALESCE(o.dpd, 0) >= 5 THEN 'watch' ELSE 'regular' END
FROM loans l2 LEFT JOIN (
  SELECT loan_id, CAST(:as_of AS DATE) - MIN(due_date) AS dpd FROM instalments
  WHERE due_date < :as_of AND paid_principal + paid_profit + paid_fee < total
  GROUP BY loan_id) o ON o.loan_id = l2.id
WHERE loans.id = l2.id AND loans.status = 'active'
"""


def generate(url: str, n: int) -> None:
    from lending import create_app
    from lending.db import get_engine, session_scope
    from lending.services.seed import seed_reference

    upgrade(url)
    app = create_app({"env": "testing", "database_url": url, "secret_key": "bench"})
    with app.app_context(), session_scope(get_engine(app)) as session:
        seed_reference(session)
    get_engine(app).dispose()
    engine = create_engine(url)
    with engine.begin() as conn:
        for statement in filter(str.strip, GENERATE.split(";\n")):
            conn.execute(text(statement), {"n": n, "as_of": AS_OF})
        conn.execute(text("ANALYZE"))
    engine.dispose()


def rss_mb() -> float:
    """Peak resident memory of this process so far, MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(label: str, function) -> float:
    start = time.perf_counter()
    function()
    seconds = time.perf_counter() - start
    print(f"  {label:<28} {seconds:8.2f} s")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--loans", type=int, default=200_000)
    parser.add_argument("--million", action="store_true")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    n = 1_000_000 if args.million else args.loans
    name = f"lending_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.url).set(database=name).render_as_string(hide_password=False)
    try:
        return run(url, n, args.workers)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(url: str, n: int, workers: int) -> int:
    print(f"nightly benchmark: {n:,} active loans x 12 instalments, PostgreSQL, as of {AS_OF}")
    timed("generate the book", lambda: generate(url, n))
    print(f"  (peak RSS after generating: {rss_mb():.0f} MB)")
    engine = make_engine(url)
    with engine.begin() as conn:
        floor = timed("SQL floor (one UPDATE)", lambda: conn.execute(text(FLOOR), {"as_of": AS_OF}))
    config = NightlyConfig(workers=workers, database_url=url)
    start = time.perf_counter()
    rss_before = {}

    def note_rss(step: str):
        rss_before[step] = rss_mb()

    [result] = run_nightly(engine, AS_OF, config, report=note_rss)
    total = time.perf_counter() - start
    with engine.connect() as conn:
        steps = dict(conn.execute(text(
            "SELECT job, duration_ms FROM job_runs WHERE job LIKE 'nightly.%'")).all())
    for step, ms in steps.items():
        name = step.split(".", 1)[1]
        print(f"  {step:<28} {ms / 1000:8.2f} s   {result[name]}  "
              f"(peak RSS before: {rss_before.get(name, 0):.0f} MB)")
    ageing = steps["nightly.ageing"] / 1000
    rss = rss_mb()
    print(f"whole night: {total:.1f} s = {n / total:,.0f} loans/s "
          f"(target for 1,000,000: under 900 s)")
    print(f"ageing vs SQL floor: {ageing:.2f} s / {floor:.2f} s = {ageing / floor:.2f}x "
          f"(target: within 3x)")
    print(f"peak RSS of this process: {rss:.0f} MB (target: under 400 MB)")
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
