"""Benchmark the batch schedule engine against per-loan baselines, and check it is exact.

    python scripts/bench_schedules.py [--loans 1000000] [--baseline-loans 20000]
                                      [--sample 10000] [--seed 7]

Times, in one run and on the same generated loans: (1) lending.finance.batch (all loans,
one warm-up run then the best of --repeat runs; the cold first run is printed too), (2) the
`amortization` package from PyPI, one amortization_schedule per loan, and (3) a plain per-loan
loop over numpy-financial (pmt, ipmt, ppmt). The baselines are timed on the first
--baseline-loans loans and their throughput extrapolated per loan. Then a random sample of
--sample loans is rebuilt with the one-loan engine (lending.finance.schedule) and compared
cell by cell (principal, profit, total, balance, due date); any difference exits 1.
"""

import argparse
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import numpy_financial as npf
from amortization import PaymentFrequency, amortization_schedule

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from lending.finance.batch import METHODS, BatchTerms, build_batch  # noqa: E402
from lending.finance.enums import DayCount, Frequency  # noqa: E402
from lending.finance.money import to_paisa  # noqa: E402
from lending.finance.plan import DateKey  # noqa: E402
from lending.finance.schedule import build_schedule  # noqa: E402
from lending.finance.terms import LoanTerms  # noqa: E402

FREQUENCIES = (Frequency.MONTHLY, Frequency.FORTNIGHTLY, Frequency.WEEKLY)
AMORTIZATION_FREQUENCY = {
    Frequency.MONTHLY: PaymentFrequency.MONTHLY,
    Frequency.FORTNIGHTLY: PaymentFrequency.BIWEEKLY,
    Frequency.WEEKLY: PaymentFrequency.WEEKLY,
}


def generate(count: int, seed: int) -> BatchTerms:
    """Return a mixed portfolio: PKR 10,000-400,000, 3-24 instalments, 0-45%, every method."""
    rng = np.random.default_rng(seed)
    # 28 disbursement days x 3 frequencies x 2 day counts: 168 distinct calendars.
    calendars = tuple(
        DateKey(date(2025, 3, 1) + timedelta(days=d), None, f, dc, False)
        for d in range(28)
        for f in FREQUENCIES
        for dc in (DayCount.D30_360, DayCount.ACTUAL_365)
    )
    day = rng.integers(0, 28, count)
    frequency = rng.choice(3, count, p=[0.6, 0.2, 0.2])
    actual = (rng.random(count) < 0.1).astype(np.int64)  # one loan in ten is actual/365
    return BatchTerms(
        financed=rng.integers(1_000_000, 40_000_001, count),
        rate_units=rng.integers(0, 450_001, count),
        tenor=rng.integers(3, 25, count),
        method=rng.integers(0, len(METHODS), count),
        unit=np.where(rng.random(count) < 0.7, 100, 1).astype(np.int64),
        calendar=(day * 3 + frequency) * 2 + actual,
        calendars=calendars,
    )


def time_batch(terms: BatchTerms, repeat: int) -> tuple[float, float, object]:
    """Return (cold seconds, best warm seconds, result) of build_batch over every loan."""
    start = time.perf_counter()
    result = build_batch(terms)
    cold = time.perf_counter() - start
    del result  # the warm runs reuse memory the first run touched (a fresh VM page is slow)
    best = float("inf")
    for _ in range(repeat):
        result = None  # free the previous run's schedules before building the next
        start = time.perf_counter()
        result = build_batch(terms)
        best = min(best, time.perf_counter() - start)
    return cold, best, result


def baseline_inputs(terms: BatchTerms, count: int) -> list[tuple[float, float, int, Frequency]]:
    """Return (principal, annual rate, tenor, frequency) floats for the first count loans."""
    return [
        (
            int(terms.financed[i]) / 100,
            int(terms.rate_units[i]) / 1_000_000,
            int(terms.tenor[i]),
            terms.calendars[terms.calendar[i]].frequency,
        )
        for i in range(count)
    ]


def time_amortization(loans) -> float:
    """Return the seconds the amortization package takes for one schedule per loan."""
    start = time.perf_counter()
    for principal, rate, tenor, frequency in loans:
        list(amortization_schedule(principal, rate, tenor, AMORTIZATION_FREQUENCY[frequency]))
    return time.perf_counter() - start


def time_numpy_financial(loans) -> float:
    """Return the seconds a per-loan numpy-financial loop takes (pmt, ipmt, ppmt, balance)."""
    start = time.perf_counter()
    with np.errstate(divide="ignore", invalid="ignore"):  # numpy-financial's fv at rate 0
        _numpy_financial_loop(loans)
    return time.perf_counter() - start


