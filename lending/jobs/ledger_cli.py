"""`lending ledger trial-balance|close`: the general ledger from the command line."""

import json
from datetime import datetime

import click
from flask.cli import AppGroup

from lending.db import get_engine, session_scope

ledger_group = AppGroup("ledger", help="The general ledger: trial balance, month-end close.")


@ledger_group.command("trial-balance")
@click.option(
    "--as-of",
    "as_of",
    required=True,
    type=click.DateTime(["%Y-%m-%d"]),
    help="Entries posted on or before this business date.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the JSON document.")
def trial_balance(as_of: datetime, as_json: bool) -> None:
    """Every account's debits, credits and balance; the totals are equal."""
    from lending.services import ledger

    with session_scope(get_engine()) as session:
        balance = ledger.trial_balance(session, as_of.date())
    if as_json:
        click.echo(json.dumps(balance.document(), ensure_ascii=False, indent=2))
        return
    click.echo(f"Trial balance as of {as_of.date()}")
    click.echo(f"{'code':<6} {'account':<44} {'debit':>16} {'credit':>16} {'balance':>16}")
    for row in balance.rows:
        click.echo(
            f"{row.code:<6} {row.name[:44]:<44} {row.debit:>16,} {row.credit:>16,} "
            f"{_side(row.balance):>16}"
        )
    click.echo(f"{'':<6} {'Totals':<44} {balance.debit:>16,} {balance.credit:>16,}")
    if not balance.balanced:  # the database refuses an unbalanced entry: never expected
        raise SystemExit(1)


def _side(amount) -> str:
    """A balance as accountants print it: debit plain, credit with Cr."""
    return f"{amount:,}" if amount >= 0 else f"{-amount:,} Cr"


@ledger_group.command("income")
@click.option(
    "--month",
    required=True,
    type=click.DateTime(["%Y-%m"]),
    help="The month (YYYY-MM) of the entries posted.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the JSON document.")
def income(month: datetime, as_json: bool) -> None:
    """A month's income and expenses by account, and the charity's account."""
    from lending.services import ledger

    with session_scope(get_engine()) as session:
        statement = ledger.income_statement(session, month.date())
    if as_json:
        click.echo(json.dumps(statement.document(), ensure_ascii=False, indent=2))
        return
    click.echo(f"Income statement, {statement.month}")
    for title, rows, total in (
        ("Income", statement.income, statement.total_income),
        ("Expenses", statement.expenses, statement.total_expenses),
    ):
        click.echo(title)
        for code, name, amount in rows:
            click.echo(f"  {code:<6} {name[:46]:<46} {amount:>16,}")
        click.echo(f"  {'':<6} {'Total':<46} {total:>16,}")
    click.echo(f"Net income {statement.net:>56,}")
    click.echo(
        f"Charity (Islamic late charges): received {statement.charity_received:,}, "
        f"paid out {statement.charity_paid:,}, owed at the month's end {statement.charity_owed:,}"
    )


@ledger_group.command("close")
@click.option(
    "--through",
    required=True,
    type=click.DateTime(["%Y-%m-%d"]),
    help="The last day of the period to close (usually a month end).",
)
def close(through: datetime) -> None:
    """Close the books through a date: no entry may be posted on or before it any more."""
    from lending.errors import LendingError
    from lending.services import ledger
    from lending.web.context import utcnow

    try:
        with session_scope(get_engine()) as session:
            ledger.close_period(session, through.date(), user_id=None, now=utcnow())
    except LendingError as exc:
        click.echo(f"refused: {exc.message}", err=True)
        raise SystemExit(2) from None
    click.echo(f"closed through {through.date()}")
