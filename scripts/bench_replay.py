"""Time the pure replay of a long loan with a backdated payment (no database).

    .venv/bin/python scripts/bench_replay.py [--repeat 200]

The loan: 150,000 at 36% over 36 monthly instalments, with 60 transactions over three years
(monthly payments, some partial or early, three reversals, two waivers) and a late fee on
every instalment paid late. A backdated payment, dated in the first month, replays all of it
from scratch: `replay(terms, transactions + [backdated], through)`. The target is a median
under 5 ms. Printed beside it, measured in the same run: building the loan's schedule, and
allocating one payment on the final state (the cost a non-backdated payment adds), so the
ratios say how many schedules one replay costs.
"""

import argparse
import statistics
import sys
import time
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lending.finance.allocation import allocate, state_from_schedule  # noqa: E402
from lending.finance.enums import TxnKind  # noqa: E402
from lending.finance.late_fees import LateFeeRule  # noqa: E402
from lending.finance.replay import ServicingTerms, Txn, replay  # noqa: E402
from lending.finance.schedule import build_schedule  # noqa: E402
from lending.finance.terms import LoanTerms  # noqa: E402

START = date(2026, 1, 5)
LOAN = LoanTerms(principal=Decimal("150000"), annual_rate=Decimal("36"), tenor=36, start=START)


def history(schedule) -> list[Txn]:
    """60 transactions: the disbursement, 54 payments (on time, and every third instalment
    half late and half later with its fee), 3 reversals, 2 waivers, and small payments."""
    txns, ident = [Txn(1, TxnKind.DISBURSEMENT, START, LOAN.principal)], 2
    for row in schedule.instalments:
        k = row.n
        late = 6 if k % 3 == 0 else 0  # every third instalment paid after its grace days
        paid = row.total if k % 3 else (row.total / 2).quantize(Decimal("0.01"))
        txns.append(Txn(ident, TxnKind.PAYMENT, row.due_date + timedelta(days=late), paid))
        ident += 1
        if k % 3 == 0:  # the other half (and its late fee) a few days later
            txns.append(
                Txn(ident, TxnKind.PAYMENT, row.due_date + timedelta(days=9), paid + Decimal("500"))
            )
            ident += 1
        if k in (6, 18, 30):
            txns.append(
                Txn(
                    ident,
                    TxnKind.REVERSAL,
                    row.due_date + timedelta(days=12),
                    paid,
                    reverses=ident - 1,
                )
            )
            ident += 1
        if k in (9, 21):
            txns.append(
                Txn(
                    ident,
                    TxnKind.WAIVER,
                    row.due_date + timedelta(days=7),
                    Decimal("500"),
                    instalment_n=k,
                )
            )
            ident += 1
    while len(txns) < 60:  # and a few small payments after the last instalment
        last = txns[-1].value_date
        txns.append(Txn(ident, TxnKind.PAYMENT, last + timedelta(days=1), Decimal("100")))
        ident += 1
    return txns[:60]


def timed(function, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    schedule = build_schedule(LOAN)
    terms = ServicingTerms(
        state_from_schedule(schedule), LateFeeRule(fixed=Decimal("500"), grace_days=3)
    )
    txns = history(schedule)
    backdated = Txn(999, TxnKind.PAYMENT, START + timedelta(days=20), Decimal("1000"))
    through = schedule.instalments[-1].due_date + timedelta(days=40)
    result = replay(terms, [*txns, backdated], through)
    final = replace(result.state)
    print(
        f"loan: 36 instalments, {len(txns)} transactions + 1 backdated payment; "
        f"{len(result.late_fees)} late fees, {len(result.reversed)} reversals, "
        f"settled on {result.settled_on}"
    )
    replay_ms = timed(lambda: replay(terms, [*txns, backdated], through), args.repeat)
    schedule_ms = timed(lambda: build_schedule(LOAN), args.repeat)
    allocate_ms = timed(lambda: allocate(final, Decimal("1000"), through), args.repeat)
    print(f"replay from scratch (backdated payment): median {replay_ms:.2f} ms (target 5 ms)")
    print(
        f"build the schedule:                      median {schedule_ms:.2f} ms "
        f"(replay / schedule = {replay_ms / schedule_ms:.1f})"
    )
    print(
        f"allocate one payment on the final state: median {allocate_ms:.3f} ms "
        f"(replay / allocation = {replay_ms / allocate_ms:.1f})"
    )
    return 0 if replay_ms < 5 else 1


if __name__ == "__main__":
    raise SystemExit(main())
