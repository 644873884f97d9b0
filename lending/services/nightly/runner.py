"""Run the nightly steps for a date, each recorded as a job run; catch up missed dates.

Nights only go forward. A night for a date before the last completed night is refused
(`NightRefused`), unless it is a replay: the state steps (reconcile, ageing, late fees) again
for each date from it to the last completed night, recorded as `nightly.replay` runs, sending
nothing, and ending with the book aged as of the last completed night.
"""

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select, text, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from lending.errors import NightRefused
from lending.models import JobRun
from lending.models.enums import JobStatus
from lending.services import ledger
from lending.services.nightly import (
    accrual,
    ageing,
    closing,
    late_fees,
    provisions,
    reconcile,
    reminders,
    signals,
    verify,
)
from lending.services.nightly.batches import worker_pool

try:  # POSIX; elsewhere a SQLite night takes no lock (see `night_lock`)
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

NIGHTLY = "nightly"
REPLAY = "nightly.replay"
STEPS = (
    "reconcile",
    "ageing",
    "late_fees",
    "reminders",
    "device_signals",
    "close",
    "accrual",
    "provisions",
    "verify",
    "ledger",
)
# What a replay runs: the state of each past date. Reminders and device signals reach people
# and phones and are never sent for the past; closing waits for the next forward night.
REPLAY_STEPS = ("reconcile", "ageing", "late_fees", "verify", "ledger")
NIGHT_LOCK_KEY = 7_404_312_027  # PostgreSQL advisory lock of a running night (not the scheduler's)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NightlyConfig:
    """What the steps need besides the engine and the date."""

    timezone: str = "Asia/Karachi"
    device_webhook_url: str = ""
    workers: int = 1  # ageing and replay-check processes; more than one on PostgreSQL only
    database_url: str = ""
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))  # the job's clock


@dataclass(frozen=True)
class Night:
    """One date's run: `nightly` or `nightly.replay`, and the id of its job run."""

    job: str
    day: date
    run_id: int


def step_functions(config: NightlyConfig, replay: bool = False) -> dict[str, Callable]:
    """Each step as a function of (engine, as_of, progress); a replay's state steps only."""
    snapshots = not replay  # month-end snapshots record what a night saw; a replay keeps them

    def forward() -> datetime | None:
        return None if replay else config.clock()

    steps = {
        "reconcile": lambda e, d, p: reconcile.reconcile(e, d, config.timezone),
        # A forward night's ageing reads only the loans that can have changed since the last
        # (recording its clock); a replay's ages the whole book as of each past date.
        "ageing": lambda e, d, p: (
            ageing.age_parallel(e, d, config.database_url, config.workers, snapshots, forward())
            if config.workers > 1 and e.dialect.name == "postgresql"
            else ageing.age(e, d, p, snapshots, forward())
        ),
        "late_fees": lambda e, d, p: late_fees.charge(e, d, p, now=config.clock()),
        "reminders": lambda e, d, p: reminders.remind(e, d),
        "device_signals": lambda e, d, p: signals.signal(e, d, config.device_webhook_url),
        "close": lambda e, d, p: closing.close_paid(e, d),
        # On the accrual basis: the profit due by tonight, suspended on non-performing loans.
        "accrual": lambda e, d, p: accrual.accrue(e, d, config.clock()),
        # What the regulator profile requires against the book as classified tonight.
        "provisions": lambda e, d, p: provisions.provide(e, d, config.clock()),
        "verify": lambda e, d, p: verify.nightly(
            e, d, p, config.clock(), verify.Parallel(config.workers, config.database_url)
        ),
        # Each control account against its sub-ledger (a difference fails the step), then the
        # balances the trial balance starts from.
        "ledger": lambda e, d, p: ledger.close_night(e, d, config.clock()),
    }
    return {name: steps[name] for name in (REPLAY_STEPS if replay else STEPS)}


def last_completed(engine: Engine) -> date | None:
    """The date of the last night that succeeded (replays are not nights)."""
    with Session(engine) as session:
        return session.execute(
            select(func.max(JobRun.as_of)).where(
                JobRun.job == NIGHTLY, JobRun.status == JobStatus.SUCCEEDED
            )
        ).scalar_one()


def dates_to_run(engine: Engine, as_of: date, replay: bool = False) -> list[date]:
    """The dates a night for `as_of` runs, in order; `NightRefused` if it would go back.

    Forward: `as_of`, preceded by every date missed since the last completed night (the last
    night's own date may run again). Replay: `as_of` to the last completed night.
    """
    last = last_completed(engine)
    if replay:
        if last is None or as_of > last:
            raise NightRefused(
                f"Nothing to replay: no completed night on or after {as_of} (the last is "
                f"{last or 'none yet'}); run the night for {as_of} without replay."
            )
        return _days(as_of, last)
    if last is not None and as_of < last:
        raise NightRefused(
            f"The last completed night is {last}: a night for {as_of} would move the book "
            f"back. Replay to recompute {as_of} to {last} (`--replay`), or run {last} or later."
        )
    return [as_of] if last is None or last == as_of else _days(last + timedelta(days=1), as_of)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def run_nightly(
    engine: Engine, as_of: date, config: NightlyConfig, report=None, replay: bool = False
) -> list[dict]:
    """Run the night (or the replay) for `as_of`; return the counts per date and step.

    The whole run holds the night lock: a second night waits for it, and is planned, refused
    or cleaned up only once the first has ended.
    """
    with night_lock(engine):
        days = dates_to_run(engine, as_of, replay)
        fail_stale_runs(engine, as_of)
        if replay:
            return replay_nights(engine, days, config, report)
        steps = step_functions(config)
        with worker_pool(_pool_size(engine, config)):
            return [run_night(engine, NIGHTLY, day, steps, report) for day in days]


