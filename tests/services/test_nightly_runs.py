"""Nights only go forward; a replay of past dates recomputes state and sends nothing; the job
runs a killed process left running are marked failed by the next night, never a live one's."""

import threading
import time
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import update
from sqlmodel import func, select

from lending.db import get_engine
from lending.errors import Conflict
from lending.models import JobRun, Loan, OutboxMessage, PaymentReceipt
from lending.models.enums import JobStatus
from lending.services.nightly import late_fees, reminders, runner, signals
from lending.services.nightly.runner import NightlyConfig, run_nightly
from lending.services.receipts import import_receipts
from tests import factories as f

CONFIG = NightlyConfig(device_webhook_url="http://127.0.0.1:9/devices")
MARCH_10 = date(2026, 3, 10)  # 33 days after the first instalments fell due, on 2026-02-05


@pytest.fixture
def book(session) -> list[int]:
    """Two loans, each with instalments due 2026-02-05 and 2026-03-05, unpaid."""
    ids = []
    for _ in range(2):
        loan = f.LoanFactory()
        f.InstalmentFactory(loan_id=loan.id, n=1)
        f.InstalmentFactory(loan_id=loan.id, n=2, due_date=date(2026, 3, 5))
        ids.append(loan.id)
    return ids


def night(app, day: date, **kwargs):
    return run_nightly(get_engine(app), day, CONFIG, **kwargs)


def days_past_due(session) -> list[int]:
    session.expire_all()
    return list(session.exec(select(Loan.days_past_due).order_by(Loan.id)))


def runs(session, *where) -> list[tuple]:
    session.expire_all()
    return [
        tuple(r)
        for r in session.exec(
            select(JobRun.job, JobRun.as_of, JobRun.status).where(*where).order_by(JobRun.id)
        )
    ]


def test_a_night_before_the_last_completed_night_is_refused_and_writes_nothing(app, session, book):
    night(app, MARCH_10)
    assert days_past_due(session) == [33, 33]
    before = runs(session)
    with pytest.raises(Conflict) as refused:
        night(app, date(2026, 3, 1))
    assert type(refused.value).__name__ == "NightRefused"
    assert "2026-03-10" in refused.value.message and "replay" in refused.value.message
    assert days_past_due(session) == [33, 33]  # not rewound
    assert runs(session) == before  # not even a job run
    night(app, MARCH_10)  # the same date as the last completed night: safe to run again
    assert len(runs(session, JobRun.job == "nightly")) == 2


def test_a_replay_recomputes_state_sends_nothing_and_ends_aged_as_of_the_last_night(
    app, session, book, monkeypatch
):
    night(app, date(2026, 3, 8))
    night(app, MARCH_10)  # catches up 9 March
    # A settlement file that arrived late: a payment of 9 March, for the first loan.
    report = import_receipts(
        session,
        "loan_id,amount,paid_at,channel,reference\n"
        f"{book[0]},100.00,2026-03-09T10:00:00+05:00,jazzcash,LATE1\n",
    )
    assert report.added == 1
    session.execute(update(Loan).where(Loan.id == book[1]).values(days_past_due=99))
    session.commit()
    outbox = session.exec(select(func.count()).select_from(OutboxMessage)).one()

    def outward(*_args, **_kwargs):
        raise AssertionError("a replay sends no reminder and no device signal")

    monkeypatch.setattr(reminders, "remind", outward)
    monkeypatch.setattr(signals, "signal", outward)
    results = night(app, date(2026, 3, 9), replay=True)
    assert [(r["as_of"], r["job"]) for r in results] == [
        ("2026-03-09", "nightly.replay"),
        ("2026-03-10", "nightly.replay"),
    ]
    assert set(results[0]) == {
        "as_of",
        "job",
        "reconcile",
        "ageing",
        "late_fees",
        "verify",
        "ledger",
    }
    assert results[0]["reconcile"]["posted"] == 1
    assert session.exec(select(PaymentReceipt.status)).one() == "posted"
    assert runs(session, JobRun.as_of == MARCH_10, JobRun.job.like("nightly.replay%")) == [
        ("nightly.replay", MARCH_10, "succeeded"),
        ("nightly.replay.reconcile", MARCH_10, "succeeded"),
        ("nightly.replay.ageing", MARCH_10, "succeeded"),
        ("nightly.replay.late_fees", MARCH_10, "succeeded"),
        ("nightly.replay.verify", MARCH_10, "succeeded"),
        ("nightly.replay.ledger", MARCH_10, "succeeded"),
    ]
    assert days_past_due(session) == [33, 33]  # as of 10 March, the last completed night
    assert session.exec(select(func.count()).select_from(OutboxMessage)).one() == outbox
    monkeypatch.undo()
    assert [r["as_of"] for r in night(app, date(2026, 3, 11))] == ["2026-03-11"]


