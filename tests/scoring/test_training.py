"""Fitting a scorecard on made-up past applications with a known relationship."""

import re

import pytest
from click.testing import CliRunner
from sklearn.metrics import roc_auc_score

from lending.jobs.scorecard_cli import scorecard as scorecard_group
from lending.scoring import DecisionStatus, Scorecard, Thresholds, check_card, decide
from lending.scoring.bands import AttributeKind
from lending.scoring.features import attributes_of
from lending.scoring.training import (
    TrainingConfig,
    TrainingError,
    read_table,
    train,
)
from tests.scoring.factories import facts, policy
from tests.scoring.synthetic import applications, write_csv

METRICS_LINE = re.compile(r"AUC (0\.\d{3})  Gini (-?0\.\d{3})  KS (0\.\d{3})")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    rows, p_bad = applications()
    path = write_csv(tmp_path_factory.mktemp("training") / "applications.csv", rows)
    return rows, p_bad, path


@pytest.fixture(scope="module")
def fitted(data):
    rows, p_bad, path = data
    return train(read_table(path), TrainingConfig(target="bad", exclude=("id",), seed=7))


def test_fitted_card_ranks_nearly_as_well_as_the_truth(data, fitted):
    rows, p_bad, _ = data
    hold = list(fitted.holdout_index)
    y = [int(rows[i]["bad"]) for i in hold]
    # No model can rank the hold-out better than the true probabilities that drew it (up to
    # sampling luck), so their AUC is the ceiling. Coarse bins and integer points lose a
    # little of it; 0.05 is far more than binning costs and far less than dropping income
    # or DBR would (each alone ranks at about 0.6-0.65). 0.65 keeps a floor if the data
    # generator were ever weakened.
    ceiling = roc_auc_score(y, p_bad[hold])
    m = fitted.metrics
    assert m.auc >= ceiling - 0.05 and m.auc > 0.65
    assert m.gini == pytest.approx(2 * m.auc - 1)
    assert 0 < m.ks < 1
    assert m.train_rows + m.holdout_rows == len(rows)
    assert m.holdout_rows == pytest.approx(0.3 * len(rows), abs=1)
    # Stratified: both sides keep the population's bad rate.
    assert m.holdout_bads / m.holdout_rows == pytest.approx(m.train_bads / m.train_rows, abs=0.005)


def test_fitted_points_follow_the_known_effects(fitted):
    card = fitted.scorecard
    by_name = {a.name: a for a in card.attributes}
    income, dbr = by_name["monthly_income"], by_name["dbr_pct"]
    assert income.kind is AttributeKind.NUMERIC and income.missing_points is not None
    assert income.bands[-1].points > income.bands[0].points  # more income, better score
    assert dbr.bands[0].points > dbr.bands[-1].points  # more burden, worse score
    assert dbr.missing_points is None  # no blank DBR in the data
    employment = by_name["employment_type"]
    assert employment.points_for("salaried") > employment.points_for("daily_wage")
    assert employment.other_points is not None  # unseen and rare categories
    # The noise column has no effect: its points vary far less than income's.
    spread = {a.name: a.best_points - min(b.points for b in a.bands) for a in card.attributes}
    assert spread["noise"] < spread["monthly_income"] / 3


def test_scores_mean_what_the_scaling_says(data, fitted):
    # Siddiqi's points keep the model's odds: averaged over the hold-out, the bad share the
    # scores imply (odds good:bad = scaling.odds_at(score)) is close to the observed one.
    # A flipped sign would put it far off.
    rows, _, _ = data
    card = fitted.scorecard
    hold = list(fitted.holdout_index)
    implied = [1 / (1 + card.scaling.odds_at(card.score_row(rows[i]).score)) for i in hold]
    observed = sum(int(rows[i]["bad"]) for i in hold) / len(hold)
    assert sum(implied) / len(implied) == pytest.approx(observed, abs=0.03)


def test_written_card_loads_and_scores_rows(tmp_path, data, fitted):
    rows, _, _ = data
    path = tmp_path / "fitted.json"
    fitted.scorecard.dump(path)
    loaded = Scorecard.load(path)
    assert loaded == fitted.scorecard and loaded.version == "trained"
    assert float(loaded.metadata["metrics"]["auc"]) == round(fitted.metrics.auc, 4)
    loaded.dump(tmp_path / "again.json")  # metadata read back as Decimal writes again
    assert Scorecard.load(tmp_path / "again.json").metadata == loaded.metadata
    for row in rows[:50]:
        assert loaded.score_row(row) == fitted.scorecard.score_row(row)
    result = loaded.score_row(
        {"monthly_income": "", "dbr_pct": "44", "noise": "1", "employment_type": "astronaut"}
    )
    assert isinstance(result.score, int) and len(result.adverse) <= 3


