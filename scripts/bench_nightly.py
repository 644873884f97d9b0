"""Benchmark nightly runs on PostgreSQL against a hand-written set-based SQL floor.

    .venv/bin/python scripts/bench_nightly.py [--loans 200000[,1000000,...] | --million]
        [--nights 3] [--workers N] [--url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

For each book size, in a throw-away database: generates N active monthly loans of 12
instalments booked over the year before the first night (about 80% current, the rest 1 to 200
days late), then runs `--nights` consecutive nights ending on the first of a month, so that the
first night is the generated book's first (every historic late fee), the night before the last
is a month end (snapshots) and the others are steady nights. Before each later night the loans
that pay on time pay what fell due since the previous one (one UPDATE, as reconcile would post).

Before each night it times the floor, in a transaction it rolls back (then VACUUMs the loans,
so the night finds the table as it was): one UPDATE doing the ageing step's work over the whole
book (days past due from the instalments in arrears, bucket, classification and aged_on, written
only where they change) and, on a month end, one INSERT ... SELECT of the snapshots.
Prints per night each step's seconds and counts and the ageing's ratio to the floor, then a
summary per size; peak RSS is this process's.
"""

import argparse
import resource
import sys
import time
import uuid
from dataclasses import replace
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lending.db import make_engine  # noqa: E402
from lending.migrate import upgrade  # noqa: E402
from lending.services.nightly.ageing import is_month_end  # noqa: E402
from lending.services.nightly.runner import (  # noqa: E402
    NightlyConfig,
    replay_check,
    run_nightly,
)

MONTH_END = date(2026, 11, 30)
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
INSERT INTO instalments (id, loan_id, n, due_date, principal, profit, fee, total, balance_after,
  paid_principal, paid_profit, paid_fee, paid_on)
SELECT (l.id - 1) * 12 + k, l.id, k, (l.disbursed_on + make_interval(months => k))::date, 3750,
  771, 0, 4521, 45000 - 3750 * k,
  CASE WHEN paid THEN 3750 ELSE 0 END, CASE WHEN paid THEN 771 ELSE 0 END, 0,
  CASE WHEN paid THEN (l.disbursed_on + make_interval(months => k))::date END
FROM loans l CROSS JOIN generate_series(1, 12) k
CROSS JOIN LATERAL (SELECT (l.disbursed_on + make_interval(months => k))::date < :as_of
  AND (l.id % 5 <> 0 OR k < 1 + (l.id / 5) % 8) AS paid) p;
SELECT setval(pg_get_serial_sequence('instalments', 'id'), (SELECT max(id) FROM instalments));
INSERT INTO loan_transactions (loan_id, kind, value_date, amount, note, created_at)
SELECT id, 'disbursement', disbursed_on, principal, '', disbursed_on + time '10:00'
FROM loans ORDER BY id;
INSERT INTO disbursements (loan_id, retailer_id, amount, status, created_at)
SELECT id, retailer_id, principal, 'recorded', disbursed_on + time '10:00' FROM loans;
INSERT INTO journal_entries (id, posted_on, value_date, kind, loan_id, memo, created_at)
SELECT id, disbursed_on, disbursed_on, 'disbursement', id, '', disbursed_on + time '10:00'
FROM loans;
INSERT INTO journal_lines (entry_id, account_id, amount)
SELECT l.id, a.id, CASE WHEN a.role = 'loan_principal' THEN l.principal ELSE -l.principal END
FROM loans l CROSS JOIN gl_accounts a WHERE a.role IN ('loan_principal', 'shop_payable')
"""
# The journal entry of each payment: the rail's clearing account against the principal and the
# profit it paid.
LEDGER = """
WITH entry AS (
  INSERT INTO journal_entries (posted_on, value_date, kind, loan_id, transaction_id, memo,
    created_at)
  SELECT i.due_date, i.due_date, 'payment', i.loan_id, t.id, '', i.due_date + time '07:00'
  FROM instalments i JOIN loan_transactions t ON t.payment_id = i.id
  WHERE i.id IN (SELECT id FROM paid_now)
  RETURNING id, transaction_id)
