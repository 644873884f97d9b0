"""Coarse classing for training: quantile bins and categories, each with its weight of evidence.

WoE of a bin = ln(share of all goods in it / share of all bads in it) (Siddiqi's convention:
positive means better than average). `smoothing` is added to every bin's good and bad counts
so that a small bin never gives an infinite WoE. Numeric bins are merged with a neighbour until
each holds goods and bads and at least `min_bin_share` of the rows; categories rarer than that
share go to "other", which also takes categories first seen after training (neutral WoE 0
when no training row fell there). Blank numeric values get a bin of their own.
"""

import math
from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from lending.scoring.bands import AttributeKind


@dataclass(frozen=True)
class BinningConfig:
    """How finely to class: bins per numeric column, smallest bin share, WoE smoothing."""

    max_bins: int = 10
    min_bin_share: float = 0.05  # Siddiqi's rule of thumb: no bin under 5% of the rows
    smoothing: float = 0.5


@dataclass(frozen=True)
class Binning:
    """How one column's values fall in bins, and each bin's WoE.

    Bins are numbered: numeric 0..len(uppers) by value, then one for blanks; categorical one
    per kept category, then "other". `woe` has one entry per bin in that order.
    """

    name: str
    kind: AttributeKind
    uppers: tuple[Decimal, ...] = ()  # numeric: bounds between consecutive bins
    groups: tuple[str, ...] = ()  # categorical: the kept categories
    woe: tuple[float, ...] = ()
    counts: tuple[int, ...] = ()  # training rows per bin, same order
    has_missing: bool = False  # numeric: the column has blanks (a missing band is written)

    def index(self, raw: str) -> int:
        """Return the bin of a raw CSV value."""
        text = raw.strip()
        if self.kind is AttributeKind.CATEGORICAL:
            return self.groups.index(text) if text in self.groups else len(self.groups)
        return len(self.uppers) + 1 if not text else bisect_right(self.uppers, Decimal(text))

    @property
    def informative(self) -> bool:
        """Tell whether training rows fell in at least two bins (else it separates nothing)."""
        return sum(1 for c in self.counts if c) >= 2


def is_numeric(values: Sequence[str]) -> bool:
    """Tell whether every non-blank value is a finite number (and at least one is)."""
    seen = False
    for value in values:
        text = value.strip()
        if not text:
            continue
        try:
            if not Decimal(text).is_finite():
                return False
        except InvalidOperation:
            return False
        seen = True
    return seen


def bin_numeric(
    name: str,
    values: Sequence[str],
    bads: Sequence[int],
    config: BinningConfig,
    has_missing: bool,
) -> Binning:
    """Class a numeric column: quantile bins merged until each is big and mixed enough."""
    present = sorted((Decimal(v), y) for v, y in zip(values, bads, strict=True) if v.strip())
    ordered = [v for v, _ in present]
    uppers = _quantile_uppers(ordered, config.max_bins)
    good, bad = _count(uppers, present)
    _merge(uppers, good, bad, math.ceil(config.min_bin_share * len(values)))
    blanks = [y for v, y in zip(values, bads, strict=True) if not v.strip()]
    good.append(len(blanks) - sum(blanks))
    bad.append(sum(blanks))
    return Binning(
        name,
        AttributeKind.NUMERIC,
        uppers=tuple(uppers),
        woe=weights_of_evidence(good, bad, config.smoothing),
        counts=tuple(g + b for g, b in zip(good, bad, strict=True)),
        has_missing=has_missing,
    )


def _quantile_uppers(ordered: list[Decimal], max_bins: int) -> list[Decimal]:
    # Bounds are observed values, so they are exact and read back as written.
    if not ordered:
        return []
    n = len(ordered)
    cuts = {ordered[k * n // max_bins] for k in range(1, max_bins)}
    return sorted(c for c in cuts if c > ordered[0])


def _count(uppers: list[Decimal], present: list[tuple[Decimal, int]]) -> tuple[list, list]:
    good, bad = [0] * (len(uppers) + 1), [0] * (len(uppers) + 1)
    for value, y in present:
        i = bisect_right(uppers, value)
        bad[i] += y
        good[i] += 1 - y
    return good, bad


def _merge(uppers: list[Decimal], good: list[int], bad: list[int], min_rows: int) -> None:
    """Merge bins in place until each has goods, bads and min_rows rows (or one is left)."""
    while uppers:
        weak = [
            i for i in range(len(good)) if not good[i] or not bad[i] or good[i] + bad[i] < min_rows
        ]
        if not weak:
            return
        i = weak[0]
        if i == 0:
            j = 1
        elif i == len(good) - 1:
            j = i - 1
        else:  # the smaller neighbour, so merged bins stay balanced
            j = i - 1 if good[i - 1] + bad[i - 1] <= good[i + 1] + bad[i + 1] else i + 1
        keep, gone = min(i, j), max(i, j)
        good[keep] += good.pop(gone)
        bad[keep] += bad.pop(gone)
        uppers.pop(keep)


def bin_categorical(
    name: str, values: Sequence[str], bads: Sequence[int], config: BinningConfig
) -> Binning:
    """Class a categorical column: one bin per common category, the rare ones in "other"."""
    texts = [v.strip() for v in values]
    sizes = Counter(texts)
    min_rows = math.ceil(config.min_bin_share * len(texts))
    groups = tuple(sorted(c for c, size in sizes.items() if size >= min_rows))
    good, bad = [0] * (len(groups) + 1), [0] * (len(groups) + 1)
    position = {c: i for i, c in enumerate(groups)}
    for text, y in zip(texts, bads, strict=True):
        i = position.get(text, len(groups))
        bad[i] += y
        good[i] += 1 - y
    return Binning(
        name,
        AttributeKind.CATEGORICAL,
        groups=groups,
        woe=weights_of_evidence(good, bad, config.smoothing),
        counts=tuple(g + b for g, b in zip(good, bad, strict=True)),
    )


def weights_of_evidence(
    good: Sequence[int], bad: Sequence[int], smoothing: float
) -> tuple[float, ...]:
    """Return the smoothed WoE of each bin; an empty bin gets 0 (the population's odds)."""
    used = sum(1 for g, b in zip(good, bad, strict=True) if g + b)
    total_good = sum(good) + smoothing * used
    total_bad = sum(bad) + smoothing * used
    return tuple(
        math.log(((g + smoothing) / total_good) / ((b + smoothing) / total_bad)) if g + b else 0.0
        for g, b in zip(good, bad, strict=True)
    )