def test_a_card_trained_on_fact_columns_drives_decisions(tmp_path, data):
    rows, _, _ = data
    columns = ("monthly_income", "dbr_pct", "employment_type", "bad")
    path = write_csv(tmp_path / "facts.csv", [{k: r[k] for k in columns} for r in rows])
    card = train(read_table(path), TrainingConfig(target="bad", version="fit-1")).scorecard
    check_card(card)
    result = decide(facts(), policy(), card, Thresholds(approve=0, refer=0))
    assert result.status is DecisionStatus.APPROVED and result.scorecard_version == "fit-1"
    assert result.score == card.score_row(attributes_of(facts())).score
    assert set(result.points) == set(columns[:-1])


def test_the_cli_prints_metrics_and_writes_the_card(tmp_path, data):
    _, _, path = data
    out = tmp_path / "card.json"
    result = CliRunner().invoke(
        scorecard_group,
        [
            "train",
            str(path),
            "--target",
            "bad",
            "--exclude",
            "id",
            "--seed",
            "7",
            "--out",
            str(out),
            "--version",
            "pilot-2025-06",
        ],
    )
    assert result.exit_code == 0, result.output
    auc, gini, ks = (float(x) for x in METRICS_LINE.search(result.output).groups())
    assert auc > 0.65 and gini == pytest.approx(2 * auc - 1, abs=0.0015) and 0 < ks < 1
    assert "hold-out 1200 rows" in result.output
    assert Scorecard.load(out).version == "pilot-2025-06"


def test_the_cli_names_the_card_after_its_data(tmp_path, monkeypatch, data):
    _, _, path = data
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        scorecard_group, ["train", str(path), "--target", "bad", "--bad-value", "0"]
    )
    assert result.exit_code == 0, result.output
    card = Scorecard.load(tmp_path / "scorecard.json")  # the default --out
    assert re.fullmatch(r"applications-[0-9a-f]{8}", card.version)


def _write(tmp_path, rows):
    return str(write_csv(tmp_path / "bad.csv", rows))


@pytest.mark.parametrize(
    ("make_args", "message"),
    [
        (lambda tmp, rows: [str(tmp / "missing.csv"), "--target", "bad"], "does not exist"),
        (lambda tmp, rows: [_write(tmp, rows), "--target", "outcome"], "no column 'outcome'"),
        (
            lambda tmp, rows: [_write(tmp, [{**r, "bad": "0"} for r in rows]), "--target", "bad"],
            "one class only",
        ),
        (
            lambda tmp, rows: [_write(tmp, rows), "--target", "bad", "--bad-value", "yes"],
            "one class only",
        ),
        (lambda tmp, rows: [_write(tmp, rows[:20]), "--target", "bad"], "too few rows"),
        (lambda tmp, rows: [_write(tmp, rows), "--target", "bad", "--holdout", "1.5"], "--holdout"),
        (lambda tmp, rows: [_write(tmp, rows), "--target", "bad", "--exclude", "ghost"], "ghost"),
        (lambda tmp, rows: [_write(tmp, rows), "--target", "bad", "--version", "v" * 41], "40"),
    ],
)
def test_the_cli_refuses_bad_input(tmp_path, data, make_args, message):
    rows = data[0][:400]
    result = CliRunner().invoke(scorecard_group, ["train", *make_args(tmp_path, rows)])
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_an_empty_file_is_refused(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(TrainingError, match="empty"):
        read_table(tmp_path / "empty.csv")


def test_columns_that_separate_nothing_are_dropped(tmp_path, data):
    rows = [{**r, "constant": "7"} for r in data[0][:1000]]
    path = write_csv(tmp_path / "c.csv", rows)
    result = train(read_table(path), TrainingConfig(target="bad", exclude=("id",)))
    assert "constant" in result.dropped
    assert "constant" not in result.scorecard.attribute_names


def test_training_is_reproducible(tmp_path, data):
    rows = data[0][:1500]
    path = write_csv(tmp_path / "r.csv", rows)
    config = TrainingConfig(target="bad", exclude=("id",), seed=3)
    first, second = train(read_table(path), config), train(read_table(path), config)
    assert first.scorecard == second.scorecard and first.metrics == second.metrics


def test_blank_outcomes_are_left_out(tmp_path, data):
    rows = [{**r, "bad": ""} if i % 10 == 0 else r for i, r in enumerate(data[0][:1000])]
    path = write_csv(tmp_path / "b.csv", rows)
    result = train(read_table(path), TrainingConfig(target="bad", exclude=("id",)))
    assert result.metrics.train_rows + result.metrics.holdout_rows == 900
    assert all(rows[i]["bad"] for i in result.holdout_index)