INSERT INTO journal_lines (entry_id, account_id, amount)
SELECT entry.id, a.id, CASE a.role WHEN 'clearing_raast' THEN i.total
  WHEN 'loan_principal' THEN -i.principal ELSE -i.profit END
FROM entry JOIN loan_transactions t ON t.id = entry.transaction_id
JOIN instalments i ON i.id = t.payment_id
CROSS JOIN gl_accounts a
WHERE a.role IN ('clearing_raast', 'loan_principal', 'profit_income')
"""
# The payments behind the paid columns (one per instalment paid on its due date, id = the
# instalment's): payment, its transaction, its allocation and the loan's `inputs_through`,
# recorded on the day it was paid, so that the book is its own replay.
PAY = """
INSERT INTO payments (id, loan_id, amount, unapplied, paid_at, channel, reference, scope,
  request_hash, status, created_at)
SELECT id, loan_id, total, 0, due_date + time '07:00', 'raast', 'BENCH-' || id, '', '',
  'posted', due_date + time '07:00'
FROM instalments WHERE id IN (SELECT id FROM paid_now);
INSERT INTO loan_transactions (loan_id, kind, value_date, amount, payment_id, note, created_at)
SELECT loan_id, 'payment', due_date, total, id, '', due_date + time '07:00'
FROM instalments WHERE id IN (SELECT id FROM paid_now) ORDER BY loan_id, n;
INSERT INTO payment_allocations (payment_id, transaction_id, instalment_id, late_fee, fee,
  profit, principal)
SELECT t.payment_id, t.id, t.payment_id, 0, 0, i.profit, i.principal
FROM loan_transactions t JOIN instalments i ON i.id = t.payment_id
WHERE t.payment_id IN (SELECT id FROM paid_now);
UPDATE loans SET inputs_through = p.last
FROM (SELECT loan_id, max(due_date) AS last FROM instalments
  WHERE id IN (SELECT id FROM paid_now) GROUP BY loan_id) p
WHERE loans.id = p.loan_id;
UPDATE loans SET inputs_through = disbursed_on WHERE inputs_through IS NULL;
SELECT setval(pg_get_serial_sequence('payments', 'id'),
  GREATEST((SELECT max(id) FROM payments), 1))
"""
# Entries take the sequence's ids, in the order they are written, as the application's do (the
# nightly balances rely on it); the booking entries, written with the loans' ids, move it on.
SEQUENCE = """
SELECT setval(pg_get_serial_sequence('journal_entries', 'id'),
  (SELECT max(id) FROM journal_entries))
"""
HISTORY = "CREATE TEMPORARY TABLE paid_now AS SELECT id FROM instalments WHERE paid_on IS NOT NULL"
# The loans that pay on time (four in five) pay what fell due since the previous night.
PAY_DUE = """
CREATE TEMPORARY TABLE paid_now AS SELECT id FROM instalments
WHERE due_date >= :since AND due_date < :until AND loan_id % 5 <> 0 AND paid_on IS NULL;
UPDATE instalments SET paid_principal = principal, paid_profit = profit, paid_fee = fee,
  paid_on = due_date
WHERE id IN (SELECT id FROM paid_now)
"""
FLOOR = """
UPDATE loans SET days_past_due = n.dpd, aged_on = CAST(:as_of AS DATE), bucket = n.bucket,
  classification = n.class
FROM (
  SELECT o.id, o.dpd,
    CASE WHEN o.dpd >= 91 THEN '90+' WHEN o.dpd >= 61 THEN '61-90' WHEN o.dpd >= 31 THEN '31-60'
      WHEN o.dpd >= 1 THEN '1-30' ELSE 'current' END AS bucket,
    CASE WHEN o.dpd >= 180 THEN 'loss' WHEN o.dpd >= 90 THEN 'doubtful'
      WHEN o.dpd >= 30 THEN 'substandard' WHEN o.dpd >= 5 THEN 'watch' ELSE 'regular' END AS class
  FROM (
    SELECT l.id, COALESCE(CAST(:as_of AS DATE) - MIN(i.due_date), 0) AS dpd
    FROM loans l LEFT JOIN instalments i ON i.loan_id = l.id AND i.due_date < :as_of
      AND i.total - i.paid_principal - i.paid_profit - i.paid_fee > i.tolerance
    WHERE l.status = 'active' GROUP BY l.id) o) n
