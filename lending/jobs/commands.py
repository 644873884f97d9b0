"""`lending db|seed|users|tokens ...`: thin commands over the services."""

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from lending.db import get_engine, session_scope
from lending.models.enums import Role


def register_commands(group: click.Group, app_free_only: bool = False) -> None:
    """Add the project's commands to a click group (the app's CLI or the console script)."""
    from lending.jobs.quote_cli import apr_command, quote
    from lending.jobs.scorecard_cli import scorecard

    group.add_command(quote, "quote")
    group.add_command(apr_command, "apr")
    group.add_command(scorecard, "scorecard")
    if app_free_only:
        return
    from lending.jobs.backup import db_backup, db_restore
    from lending.jobs.ledger_cli import ledger_group
    from lending.jobs.nightly import nightly, outbox_group, payments_group
    from lending.jobs.scheduler import scheduler

    db_group.add_command(db_backup)
    db_group.add_command(db_restore)
    for command in (
        db_group,
        seed,
        users_group,
        tokens_group,
        devices_group,
        nightly,
        outbox_group,
        payments_group,
        ledger_group,
        scheduler,
    ):
        group.add_command(command)


db_group = AppGroup("db", help="Database schema (Alembic migrations), SQLite backups.")


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations to DATABASE_URL."""
    from lending.migrate import upgrade

    upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database at {revision}")


@db_group.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION."""
    from lending.migrate import downgrade

    downgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database at {revision}")


@click.command("seed")
@click.option("--demo", is_flag=True, help="Load the demo shop, staff, products and registry.")
@with_appcontext
def seed(demo: bool) -> None:
    """Load reference data; with --demo, demo users and tokens too (idempotent)."""
    from lending.services.seed import seed_demo, seed_demo_loans, seed_reference

    settings = current_app.extensions["lending.settings"]
    if demo and settings.env == "production":
        raise click.UsageError("demo data is refused in production (LENDING_ENV=production)")
    with session_scope(get_engine()) as session:
        counts = seed_reference(session)
        logins = seed_demo(session, current_app.extensions["lending.hasher"]) if demo else []
        booked = seed_demo_loans(session, settings) if demo else 0
    click.echo("reference data: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    if demo:
        click.echo(f"sample loans booked now: {booked}")
    if logins:
        click.echo("demo log-ins (password, and the API token where the role has one):")
    for login in logins:
        click.echo(f"  {login}")


users_group = AppGroup("users", help="Users and roles.")


@users_group.command("add")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--retailer", "retailer_name", help="The shop of a retailer agent (created if new).")
@click.option("--password", help="Prompted for when not given.")
@click.option("--name", "full_name", default="")
def users_add(email, role, retailer_name, password, full_name) -> None:
    """Add a user."""
    from sqlmodel import select

    from lending.errors import InvalidInput
    from lending.models import Retailer
    from lending.services.users import create_user
    from lending.web.context import utcnow  # the app's one clock (tests pin it)

    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with session_scope(get_engine()) as session:
        retailer = None
        if retailer_name:
            retailer = session.exec(select(Retailer).where(Retailer.name == retailer_name)).first()
            if retailer is None:
                retailer = Retailer(name=retailer_name)
                session.add(retailer)
                session.flush()
        try:
            user = create_user(
                session,
                email=email,
                role=Role(role),
                password=password,
                retailer=retailer,
                full_name=full_name,
                hasher=current_app.extensions["lending.hasher"],
                now=utcnow(),
            )
        except InvalidInput as exc:
            messages = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.errors.items())
            raise click.UsageError(messages) from None
        click.echo(f"user {user.id} {user.email} ({user.role})")


tokens_group = AppGroup("tokens", help="API tokens.")


@tokens_group.command("issue")
@click.option("--email", required=True)
@click.option("--name", default="cli", show_default=True)
@click.option("--days", default=365, show_default=True, help="0 for a token that never expires.")
def tokens_issue(email: str, name: str, days: int) -> None:
    """Issue an API token and print it once; only its digest is stored."""
    from sqlmodel import select

    from lending.models import User
    from lending.services.users import issue_token
    from lending.web.context import utcnow

    with session_scope(get_engine()) as session:
        user = session.exec(select(User).where(User.email == email.strip().lower())).first()
        if user is None:
            raise click.UsageError(f"no user with e-mail {email}")
        token = issue_token(session, user=user, name=name, days=days or None, now=utcnow())
    click.echo(token)


@tokens_group.command("revoke")
@click.option("--email", required=True)
def tokens_revoke(email: str) -> None:
    """Revoke every token of a user."""
    from sqlmodel import select

    from lending.models import User
    from lending.services.users import revoke_tokens
    from lending.web.context import utcnow

    with session_scope(get_engine()) as session:
        user = session.exec(select(User).where(User.email == email.strip().lower())).first()
        if user is None:
            raise click.UsageError(f"no user with e-mail {email}")
        click.echo(f"revoked {revoke_tokens(session, user=user, now=utcnow())} token(s)")


devices_group = AppGroup("devices", help="The device registry.")


@devices_group.command("import")
@click.argument("csv_file", type=click.File("r", encoding="utf-8-sig"))
def devices_import(csv_file) -> None:
    """Import manufacturers, models and TACs from CSV; bad rows are reported and skipped."""
    from lending.services.registry import import_devices

    with session_scope(get_engine()) as session:
        report = import_devices(session, csv_file.read())
    for line in report.lines():
        click.echo(line)
    if report.errors:
        raise SystemExit(1)
