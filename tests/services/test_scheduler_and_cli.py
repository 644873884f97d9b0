"""`lending nightly`, `lending outbox deliver`, `lending payments import`, the scheduler."""

import logging
import threading
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlmodel import func, select

from lending.db import get_engine
from lending.jobs.scheduler import build_scheduler, scheduler_lock
from lending.models import JobBatch, JobRun, Loan, PaymentReceipt


def run(app, *args):
    result = app.test_cli_runner().invoke(args=list(args))
    return result


def test_nightly_command_prints_counts_and_is_repeatable(app, session):
    from tests import factories as f

    f.LoanFactory()
    first = run(app, "nightly", "--as-of", "2026-03-10")
    assert first.exit_code == 0, first.output
    assert "nightly 2026-03-10" in first.output and "ageing          loans 1" in first.output
    again = run(app, "nightly", "--as-of", "2026-03-10")
    assert again.exit_code == 0
    assert session.exec(select(func.count()).select_from(JobRun).where(
        JobRun.job == "nightly")).one() == 2


def test_nightly_refuses_a_date_before_the_last_night_with_exit_2_unless_replayed(app, session):
    from tests import factories as f

    loan = f.LoanFactory()
    f.InstalmentFactory(loan_id=loan.id, n=1)  # due 2026-02-05, unpaid
    assert run(app, "nightly", "--as-of", "2026-03-10").exit_code == 0
    refused = run(app, "nightly", "--as-of", "2026-03-01")
    assert refused.exit_code == 2, refused.output
    assert "refused" in refused.output and "--replay" in refused.output
    session.expire_all()
    assert session.get(Loan, loan.id).days_past_due == 33  # 10 March's, not 1 March's
    replay = run(app, "nightly", "--as-of", "2026-03-09", "--replay")
    assert replay.exit_code == 0, replay.output
    assert "nightly 2026-03-09 (replay)" in replay.output
    assert "nightly 2026-03-10 (replay)" in replay.output and "reminders" not in replay.output
    session.expire_all()
    assert session.get(Loan, loan.id).days_past_due == 33


def test_the_schedulers_night_runs_today_and_is_refused_quietly_after_a_later_night(
    app, session, database_url, monkeypatch, caplog
):
    from lending.jobs.scheduler import nightly_job
    from lending.services.nightly.runner import NightlyConfig, run_nightly

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("LENDING_ENV", "testing")
    today = datetime.now(ZoneInfo("Asia/Karachi")).date()
    nightly_job()
    ran = select(JobRun.as_of).where(JobRun.job == "nightly", JobRun.status == "succeeded")
    assert session.exec(ran).all() == [today]
    run_nightly(get_engine(app), today + timedelta(days=3), NightlyConfig())
    caplog.set_level(logging.WARNING)
    nightly_job()  # refused, logged; the scheduler goes on
    assert session.exec(ran.order_by(JobRun.id)).all() == [
        today, today + timedelta(days=1), today + timedelta(days=2), today + timedelta(days=3)]
    assert "refused" in caplog.text


def test_payments_import_reports_rows(app, session, tmp_path):
    from tests import factories as f

    loan = f.LoanFactory()
    path = tmp_path / "settlement.csv"
    path.write_text("loan_id,amount,paid_at,channel,reference\n"
                    f"{loan.id},4145.00,2026-02-05T10:00:00+05:00,easypaisa,EP1\n"
                    f"{loan.id},4145.00,2026-02-05T10:00:00+05:00,easypaisa,EP1\n"
                    f"{loan.id},-3,2026-02-05T10:00:00+05:00,easypaisa,EP2\n"
                    f"999,10,2026-02-05T10:00:00+05:00,raast,R9\n")
    result = run(app, "payments", "import", str(path))
    assert result.exit_code == 1
    assert "4 rows: 1 received, 1 already known, 2 rejected" in result.output
    assert "line 4: amount:" in result.output and "line 5: loan_id: no loan 999." in result.output
    assert session.exec(select(func.count()).select_from(PaymentReceipt)).one() == 1


def test_outbox_deliver_command(app, session):
    result = run(app, "outbox", "deliver")
    assert result.exit_code == 0 and result.output.startswith("outbox: sent 0")


def test_scheduler_persists_its_jobs_in_the_database(app, session):
    scheduler = build_scheduler(get_engine(app), "Asia/Karachi", 5, blocking=False)
    scheduler.start(paused=True)
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert set(jobs) == {"nightly", "outbox", "replay_check"}
        assert jobs["nightly"].trigger.fields[5].expressions[0].first == 1  # hour 01
        assert jobs["replay_check"].trigger.interval == timedelta(minutes=5)
        rows = session.exec(text("SELECT id FROM apscheduler_jobs ORDER BY id")).all()
        assert [r[0] for r in rows] == ["nightly", "outbox", "replay_check"]
    finally:
        scheduler.shutdown()


def test_a_second_scheduler_waits_for_the_first(app, backend):
    if backend != "postgresql":
        pytest.skip("the advisory lock is PostgreSQL's")
    engine = get_engine(app)
    events: list[str] = []
    release = threading.Event()

    def first():
        with scheduler_lock(engine, say=events.append):
            events.append("first holds the lock")
            release.wait(5)
        events.append("first let go")

    def second():
        time.sleep(0.2)
        with scheduler_lock(engine, poll_seconds=0.05, say=events.append):
            events.append("second holds the lock")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    time.sleep(0.6)
    assert "second holds the lock" not in events  # it is waiting
    release.set()
    for t in threads:
        t.join(10)
    assert events == ["first holds the lock",
                      "another scheduler is running; waiting for its lock",
                      "first let go", "second holds the lock"]


def test_workers_split_the_ageing_with_skip_locked(app, session, backend):
    if backend != "postgresql":
        pytest.skip("several workers are for PostgreSQL")
    from lending.services.nightly.ageing import age_parallel
    from tests import factories as f

    for _ in range(5):
        f.InstalmentFactory(loan_id=f.LoanFactory().id, n=1)  # due 2026-02-05, unpaid
    f.LoanFactory()  # current: nothing to write
    engine, url = get_engine(app), app.config["DATABASE_URL"]
    counts = age_parallel(engine, date(2026, 3, 31), url, 2)
    assert counts == {"loans": 6, "changed": 5, "overdue": 5, "snapshots": 6, "workers": 2}
    session.expire_all()
    assert sorted(loan.days_past_due for loan in session.exec(select(Loan))) == [0] + [54] * 5
    assert all(b.done for b in session.exec(select(JobBatch)))
    again = age_parallel(engine, date(2026, 3, 31), url, 2)
    assert (again["changed"], again["overdue"], again["snapshots"]) == (0, 5, 6)