WHERE loans.id = n.id
  AND (loans.days_past_due <> n.dpd OR loans.bucket <> n.bucket OR loans.classification <> n.class)
"""
SNAPSHOT_FLOOR = """
INSERT INTO loan_snapshots (loan_id, days_past_due, bucket, outstanding_principal, as_of)
SELECT l.id, l.days_past_due, l.bucket, COALESCE(s.owed, 0), CAST(:as_of AS DATE)
FROM loans l LEFT JOIN (SELECT loan_id, SUM(principal - paid_principal) AS owed
  FROM instalments GROUP BY loan_id) s ON s.loan_id = l.id
WHERE l.status = 'active'
"""

STEP_TIMES = "SELECT job, duration_ms FROM job_runs WHERE job LIKE 'nightly.%' AND as_of = :d"


def night_dates(count: int) -> list[date]:
    """`count` consecutive dates ending on the 1st of a month (on the month end if only one)."""
    last = 1 if count > 1 else 0
    return [MONTH_END + timedelta(days=k) for k in range(last - count + 1, last + 1)]


def generate(url: str, n: int, first: date) -> None:
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
        # A bulk load: no foreign-key or append-only triggers per row (the rows are consistent
        # by construction, and the night's replay check holds them to their replay).
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        run_sql(conn, GENERATE, {"n": n, "as_of": first})
        script = SEQUENCE + ";\n" + HISTORY + ";\n" + PAY + ";\n" + LEDGER
        run_sql(conn, script + ";\nDROP TABLE paid_now", {})
        conn.execute(text("ANALYZE"))
    engine.dispose()


def run_sql(conn, script: str, params: dict) -> None:
    """Run a script of statements separated by ";" at the end of a line."""
    for statement in filter(str.strip, script.split(";\n")):
        conn.execute(text(statement), params)


def rss_mb() -> float:
    """Peak resident memory of this process so far, MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def floor_seconds(engine, day: date) -> float:
    """The floor's time for `day`, rolled back, and the loans vacuumed of its row versions."""
    with engine.connect() as conn:
        seconds = timed(lambda: conn.execute(text(FLOOR), {"as_of": day}))
        if is_month_end(day):
            seconds += timed(lambda: conn.execute(text(SNAPSHOT_FLOOR), {"as_of": day}))
        conn.rollback()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM loans, loan_snapshots"))
    return seconds


def run_night(engine, day: date, config: NightlyConfig, previous: date | None) -> dict:
    """Pay what fell due (and check it as the scheduler does through the day), time the
    floor, run the night at 01:00 Karachi; the night's figures."""
    day_check = None
    if previous is not None:
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            script = PAY_DUE + ";\n" + PAY + ";\n" + LEDGER + ";\nDROP TABLE paid_now"
            run_sql(conn, script, {"since": previous, "until": day})
        late = replace(config, clock=lambda: karachi(previous, 23))
        start = time.perf_counter()
        counts = replay_check(engine, late)
        day_check = {"seconds": time.perf_counter() - start, **counts}
    floor = floor_seconds(engine, day)
    start = time.perf_counter()
    [result] = run_nightly(engine, day, replace(config, clock=lambda: karachi(day, 1)))
    total = time.perf_counter() - start
    with engine.connect() as conn:
        steps = dict(
            conn.execute(
                text(STEP_TIMES),
                {"d": day},
            ).all()
        )
    return {
        "day": day,
        "total": total,
        "floor": floor,
        "result": result,
        "seconds": {job.split(".", 1)[1]: ms / 1000 for job, ms in steps.items()},
        "day_check": day_check,
    }


def karachi(day: date, hour: int) -> datetime:
    """`hour` o'clock in Karachi on `day`, as the scheduler's clock would say."""
    return datetime.combine(day, dtime(hour), tzinfo=ZoneInfo("Asia/Karachi"))


