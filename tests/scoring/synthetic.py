"""Past applications made up with a known relationship between the columns and the outcome."""

import csv
import math
from pathlib import Path

import numpy as np

EMPLOYMENT_EFFECT = {
    "salaried": -0.6,
    "self_employed": 0.0,
    "freelancer": 0.2,
    "daily_wage": 0.9,
    "other": 0.4,
}
EMPLOYMENT_SHARE = [0.40, 0.25, 0.15, 0.15, 0.05]


def applications(rows: int = 4000, seed: int = 20250602) -> tuple[list[dict], np.ndarray]:
    """Return CSV rows and each row's true probability of going bad.

    ln(bad:good) = -1.8 - 1.3 (ln income - ln 50,000) + 0.07 (DBR - 20) + the employment
    effect; `noise` has no effect at all. About 2% of incomes are blank (their probability
    uses the true income, which the model never sees).
    """
    rng = np.random.default_rng(seed)
    income = np.round(rng.lognormal(math.log(50_000), 0.5, rows))
    dbr = np.round(rng.uniform(0, 45, rows), 2)
    kinds = list(EMPLOYMENT_EFFECT)
    employment = rng.choice(kinds, size=rows, p=EMPLOYMENT_SHARE)
    noise = rng.integers(0, 1000, rows)
    logit = (
        -1.8
        - 1.3 * (np.log(income) - math.log(50_000))
        + 0.07 * (dbr - 20)
        + np.array([EMPLOYMENT_EFFECT[k] for k in employment])
    )
    p_bad = 1 / (1 + np.exp(-logit))
    bad = rng.random(rows) < p_bad
    blank = rng.random(rows) < 0.02
    table = [
        {
            "id": str(i),
            "monthly_income": "" if blank[i] else f"{income[i]:.0f}",
            "dbr_pct": f"{dbr[i]:.2f}",
            "employment_type": str(employment[i]),
            "noise": str(noise[i]),
            "bad": "1" if bad[i] else "0",
        }
        for i in range(rows)
    ]
    return table, p_bad


def write_csv(path: Path, rows: list[dict]) -> Path:
    """Write rows (dicts with the same keys) as a CSV file with a header."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path
