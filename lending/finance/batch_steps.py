"""The steps of the batch engine over one group (see lending.finance.batch)."""

from dataclasses import dataclass

import numpy as np

from lending.finance.enums import Method
from lending.finance.kernel import (
    MAX_RATE_UNITS,
    Period,
    div_half_up,
    flat_markup,
    flat_weight,
    instalment_from_float,
    level_payment,
    period_profit,
    unit_share,
)
from lending.finance.plan import Plan

# rate_units <= MAX_RATE_UNITS (10^6) < 2**20: financed and rate travel packed in one int64
RATE_BITS = MAX_RATE_UNITS.bit_length()


@dataclass(frozen=True, eq=False)
class Group:
    """Consecutive loans of the batch order sharing method, unit and accrual periods."""

    start: int  # position of the group's first loan in the batch order
    level: np.ndarray  # level instalment (first principal part for equal_principal)
    principal: tuple[np.ndarray, ...]  # principal[k][r]: period k of the group's r-th loan
    profit: tuple[np.ndarray, ...]


@dataclass(frozen=True, eq=False)
class Part:
    """Where a group sits in the batch order and what it shares."""

    start: int
    method: Method
    unit: int
    plan: Plan
    per_year: int
    tenors: np.ndarray  # distinct tenors, longest first
    counts: np.ndarray  # loans per tenor


@dataclass(frozen=True, eq=False)
class _Columns:
    """One group's columns, longest tenor first, and its preallocated output."""

    financed: np.ndarray
    rate_units: np.ndarray
    tenor: np.ndarray
    unit: int
    per_year: int
    running: tuple[int, ...]  # running[k]: loans whose tenor exceeds k (a prefix)
    principal: list[np.ndarray]  # principal[k]: period k's parts, a view of one buffer
    profit: list[np.ndarray]


def _columns(part: Part, packed: np.ndarray) -> _Columns:
    longest = int(part.tenors[0])
    # running[k] = loans with tenor > k; tenors are distinct and descending.
    running = [int(part.counts[part.tenors > k].sum()) for k in range(longest + 1)]
    offsets = np.concatenate(([0], np.cumsum(running[:-1]))).tolist()
    buffers = np.empty((2, offsets[-1]), dtype=np.int64)  # one allocation per column
    views = [[buffer[offsets[k] : offsets[k + 1]] for k in range(longest)] for buffer in buffers]
    return _Columns(
        packed >> RATE_BITS,
        packed & ((1 << RATE_BITS) - 1),
        np.repeat(part.tenors, part.counts),
        part.unit,
        part.per_year,
        tuple(running),
        views[0],
        views[1],
    )


def run_group(part: Part, packed: np.ndarray) -> Group:
    """Return the schedules of one group from its packed (financed, rate) column."""
    cols = _columns(part, packed)
    engine = {
        Method.REDUCING: _reducing,
        Method.FLAT: _flat,
        Method.EQUAL_PRINCIPAL: _equal_principal,
    }[part.method]
    level = engine(cols, part.plan.periods[: len(cols.profit)], part.plan.regular)
    return Group(part.start, level, tuple(cols.principal), tuple(cols.profit))


def _settle(cols: _Columns, k: int, owed: np.ndarray, clip: bool = True) -> None:
    """Keep period k's principal within [0, owed]; last instalments take all that is owed."""
    part = cols.principal[k]
    if clip:
        np.maximum(part, 0, out=part)  # two ufuncs run faster than np.clip's mixed bounds
        np.minimum(part, owed, out=part)
    ending = cols.running[k + 1]
    part[ending:] = owed[ending:]
    owed -= part


def _reducing(cols: _Columns, periods: tuple[Period, ...], regular: bool) -> np.ndarray:
    payment = level_payment(cols.financed, cols.rate_units, cols.tenor, periods, regular)
    level = instalment_from_float(payment, cols.unit)
    balance = cols.financed.copy()
    for k, period in enumerate(periods):
        live = cols.running[k]
        owed = balance[:live]
        charge = period_profit(owed, cols.rate_units[:live], period, out=cols.profit[k])
        np.subtract(level[:live], charge, out=cols.principal[k])
        _settle(cols, k, owed)
    return level


def _flat(cols: _Columns, periods: tuple[Period, ...], regular: bool) -> np.ndarray:
    cumulative = np.cumsum([flat_weight(p, cols.per_year) for p in periods]).tolist()
    term = np.asarray(cumulative, dtype=np.int64)[cols.tenor - 1]
    markup = flat_markup(cols.financed, cols.rate_units, term, cols.per_year)
    level = unit_share(cols.financed + markup, cols.tenor, cols.unit)
    if regular:
        _flat_even_profit(cols, markup)
    else:
        _flat_weighted_profit(cols, markup, term, cumulative)
    balance = cols.financed.copy()
    for k in range(len(periods)):
        live = cols.running[k]
        np.subtract(level[:live], cols.profit[k], out=cols.principal[k])
        _settle(cols, k, balance[:live])
    return level


def _flat_weighted_profit(cols: _Columns, markup, term, cumulative: list[int]) -> None:
    """Spread markup in proportion to period length: earned to date minus earned before."""
    for k, (before, weight) in enumerate(zip([0, *cumulative], cumulative, strict=False)):
        live = cols.running[k]
        np.subtract(
            div_half_up(markup[:live] * weight, term[:live]),
            div_half_up(markup[:live] * before, term[:live]),
            out=cols.profit[k],
        )


def _flat_even_profit(cols: _Columns, markup: np.ndarray) -> None:
    """Spread markup evenly: div_half_up(markup x k, tenor) step by step, without dividing."""
    # markup x k / tenor = k x share + k x spare / tenor; the half-up rounding of the second
    # term gains at most one paisa a step, tracked by a remainder that wraps at 2 x tenor.
    share, spare = np.divmod(markup, cols.tenor)
    spare *= 2
    wrap = 2 * cols.tenor
    remainder = cols.tenor.copy()
    carry = np.empty_like(markup)
    for k in range(len(cols.profit)):
        live = cols.running[k]
        rem, step = remainder[:live], carry[:live]
        rem += spare[:live]
        # 0 or 1 as int64: mixing bool into int64 ufuncs would take numpy's slow casting path.
        np.greater_equal(rem, wrap[:live], out=step, casting="unsafe")
        np.add(share[:live], step, out=cols.profit[k])
        step *= wrap[:live]
        rem -= step


def _equal_principal(cols: _Columns, periods: tuple[Period, ...], regular: bool) -> np.ndarray:
    level = unit_share(cols.financed, cols.tenor, cols.unit)
    balance = cols.financed.copy()
    for k, period in enumerate(periods):
        live = cols.running[k]
        owed = balance[:live]
        period_profit(owed, cols.rate_units[:live], period, out=cols.profit[k])
        np.minimum(level[:live], owed, out=cols.principal[k])
        _settle(cols, k, owed, clip=False)  # min(level, owed) is already within [0, owed]
    return level