def print_night(n: int, kind: str, night: dict) -> None:
    day, seconds, check = night["day"], night["seconds"], night["day_check"]
    if check:
        print(
            f"  the day's replay check before it (the scheduler's, through the day): "
            f"{check['seconds']:.1f} s, loans {check['loans']}, mismatches {check['mismatches']}"
        )
    print(f"  night {day} ({kind}): {night['total']:.1f} s = {n / night['total']:,.0f} loans/s")
    for step, s in seconds.items():
        counts = ", ".join(f"{k} {v}" for k, v in night["result"][step].items())
        print(f"    {step:<15} {s:8.2f} s   {counts}")
    print(
        f"    ageing vs SQL floor: {seconds['ageing']:.2f} s / {night['floor']:.2f} s = "
        f"{seconds['ageing'] / night['floor']:.2f}x   (peak RSS {rss_mb():.0f} MB)"
    )


def bench(url: str, n: int, nights: int, workers: int) -> list[dict]:
    dates = night_dates(nights)
    print(
        f"nightly benchmark: {n:,} active loans x 12 instalments, PostgreSQL, "
        f"nights {dates[0]} to {dates[-1]}"
    )
    print(
        f"  generate the book: {timed(lambda: generate(url, n, dates[0])):.1f} s "
        f"(peak RSS {rss_mb():.0f} MB)"
    )
    engine = make_engine(url)
    config = NightlyConfig(workers=workers, database_url=url)
    done = []
    for k, day in enumerate(dates):
        night = run_night(engine, day, config, dates[k - 1] if k else None)
        kind = "first" if k == 0 else "month end" if is_month_end(day) else "steady"
        print_night(n, kind + (", month end" if k == 0 and is_month_end(day) else ""), night)
        done.append({**night, "kind": kind})
    trial_balance(engine, dates[-1])
    engine.dispose()
    return done


def trial_balance(engine, day: date) -> None:
    """The trial balance of the whole book as `lending ledger trial-balance` reads it (from
    the last night's balances plus what was posted since) and from every journal line, three
    runs each, interleaved."""
    from sqlmodel import Session

    from lending.services import ledger

    with engine.connect() as conn:
        lines = conn.execute(text("SELECT count(*) FROM journal_lines")).scalar()
    runs: dict[bool, list[float]] = {False: [], True: []}
    books = {}
    for _ in range(3):
        for scratch in (False, True):
            with Session(engine) as session:
                start = time.perf_counter()
                books[scratch] = ledger.trial_balance(session, day, from_scratch=scratch)
                runs[scratch].append(time.perf_counter() - start)
    same = books[False] == books[True]
    for scratch, label in ((False, "from the night's balances"), (True, "from every line")):
        print(
            f"  trial balance as of {day}, {label}: "
            f"{', '.join(f'{r:.3f}' for r in runs[scratch])} s ({lines:,} journal lines)"
        )
    debit, credit = books[False].debit, books[False].credit
    print(
        f"    debits {debit:,} = credits {credit:,}: "
        f"{'balanced' if books[False].balanced else 'NOT BALANCED'}; the two ways "
        f"{'agree' if same else 'DISAGREE'}"
    )


def summary(runs: dict[int, list[dict]]) -> None:
    print("summary (whole night s; ageing s / floor s = ratio):")
    for n, nights in runs.items():
        cells = "; ".join(
            f"{x['day']:%m-%d} {x['kind']} {x['total']:.1f} s, "
            f"{x['seconds']['ageing']:.2f}/{x['floor']:.2f} = "
            f"{x['seconds']['ageing'] / x['floor']:.2f}x"
            for x in nights
        )
        print(f"  {n:>9,}: {cells}")
    print(
        f"targets: 1,000,000 loans a night under 900 s; ageing within 3x of the floor; "
        f"peak RSS under 400 MB (this process: {rss_mb():.0f} MB)"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--loans", default="200000", help="book sizes, comma-separated")
    parser.add_argument("--million", action="store_true", help="the same as --loans 1000000")
    parser.add_argument("--nights", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    sizes = [1_000_000] if args.million else [int(s) for s in args.loans.split(",")]
    runs = {}
    for n in sizes:
        runs[n] = with_database(args.url, lambda url, n=n: bench(url, n, args.nights, args.workers))
    summary(runs)
    return 0


def with_database(admin_url: str, function):
    """Call `function(url)` with a throw-away database, dropped afterwards."""
    name = f"lending_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        return function(
            make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    sys.exit(main())