def test_only_a_past_range_is_replayed(app, session, book):
    with pytest.raises(Conflict):
        night(app, MARCH_10, replay=True)  # no completed night yet
    night(app, MARCH_10)
    with pytest.raises(Conflict):
        night(app, date(2026, 3, 11), replay=True)  # after the last night: run it forward
    assert [r["job"] for r in night(app, MARCH_10, replay=True)] == ["nightly.replay"]
    assert runs(session, JobRun.job == "nightly") == [("nightly", MARCH_10, "succeeded")]


def test_a_replay_that_fails_midway_leaves_the_book_aged_as_of_the_last_night(
    app, session, book, monkeypatch
):
    night(app, MARCH_10)

    def fails(*_args, **_kwargs):
        raise RuntimeError("late fees broke")

    monkeypatch.setattr(late_fees, "charge", fails)
    with pytest.raises(RuntimeError):
        night(app, date(2026, 2, 20), replay=True)  # ages as of 20 February, then fails
    assert days_past_due(session) == [33, 33]
    assert runs(session, JobRun.job == "nightly.replay") == [
        ("nightly.replay", date(2026, 2, 20), "failed"),
        ("nightly.replay", MARCH_10, "succeeded"),
    ]  # the ageing put back


def test_runs_a_killed_process_left_running_are_failed_by_the_next_night(app, session, book):
    night(app, MARCH_10)
    for job in ("nightly", "nightly.late_fees", "outbox"):
        session.add(JobRun(job=job, as_of=MARCH_10, status=JobStatus.RUNNING))
    session.commit()
    night(app, MARCH_10)
    session.expire_all()
    stale = session.exec(
        select(JobRun).where(JobRun.finished_at.is_(None), JobRun.job != "outbox")
    ).all()
    assert [(r.job, r.status) for r in stale] == [
        ("nightly", "failed"),
        ("nightly.late_fees", "failed"),
    ]
    assert all("left running" in r.error for r in stale)
    assert runs(session, JobRun.job == "outbox") == [("outbox", MARCH_10, "running")]  # not ours
    session.add(JobRun(job="nightly.ageing", as_of=MARCH_10, status=JobStatus.RUNNING))
    session.commit()
    with pytest.raises(Conflict):
        night(app, date(2026, 3, 1))  # a refused night writes nothing, this included
    assert runs(session, JobRun.job == "nightly.ageing", JobRun.status == "running") == [
        ("nightly.ageing", MARCH_10, "running")
    ]


def test_a_live_nights_runs_are_not_failed_by_a_second_night_which_waits(app, session, book):
    engine = get_engine(app)
    done: list[str] = []
    with runner.night_lock(engine):  # a live night: it holds the lock and a running run
        live = JobRun(job="nightly", as_of=MARCH_10, status=JobStatus.RUNNING)
        session.add(live)
        session.commit()
        second = threading.Thread(target=lambda: done.append(night(app, MARCH_10)[0]["as_of"]))
        second.start()
        time.sleep(1.0)
        assert second.is_alive() and not done  # waiting for the lock
        assert runs(session) == [("nightly", MARCH_10, "running")]  # untouched, nothing added
        live.status, live.finished_at = JobStatus.SUCCEEDED, datetime.now(UTC)
        session.commit()
    second.join(30)
    assert done == ["2026-03-10"]
    assert runs(session, JobRun.job == "nightly") == [
        ("nightly", MARCH_10, "succeeded"),
        ("nightly", MARCH_10, "succeeded"),
    ]