def _numpy_financial_loop(loans) -> None:
    for principal, rate, tenor, frequency in loans:
        periodic = rate / frequency.per_year
        periods = np.arange(1, tenor + 1)
        npf.pmt(periodic, tenor, -principal)
        interest = np.round(npf.ipmt(periodic, periods, tenor, -principal), 2)
        repaid = np.round(npf.ppmt(periodic, periods, tenor, -principal), 2)
        np.round(principal - np.cumsum(repaid), 2), interest


def loan_terms(terms: BatchTerms, i: int) -> LoanTerms:
    """Return loan i of the batch as one-loan-engine terms."""
    key = terms.calendars[terms.calendar[i]]
    return LoanTerms(
        principal=Decimal(int(terms.financed[i])) / 100,
        annual_rate=Decimal(int(terms.rate_units[i])) / 10_000,
        tenor=int(terms.tenor[i]),
        start=key.start,
        first_due=key.first_due,
        method=METHODS[terms.method[i]],
        frequency=key.frequency,
        day_count=key.day_count,
        roll_holidays=key.roll_holidays,
        rounding=Decimal("1") if terms.unit[i] == 100 else Decimal("0.01"),
    )


def differing_cells(terms: BatchTerms, batch, sample: np.ndarray) -> tuple[int, int]:
    """Return (differing cells, cells compared) between the batch and the one-loan engine."""
    differing = compared = 0
    for i in sample.tolist():
        rows = batch.rows(i)
        schedule = build_schedule(loan_terms(terms, i))
        one = [
            (
                r.n,
                r.due_date,
                to_paisa(r.principal),
                to_paisa(r.profit),
                to_paisa(r.total),
                to_paisa(r.balance_after),
            )
            for r in schedule.instalments
        ]
        for mine, theirs in zip(rows, one, strict=True):
            differing += sum(a != b for a, b in zip(mine[1:], theirs[1:], strict=True))
            compared += 5
    return differing, compared


def report_baselines(terms: BatchTerms, count: int, batch_rate: float) -> None:
    """Time both per-loan baselines on the first count loans and print the ratios."""
    loans = baseline_inputs(terms, count)
    time_amortization(loans[:200]), time_numpy_financial(loans[:200])  # warm-up
    amortization_rate = count / time_amortization(loans)
    numpy_rate = count / time_numpy_financial(loans)
    print(
        f"amortization pkg:   {amortization_rate:14,.0f} loans/s  (timed on {count:,} loans, "
        f"extrapolated per loan; annuity schedules only)"
    )
    print(
        f"numpy-financial:    {numpy_rate:14,.0f} loans/s  (per-loan loop timed on "
        f"{count:,} loans, extrapolated per loan)"
    )
    versus_amortization, versus_numpy = batch_rate / amortization_rate, batch_rate / numpy_rate
    print(
        f"batch / amortization:    {versus_amortization:8.1f}x  (target >= 50x: "
        f"{'met' if versus_amortization >= 50 else 'NOT met'})"
    )
    print(
        f"batch / numpy-financial: {versus_numpy:8.1f}x  (target >= 100x: "
        f"{'met' if versus_numpy >= 100 else 'NOT met'})"
    )


def main() -> int:
    """Run the benchmark; return 1 if the batch differs from the one-loan engine."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--baseline-loans", type=int, default=20_000)
    parser.add_argument("--sample", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    terms = generate(args.loans, args.seed)
    cells = int(terms.tenor.sum())
    print(
        f"loans: {args.loans:,} ({cells:,} instalments; tenors 3-24, PKR 10,000-400,000, "
        f"0-45%, reducing/flat/equal_principal, monthly/fortnightly/weekly, "
        f"30/360 and actual/365, rupee and paisa rounding)"
    )
    cold, best, batch = time_batch(terms, args.repeat)
    batch_rate = args.loans / best
    print(
        f"batch engine:       {batch_rate:14,.0f} loans/s  (best of {args.repeat} warm runs "
        f"{best:.3f} s; cold first run {cold:.3f} s = {args.loans / cold:,.0f} loans/s)"
    )
    report_baselines(terms, min(args.baseline_loans, args.loans), batch_rate)
    sample = np.random.default_rng(args.seed + 1).choice(
        args.loans, min(args.sample, args.loans), replace=False
    )
    start = time.perf_counter()
    differing, compared = differing_cells(terms, batch, sample)
    print(
        f"exactness: {differing} differing cells of {compared:,} compared on {len(sample):,} "
        f"random loans against the one-loan engine ({time.perf_counter() - start:.1f} s)"
    )
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
