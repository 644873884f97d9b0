"""Fit a points scorecard from a CSV of past applications and their outcomes.

Steps: label each row bad (target == bad value) or good, hold out a stratified share, class
every other column on the training rows (lending.scoring.binning), fit a logistic regression of
bad on the WoE of each column, and turn it into points with the card's scaling (Siddiqi):

    points of a bin = -(coef x WoE + intercept / n) x Factor + Offset / n

for n attributes. The model predicts ln(bad:good), so the minus makes the score
Offset + Factor x ln(good:bad): higher is better, the same convention as the default card.
The integer card itself is then measured on the hold-out: AUC, Gini = 2 AUC - 1 and KS.
To be used by the decision engine, the CSV's columns must be named as `attributes_of` names
them (see lending.scoring.features).
"""

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.model_selection import train_test_split

from lending.scoring.bands import Attribute, AttributeKind, Band, Scaling
from lending.scoring.binning import Binning, BinningConfig, bin_categorical, bin_numeric, is_numeric
from lending.scoring.features import ATTRIBUTE_REASONS
from lending.scoring.reasons import ReasonCode
from lending.scoring.scorecard import Scorecard

MIN_ROWS = 50  # fewer labelled rows cannot fill bins, a model and a hold-out
MIN_PER_CLASS = 10  # goods and bads each, so both sides of the split see both


class TrainingError(ValueError):
    """Data that cannot train a scorecard; the message says what to fix."""


@dataclass(frozen=True)
class Table:
    """A CSV file as text: its header and its rows (column -> value, "" when absent)."""

    columns: tuple[str, ...]
    rows: tuple[dict[str, str], ...]


@dataclass(frozen=True)
class TrainingConfig:
    """What to fit: the target column and its bad value, the hold-out, the card's name."""

    target: str
    bad_value: str = "1"
    holdout: float = 0.3
    seed: int = 0
    version: str = "trained"
    exclude: tuple[str, ...] = ()  # columns that are no attribute (ids, dates...)
    binning: BinningConfig = field(default_factory=BinningConfig)
    scaling: Scaling = field(default_factory=Scaling)


@dataclass(frozen=True)
class Metrics:
    """How well the fitted card ranks the hold-out, and how many rows each side had."""

    auc: float
    gini: float
    ks: float
    train_rows: int
    train_bads: int
    holdout_rows: int
    holdout_bads: int


@dataclass(frozen=True)
class TrainingResult:
    """The fitted card, its hold-out metrics, and which rows were held out."""

    scorecard: Scorecard
    metrics: Metrics
    holdout_index: tuple[int, ...]  # positions in Table.rows
    coefficients: dict[str, float]
    dropped: tuple[str, ...]  # columns that separated nothing (a single bin)


