"""Run the nightly steps for a date, each recorded as a job run; catch up missed dates."""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from lending.models import JobRun
from lending.models.enums import JobStatus
from lending.services.nightly import ageing, closing, late_fees, reconcile, reminders, signals

NIGHTLY = "nightly"
STEPS = ("reconcile", "ageing", "late_fees", "reminders", "device_signals", "close")


@dataclass(frozen=True)
class NightlyConfig:
    """What the steps need besides the engine and the date."""

    timezone: str = "Asia/Karachi"
    device_webhook_url: str = ""
    workers: int = 1  # ageing processes; more than one on PostgreSQL only
    database_url: str = ""


def step_functions(config: NightlyConfig) -> dict[str, Callable]:
    """Each step as a function of (engine, as_of, progress)."""
    return {
        "reconcile": lambda e, d, p: reconcile.reconcile(e, d, config.timezone),
        "ageing": lambda e, d, p: (
            ageing.age_parallel(e, d, config.database_url, config.workers)
            if config.workers > 1 and e.dialect.name == "postgresql"
            else ageing.age(e, d, p)
        ),
        "late_fees": lambda e, d, p: late_fees.charge(e, d, p),
        "reminders": lambda e, d, p: reminders.remind(e, d),
        "device_signals": lambda e, d, p: signals.signal(e, d, config.device_webhook_url),
        "close": lambda e, d, p: closing.close_paid(e, d),
    }


def dates_to_run(engine: Engine, as_of: date) -> list[date]:
    """`as_of`, preceded by every date missed since the last completed night."""
    with Session(engine) as session:
        last = session.execute(
            select(func.max(JobRun.as_of)).where(
                JobRun.job == NIGHTLY, JobRun.status == JobStatus.SUCCEEDED
            )
        ).scalar_one()
    if last is None or last >= as_of:
        return [as_of]
    return [last + timedelta(days=n) for n in range(1, (as_of - last).days + 1)]


def run_nightly(engine: Engine, as_of: date, config: NightlyConfig, report=None) -> list[dict]:
    """Run every step for each date to run, in order; return the counts per date and step."""
    results = []
    for day in dates_to_run(engine, as_of):
        started = time.perf_counter()
        run = _start(engine, NIGHTLY, day)
        counts = {}
        for name, function in step_functions(config).items():
            counts[name] = run_step(engine, name, day, function, report)
        _finish(engine, run, counts, started)
        results.append({"as_of": day.isoformat(), **counts})
    return results


def run_step(engine: Engine, name: str, day: date, function: Callable, report=None) -> dict:
    """Run one step as its own job run: counts and duration on success, the error on failure."""
    started = time.perf_counter()
    run = _start(engine, f"{NIGHTLY}.{name}", day)
    progress = report(name) if report else None
    try:
        counts = function(engine, day, progress)
    except Exception as exc:
        _finish(engine, run, {}, started, error=f"{type(exc).__name__}: {exc}")
        _finish(engine, _open_run(engine, day), {}, started, error=f"step {name} failed")
        raise
    _finish(engine, run, counts, started)
    return counts


def _start(engine: Engine, job: str, day: date) -> int:
    with Session(engine) as session, session.begin():
        run = JobRun(job=job, as_of=day, status=JobStatus.RUNNING)
        session.add(run)
        session.flush()
        return run.id


def _open_run(engine: Engine, day: date) -> int:
    with Session(engine) as session:
        return session.execute(
            select(func.max(JobRun.id)).where(JobRun.job == NIGHTLY, JobRun.as_of == day)
        ).scalar_one()


def _finish(engine, run_id: int, counts: dict, started: float, error: str = "") -> None:
    with Session(engine) as session, session.begin():
        run = session.get(JobRun, run_id)
        run.status = JobStatus.FAILED if error else JobStatus.SUCCEEDED
        run.counts, run.error = counts, error[:2000]
        run.finished_at = datetime.now(UTC)
        run.duration_ms = int((time.perf_counter() - started) * 1000)