def _pool_size(engine: Engine, config: NightlyConfig) -> int:
    """Worker processes for the night's parallel steps: PostgreSQL only."""
    return config.workers if engine.dialect.name == "postgresql" else 1


def replay_nights(engine: Engine, days: list[date], config: NightlyConfig, report) -> list[dict]:
    """Replay each date in order; if one fails, age the book again as of the last date."""
    steps = step_functions(config, replay=True)
    results = []
    try:
        for day in days:
            results.append(run_night(engine, REPLAY, day, steps, report))
    except Exception:
        # Never leave the book aged as of a past date: put the last night's ageing back (its
        # own replay run). A process killed here leaves it to the next night, which ages anew.
        try:
            run_night(engine, REPLAY, days[-1], {"ageing": steps["ageing"]}, report)
        except Exception:
            log.exception("replay: could not age the book again as of %s", days[-1])
        raise
    return results


def run_night(engine: Engine, job: str, day: date, steps: dict, report=None) -> dict:
    """Run the steps for one date under one job run of `job`; the counts per step."""
    started = time.perf_counter()
    night = Night(job, day, _start(engine, job, day))
    counts = {
        name: run_step(engine, night, name, function, report) for name, function in steps.items()
    }
    _finish(engine, night.run_id, counts, started)
    return {"as_of": day.isoformat(), "job": job, **counts}


def run_step(engine: Engine, night: Night, name: str, function: Callable, report=None) -> dict:
    """Run one step as its own job run: counts and duration on success, the error on failure."""
    started = time.perf_counter()
    run = _start(engine, f"{night.job}.{name}", night.day)
    progress = report(name) if report else None
    try:
        counts = function(engine, night.day, progress)
    except Exception as exc:
        _finish(engine, run, {}, started, error=f"{type(exc).__name__}: {exc}")
        _finish(engine, night.run_id, {}, started, error=f"step {name} failed")
        raise
    _finish(engine, run, counts, started)
    return counts


def run_job(engine: Engine, job: str, day: date, function: Callable[[], dict]) -> dict:
    """Run a job outside the night (the day's replay check) as a job run of its own."""
    started = time.perf_counter()
    run = _start(engine, job, day)
    try:
        counts = function()
    except Exception as exc:
        _finish(engine, run, {}, started, error=f"{type(exc).__name__}: {exc}")
        raise
    _finish(engine, run, counts, started)
    return counts


def replay_check(engine: Engine, config: NightlyConfig) -> dict:
    """The day's replay check for the business date of the job's clock (`verify`)."""
    now = config.clock()
    today = now.astimezone(ZoneInfo(config.timezone)).date()
    parallel = verify.Parallel(config.workers, config.database_url)
    return run_job(
        engine, "replay_check", today, lambda: verify.during_the_day(engine, today, now, parallel)
    )


def fail_stale_runs(engine: Engine, as_of: date) -> int:
    """Mark failed the nightly job runs that a killed process left `running`; how many.

    "The next start of a night" is the moment a night holds the night lock, before its first
    job run. Every night holds that lock from before its first job run to after its last, and
    the lock dies with its process (the server ends a dead client's session; the kernel drops
    a dead process's file lock), so what the holder finds `running` belongs to no live night.
    A second night that starts meanwhile waits for the lock, and never fails a live run.
    """
    mine = or_(JobRun.job == NIGHTLY, JobRun.job.like(f"{NIGHTLY}.%"))
    found = datetime.now(UTC)
    error = (
        f"left running by a process that ended without finishing it (killed, or its database "
        f"connection lost); found by the night for {as_of} at {found:%Y-%m-%d %H:%M:%S} UTC"
    )
    with Session(engine) as session, session.begin():
        result = session.connection().execute(
            update(JobRun)
            .where(mine, JobRun.status == JobStatus.RUNNING)
            .values(status=JobStatus.FAILED, error=error)
        )
    if result.rowcount:
        log.warning("marked %d job runs failed: %s", result.rowcount, error)
    return result.rowcount


@contextmanager
def night_lock(engine: Engine) -> Iterator[None]:
    """Hold the lock of a running night for the block; wait while another process holds it.

    PostgreSQL: a session advisory lock on a connection of its own. SQLite: an exclusive
    `flock` on a file beside the database (SQLite runs on one machine); without fcntl, or for
    a database in memory, no lock: one process at a time.
    """
    if engine.dialect.name == "postgresql":
        with _advisory_lock(engine):
            yield
        return
    database = engine.url.database
    if fcntl is None or not database or database == ":memory:":
        yield
        return
    with open(f"{database}.night-lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.warning("another night is running; waiting for it to end")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _advisory_lock(engine: Engine) -> Iterator[None]:
    key = {"k": NIGHT_LOCK_KEY}
    with engine.connect() as connection:
        if not connection.execute(text("SELECT pg_try_advisory_lock(:k)"), key).scalar():
            log.warning("another night is running; waiting for it to end")
            connection.execute(text("SELECT pg_advisory_lock(:k)"), key)
        connection.commit()
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:k)"), key)
            connection.commit()


def _start(engine: Engine, job: str, day: date) -> int:
    with Session(engine) as session, session.begin():
        run = JobRun(job=job, as_of=day, status=JobStatus.RUNNING)
        session.add(run)
        session.flush()
        return run.id


def _finish(engine, run_id: int, counts: dict, started: float, error: str = "") -> None:
    with Session(engine) as session, session.begin():
        run = session.get(JobRun, run_id)
        run.status = JobStatus.FAILED if error else JobStatus.SUCCEEDED
        run.counts, run.error = counts, error[:2000]
        run.finished_at = datetime.now(UTC)
        run.duration_ms = int((time.perf_counter() - started) * 1000)