def read_table(path: str | Path) -> Table:
    """Read a CSV file with a header row (UTF-8, a BOM allowed)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            rows = tuple({k: (v or "") for k, v in row.items()} for row in reader)
            columns = tuple(reader.fieldnames or ())
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise TrainingError(f"cannot read {path}: {exc}") from None
    if not columns:
        raise TrainingError(f"{path} is empty: a header row is needed")
    if len(set(columns)) != len(columns):
        raise TrainingError(f"{path} repeats a column name in its header")
    if any(None in row for row in rows):
        raise TrainingError(f"{path} has a row with more fields than the header")
    return Table(columns, rows)


def train(table: Table, config: TrainingConfig) -> TrainingResult:
    """Fit a scorecard on a stratified part of the table and measure it on the rest."""
    labelled, bads = _labels(table, config)
    train_at, hold_at = _split(labelled, bads, config)
    binnings, dropped = _bin_columns(table, train_at, bads, config)
    y_train = [bads[i] for i in train_at]
    features = np.array(
        [[b.woe[b.index(table.rows[i][b.name])] for b in binnings] for i in train_at]
    )
    model = LogisticRegression(max_iter=1000).fit(features, np.array(y_train))
    card = _card(binnings, model, config)
    scores = [card.score_row(table.rows[i]).score for i in hold_at]
    metrics = _metrics(y_train, [bads[i] for i in hold_at], scores)
    card = replace(card, metadata={**card.metadata, "metrics": _rounded(metrics)})
    coefficients = {b.name: float(c) for b, c in zip(binnings, model.coef_[0], strict=True)}
    return TrainingResult(card, metrics, tuple(hold_at), coefficients, dropped)


def _labels(table: Table, config: TrainingConfig) -> tuple[list[int], dict[int, int]]:
    if config.target not in table.columns:
        raise TrainingError(f"no column {config.target!r} (columns: {', '.join(table.columns)})")
    unknown = sorted(set(config.exclude) - set(table.columns))
    if unknown:
        raise TrainingError(f"cannot exclude unknown column(s): {', '.join(unknown)}")
    # A blank outcome is not yet known (a loan still running): the row is left out.
    labelled = [i for i, row in enumerate(table.rows) if row[config.target].strip()]
    bads = {i: int(table.rows[i][config.target].strip() == config.bad_value) for i in labelled}
    n_bad = sum(bads.values())
    if len(labelled) < MIN_ROWS:
        raise TrainingError(
            f"too few rows: {len(labelled)} with a {config.target!r} value, "
            f"at least {MIN_ROWS} are needed"
        )
    if n_bad == 0 or n_bad == len(labelled):
        found = "no" if n_bad == 0 else "only"
        raise TrainingError(
            f"{config.target!r} has one class only: {found} rows equal to the "
            f"bad value {config.bad_value!r}"
        )
    if min(n_bad, len(labelled) - n_bad) < MIN_PER_CLASS:
        raise TrainingError(
            f"too few rows of one class: {n_bad} bad and "
            f"{len(labelled) - n_bad} good, at least {MIN_PER_CLASS} of each"
        )
    return labelled, bads


def _split(
    labelled: list[int], bads: dict[int, int], config: TrainingConfig
) -> tuple[list[int], list[int]]:
    try:
        train_at, hold_at = train_test_split(
            labelled,
            test_size=config.holdout,
            random_state=config.seed,
            stratify=[bads[i] for i in labelled],
        )
    except ValueError as exc:  # a hold-out too small to hold both classes
        raise TrainingError(f"cannot split a stratified hold-out: {exc}") from None
    return sorted(train_at), sorted(hold_at)


def _bin_columns(
    table: Table, train_at: Sequence[int], bads: dict[int, int], config: TrainingConfig
) -> tuple[list[Binning], tuple[str, ...]]:
    skip = {config.target, *config.exclude}
    y = [bads[i] for i in train_at]
    kept, dropped = [], []
    for name in (c for c in table.columns if c not in skip):
        binning = _bin_column(name, table, train_at, y, config.binning)
        if binning.informative:
            kept.append(binning)
        else:
            dropped.append(name)
    if not kept:
        raise TrainingError("no column separates goods from bads (every one has a single bin)")
    return kept, tuple(dropped)


def _bin_column(
    name: str, table: Table, train_at: Sequence[int], y: list[int], config: BinningConfig
) -> Binning:
    column = [row[name] for row in table.rows]  # typed on every row, hold-out included
    values = [table.rows[i][name] for i in train_at]
    if is_numeric(column):
        has_missing = any(not v.strip() for v in column)
        return bin_numeric(name, values, y, config, has_missing)
    return bin_categorical(name, values, y, config)


def _card(binnings: list[Binning], model: LogisticRegression, config: TrainingConfig) -> Scorecard:
    scaling, n = config.scaling, len(binnings)
    intercept = float(model.intercept_[0])

    def points(coef: float, woe: float) -> int:
        return math.floor(-(coef * woe + intercept / n) * scaling.factor + scaling.offset / n + 0.5)

    attributes = tuple(
        _attribute(b, [points(float(c), w) for w in b.woe])
        for b, c in zip(binnings, model.coef_[0], strict=True)
    )
    description = (
        f"Fitted by lending.scoring.training: logistic regression on WoE of "
        f"{n} attributes, target {config.target!r} bad when {config.bad_value!r}."
    )
    metadata = {
        "kind": "trained",
        "target": config.target,
        "bad_value": config.bad_value,
        "holdout": config.holdout,
        "seed": config.seed,
    }
    return Scorecard(config.version, scaling, attributes, description, metadata)


def _attribute(binning: Binning, points: list[int]) -> Attribute:
    code = ATTRIBUTE_REASONS.get(binning.name, ReasonCode.SCORE_FACTOR)
    if binning.kind is AttributeKind.CATEGORICAL:
        bands = tuple(Band(p, values=(g,)) for g, p in zip(binning.groups, points, strict=False))
        return Attribute(binning.name, binning.kind, bands, code, other_points=points[-1])
    bounds = (None, *binning.uppers, None)
    bands = tuple(
        Band(points[i], lower=bounds[i], upper=bounds[i + 1])
        for i in range(len(binning.uppers) + 1)
    )
    missing = points[-1] if binning.has_missing else None
    return Attribute(binning.name, binning.kind, bands, code, missing_points=missing)


def _metrics(y_train: list[int], y_hold: list[int], scores: list[int]) -> Metrics:
    # The card ranks goods high; the curves rank bads, so the score's sign is flipped.
    risk = [-s for s in scores]
    auc = float(roc_auc_score(y_hold, risk))
    fpr, tpr, _ = roc_curve(y_hold, risk)
    return Metrics(
        auc=auc,
        gini=2 * auc - 1,
        ks=float(np.max(tpr - fpr)),
        train_rows=len(y_train),
        train_bads=sum(y_train),
        holdout_rows=len(y_hold),
        holdout_bads=sum(y_hold),
    )


def _rounded(metrics: Metrics) -> dict[str, float | int]:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in vars(metrics).items()}
