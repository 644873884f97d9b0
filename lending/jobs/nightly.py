"""`lending nightly`, `lending outbox deliver`, `lending payments import`: thin commands."""

import sys
from datetime import UTC, datetime, time

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from lending.db import get_engine


def delivery_config(settings):
    """The outbox's delivery settings from the app's settings."""
    from lending.services.outbox import Delivery

    start, _, end = settings.quiet_hours.partition("-")
    return Delivery(
        smtp_url=settings.smtp_url,
        mail_from=settings.mail_from,
        sms_gateway_url=settings.sms_gateway_url,
        device_webhook_url=settings.device_webhook_url,
        device_webhook_secret=settings.device_webhook_secret,
        timezone=settings.timezone,
        quiet_start=time.fromisoformat(start.strip()),
        quiet_end=time.fromisoformat(end.strip()),
    )


def nightly_config(settings):
    """The nightly run's settings from the app's settings."""
    from lending.services.nightly.runner import NightlyConfig

    return NightlyConfig(timezone=settings.timezone, device_webhook_url=settings.device_webhook_url)


class Progress:
    """A click progress bar per batched step, on a terminal only, measured in loan ids."""

    def __init__(self, last_id: int):
        self.last_id = last_id
        self.bar = None

    def finish(self) -> None:
        """Fill and close the current bar (the step is done)."""
        if self.bar is not None:
            self.bar.update(self.bar.length - self.bar.pos)
            self.bar.render_finish()
            self.bar = None

    def __call__(self, step: str):
        self.finish()
        if not sys.stdout.isatty() or not self.last_id:
            return None
        self.bar = click.progressbar(length=self.last_id, label=f"{step:<15}")
        self.bar.render_progress()
        done = {"id": 0}

        def advance(last_id: int) -> None:
            self.bar.update(last_id - done["id"])
            done["id"] = last_id

        return advance


def last_loan_id(engine) -> int:
    """The highest loan id: the length of a progress bar over the book."""
    from sqlalchemy import func, select
    from sqlmodel import Session

    from lending.models import Loan

    with Session(engine) as session:
        return session.execute(select(func.max(Loan.id))).scalar_one() or 0


@click.command("nightly")
@click.option(
    "--as-of",
    "as_of",
    required=True,
    type=click.DateTime(["%Y-%m-%d"]),
    help="The business date (Asia/Karachi) to run for.",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    help="Processes for the ageing step (PostgreSQL: FOR UPDATE SKIP LOCKED).",
)
@click.option(
    "--replay",
    is_flag=True,
    help="Recompute the state steps from --as-of to the last completed night; send nothing.",
)
@with_appcontext
def nightly(as_of: datetime, workers: int, replay: bool) -> None:
    """Run every nightly step for a date (and any dates missed before it), safely repeatable.

    A date before the last completed night is refused (exit 2) unless --replay is given.
    """
    from lending.errors import NightRefused
    from lending.services.nightly.runner import REPLAY, run_nightly

    settings = current_app.extensions["lending.settings"]
    config = nightly_config(settings)
    if workers > 1:
        from dataclasses import replace

        config = replace(config, workers=workers, database_url=settings.database_url)
    progress = Progress(last_loan_id(get_engine()))
    try:
        results = run_nightly(get_engine(), as_of.date(), config, report=progress, replay=replay)
    except NightRefused as exc:
        click.echo(f"refused: {exc.message}", err=True)
        raise SystemExit(2) from None
    finally:
        progress.finish()
    for result in results:
        day, job = result.pop("as_of"), result.pop("job")
        click.echo(f"nightly {day}" + (" (replay)" if job == REPLAY else ""))
        for step, counts in result.items():
            click.echo(f"  {step:<15} " + ", ".join(f"{k} {v}" for k, v in counts.items()))


outbox_group = AppGroup("outbox", help="The message outbox.")


@outbox_group.command("deliver")
def outbox_deliver() -> None:
    """Send what is due in the outbox now (never people inside quiet hours)."""
    from lending.services.outbox import deliver

    config = delivery_config(current_app.extensions["lending.settings"])
    counts = deliver(get_engine(), now=datetime.now(UTC), config=config)
    click.echo("outbox: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


payments_group = AppGroup("payments", help="Payments received outside the API.")


@payments_group.command("import")
@click.argument("csv_file", type=click.File("r", encoding="utf-8-sig"))
def payments_import(csv_file) -> None:
    """Load a wallet or bank settlement file; the nightly run posts its payments."""
    from lending.db import session_scope
    from lending.services.receipts import import_receipts

    with session_scope(get_engine()) as session:
        report = import_receipts(session, csv_file.read())
    for line in report.lines():
        click.echo(line)
    if report.errors:
        raise SystemExit(1)
