"""`scorecard train`: fit a scorecard from a CSV of past applications (no Flask app needed)."""

import hashlib
from pathlib import Path

import click

from lending.scoring.training import TrainingConfig, TrainingError, read_table, train

# Decisions record the card's version in 40 characters.
MAX_VERSION = 40


class BadData(click.ClickException):
    """Data that cannot train a card: exit 2, like any other bad input to a command."""

    exit_code = 2


@click.group("scorecard", help="Credit scorecards: fit one from past outcomes.")
def scorecard() -> None:
    """Group the scorecard commands."""


@scorecard.command("train")
@click.argument("data", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--target", required=True, help="Column holding the outcome.")
@click.option(
    "--bad-value",
    default="1",
    show_default=True,
    help="Value of the target column that marks a bad outcome.",
)
@click.option(
    "--holdout",
    default=0.3,
    show_default=True,
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    help="Share of the rows held out (stratified) to measure the card.",
)
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the split.")
@click.option(
    "--out",
    default="scorecard.json",
    show_default=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Scorecard file to write.",
)
@click.option(
    "--version",
    default=None,
    help="Name of the card [default: DATA's name and a hash of its content].",
)
@click.option("--exclude", multiple=True, help="A column that is no attribute (repeatable).")
def train_command(
    data: Path,
    target: str,
    bad_value: str,
    holdout: float,
    seed: int,
    out: Path,
    version: str | None,
    exclude: tuple[str, ...],
) -> None:
    """Fit a scorecard on DATA.csv, print its hold-out AUC, Gini and KS, and write it."""
    if version is not None and not 0 < len(version) <= MAX_VERSION:
        raise click.BadParameter(f"must be 1 to {MAX_VERSION} characters", param_hint="--version")
    config = TrainingConfig(
        target=target,
        bad_value=bad_value,
        holdout=holdout,
        seed=seed,
        version=version or _default_version(data),
        exclude=exclude,
    )
    try:
        result = train(read_table(data), config)
    except TrainingError as exc:
        raise BadData(str(exc)) from None
    result.scorecard.dump(out)
    m = result.metrics
    click.echo(f"AUC {m.auc:.3f}  Gini {m.gini:.3f}  KS {m.ks:.3f}")
    click.echo(
        f"train {m.train_rows} rows ({m.train_bads} bad)  "
        f"hold-out {m.holdout_rows} rows ({m.holdout_bads} bad)"
    )
    names = ", ".join(result.scorecard.attribute_names)
    click.echo(f"attributes: {names}")
    if result.dropped:
        click.echo(f"dropped (a single bin): {', '.join(result.dropped)}")
    click.echo(f"wrote {out} (version {config.version})")


def _default_version(data: Path) -> str:
    # The data's own hash ties a card to exactly what it was fitted on.
    digest = hashlib.sha256(data.read_bytes()).hexdigest()[:8]
    return f"{data.stem[: MAX_VERSION - 9]}-{digest}"
