"""`lending scheduler`: APScheduler runs the night at 01:00 Asia/Karachi, and the outbox and
the replay check of the loans touched since the last one every few minutes.

Started only by this command, never at import or inside web workers. Jobs are persisted in the
database (table apscheduler_jobs, made by a migration) and coalesce missed runs; the nightly run
itself catches up every missed date. On PostgreSQL a session advisory lock makes a second
scheduler wait instead of running the night twice; a night itself holds another lock while it
runs (`runner.night_lock`), so a night started by hand meanwhile waits for it.
"""

import logging
import time as clock
from contextlib import contextmanager
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from lending.db import get_engine

LOCK_KEY = 7_404_312_026  # any constant shared by every scheduler of this database
JOBS_TABLE = "apscheduler_jobs"


@contextmanager
def scheduler_lock(engine: Engine, poll_seconds: float = 5.0, say=click.echo):
    """Hold the scheduler's advisory lock (PostgreSQL) for the life of the block; wait for it."""
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as connection:
        told = False
        while not connection.execute(
            text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY}
        ).scalar():
            if not told:
                say("another scheduler is running; waiting for its lock")
                told = True
            connection.commit()
            clock.sleep(poll_seconds)
        connection.commit()
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
            connection.commit()


def build_scheduler(engine: Engine, timezone: str, outbox_minutes: int, blocking: bool = True):
    """The scheduler with its two jobs, stored in the database."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    kind = BlockingScheduler if blocking else BackgroundScheduler
    zone = ZoneInfo(timezone)
    scheduler = kind(
        # Its own engine, unpooled: the store disposes of its engine when it shuts down, and a
        # pooled connection it still held would be dropped unclosed.
        jobstores={
            "default": SQLAlchemyJobStore(
                engine=create_engine(
                    engine.url.render_as_string(hide_password=False), poolclass=NullPool
                ),
                tablename=JOBS_TABLE,
            )
        },
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 6 * 3600},
        timezone=zone,
    )
    scheduler.add_job(
        "lending.jobs.scheduler:nightly_job",
        CronTrigger(hour=1, timezone=zone),
        id="nightly",
        replace_existing=True,
    )
    scheduler.add_job(
        "lending.jobs.scheduler:outbox_job",
        IntervalTrigger(minutes=outbox_minutes),
        id="outbox",
        replace_existing=True,
    )
    scheduler.add_job(
        "lending.jobs.scheduler:replay_check_job",
        IntervalTrigger(minutes=outbox_minutes),
        id="replay_check",
        replace_existing=True,
    )
    return scheduler


def nightly_job() -> None:
    """Run the night for today's business date (and any missed before it).

    A night already run by hand for a later date makes today's refused: logged, not raised.
    """
    from lending import create_app
    from lending.errors import NightRefused
    from lending.jobs.nightly import nightly_config
    from lending.services.nightly.runner import run_nightly

    app = create_app()
    with app.app_context():
        settings = app.extensions["lending.settings"]
        today = datetime.now(ZoneInfo(settings.timezone)).date()
        try:
            run_nightly(get_engine(app), today, nightly_config(settings))
        except NightRefused as exc:
            logging.getLogger(__name__).warning("nightly for %s refused: %s", today, exc.message)
        finally:
            get_engine(app).dispose()  # each run makes its own app; leave no pool behind


def outbox_job() -> None:
    """Deliver what is due in the outbox."""
    from lending import create_app
    from lending.jobs.nightly import delivery_config
    from lending.services.outbox import deliver

    app = create_app()
    with app.app_context():
        deliver(
            get_engine(app),
            now=datetime.now(UTC),
            config=delivery_config(app.extensions["lending.settings"]),
        )


def replay_check_job() -> None:
    """Replay the loans touched by an input since the last check (`verify.during_the_day`)."""
    from lending import create_app
    from lending.jobs.nightly import nightly_config
    from lending.services.nightly.runner import replay_check

    app = create_app()
    with app.app_context():
        try:
            replay_check(get_engine(app), nightly_config(app.extensions["lending.settings"]))
        finally:
            get_engine(app).dispose()


@click.command("scheduler")
@click.option("--outbox-minutes", default=5, show_default=True)
@with_appcontext
def scheduler(outbox_minutes: int) -> None:
    """Run the scheduler process: the night at 01:00; the outbox and the replay check of the
    loans payments touched every few minutes."""
    engine = get_engine()
    settings = current_app.extensions["lending.settings"]
    with scheduler_lock(engine):
        click.echo(
            f"scheduler running (nightly 01:00 {settings.timezone}, outbox and replay check "
            f"every {outbox_minutes} min)"
        )
        build_scheduler(engine, settings.timezone, outbox_minutes).start()
