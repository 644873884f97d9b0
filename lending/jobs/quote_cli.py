"""`lending quote` and `lending apr`: plain click commands, no application needed."""

import json
from datetime import date
from decimal import Decimal

import click
from marshmallow import ValidationError

from lending.finance.apr import apr
from lending.finance.enums import DayCount, Frequency, Method
from lending.finance.errors import TermsError
from lending.finance.schedule import Schedule, build_schedule
from lending.schemas.quote import AprArgsSchema, OfferSchema, QuoteArgsSchema


def _usage_error(messages: dict) -> click.UsageError:
    """Return a click usage error (exit code 2) listing every field's messages."""
    lines = [f"{field}: {' '.join(map(str, msgs))}" for field, msgs in sorted(messages.items())]
    return click.UsageError("invalid input\n  " + "\n  ".join(lines))


def _pkr(amount: Decimal) -> str:
    return f"PKR {amount:,.2f}"


@click.command("quote")
@click.option("--amount", required=True, help="Amount financed, PKR.")
@click.option(
    "--rate", required=True, help="Annual rate in percent, up to 4 decimals, e.g. 30 or 9.4822."
)
@click.option("--tenor", required=True, help="Number of instalments.")
@click.option(
    "--method",
    default=Method.REDUCING.value,
    show_default=True,
    help="reducing | flat | equal_principal",
)
@click.option(
    "--frequency",
    default=Frequency.MONTHLY.value,
    show_default=True,
    help="monthly | fortnightly | weekly",
)
@click.option(
    "--day-count", default=DayCount.D30_360.value, show_default=True, help="30/360 | actual/365"
)
@click.option("--fee", default="0", show_default=True, help="Processing fee, PKR.")
@click.option("--fee-upfront", is_flag=True, help="The fee is paid at disbursement.")
@click.option("--start", default=None, help="Disbursement date YYYY-MM-DD [today].")
@click.option("--first-due", default=None, help="First due date YYYY-MM-DD.")
@click.option("--rounding", default="1", show_default=True, help="1 | 0.01")
@click.option("--roll-holidays", is_flag=True, help="Roll due dates off Sundays and holidays.")
@click.option("--islamic", is_flag=True, help="Murabaha: profit fixed at booking.")
@click.option("--json", "as_json", is_flag=True, help="Print the offer document as JSON.")
def quote(**options) -> None:
    """Print the schedule and APR of explicit terms."""
    as_json = options.pop("as_json")
    options["fee_financed"] = not options.pop("fee_upfront")
    # The command line is an edge: its default start is today's date, stated in the output.
    options["start"] = options["start"] or date.today().isoformat()
    args = {k: v for k, v in options.items() if v is not None}
    try:
        terms = QuoteArgsSchema().load(args)
    except ValidationError as error:
        raise _usage_error(error.messages) from error
    schedule = build_schedule(terms)
    if as_json:
        click.echo(json.dumps(OfferSchema().dump(schedule), indent=2))
    else:
        click.echo(render(schedule))


def render(schedule: Schedule) -> str:
    """Return the schedule as a readable table with PKR amounts."""
    terms = schedule.terms
    kind = "Murabaha" if terms.islamic else str(terms.method).replace("_", " ")
    lines = [
        f"{kind.capitalize()} loan of {_pkr(schedule.financed_amount)}, "
        f"{terms.annual_rate}% a year, {len(schedule.instalments)} {terms.frequency} "
        f"instalments from {terms.start.isoformat()}",
        f"{'n':>3}  {'due date':<10}  {'principal':>16}  {'profit':>14}  {'fee':>10}  "
        f"{'total':>16}  {'balance':>16}",
    ]
    for row in schedule.instalments:
        lines.append(
            f"{row.n:>3}  {row.due_date.isoformat():<10}  {_pkr(row.principal):>16}  "
            f"{_pkr(row.profit):>14}  {_pkr(row.fee):>10}  {_pkr(row.total):>16}  "
            f"{_pkr(row.balance_after):>16}"
        )
    lines += [
        f"Instalment:      {_pkr(schedule.instalment_amount)}",
        f"Total profit:    {_pkr(schedule.total_profit)}",
        f"Processing fee:  {_pkr(schedule.total_fees)}"
        f"{' (paid up front)' if schedule.upfront_fee else ''}",
        f"Total payable:   {_pkr(schedule.total_payable)}",
        f"APR:             {schedule.apr}% (Regulation Z Appendix J, fees included)",
    ]
    return "\n".join(lines)


@click.command("apr")
@click.argument("source", type=click.File("r"))
def apr_command(source) -> None:
    """Print the APR of the advances and payments in SOURCE (a JSON file, or - for stdin)."""
    try:
        document = json.load(source, parse_float=Decimal)  # amounts never pass through float
    except json.JSONDecodeError as error:
        raise click.UsageError(f"invalid JSON: {error}") from error
    if not isinstance(document, dict):
        raise _usage_error({"_schema": ["must be a JSON object"]})
    try:
        result = apr(**AprArgsSchema().load(document))
    except ValidationError as error:
        raise _usage_error(error.messages) from error
    except TermsError as error:
        raise _usage_error(error.errors) from error
    click.echo(json.dumps({"apr": str(result)}))
