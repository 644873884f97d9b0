"""Geometry of the server-rendered SVG bar charts: whole SVG units from Decimal amounts."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

ROW = 26  # SVG units per bar
LABEL = 66  # width of the label column
BAR_MAX = 196  # the longest bar; its value text follows (the view box is 320 wide)


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its length and place, the short value beside it and the exact one."""

    label: str
    width: int
    y: int
    text: str
    title: str
    tone: str = ""

    @property
    def x(self) -> int:
        return LABEL

    @property
    def text_x(self) -> int:
        """Where the value text starts: just after the bar."""
        return LABEL + self.width + 4


def short_amount(amount: Decimal) -> str:
    """A compact rupee amount for a bar's end: 950, 41.2K, 1.23M."""
    for size, suffix, places in ((10**6, "M", "0.01"), (10**3, "K", "0.1")):
        if abs(amount) >= size:
            return f"{(amount / size).quantize(Decimal(places), ROUND_HALF_UP)}{suffix}"
    return f"{amount.quantize(Decimal('1'), ROUND_HALF_UP)}"


def bar_width(value: Decimal | int, largest: Decimal | int) -> int:
    """The bar's length in SVG units: proportional, at least 1 for any non-zero value."""
    if not largest or not value:
        return 0
    width = (Decimal(value) * BAR_MAX / Decimal(largest)).to_integral_value(ROUND_HALF_UP)
    return max(int(width), 1)


def bars(items: list[tuple[str, Decimal | int, str, str]], tones: dict | None = None) -> list[Bar]:
    """Bars for (label, value, short text, exact title) items, scaled to the largest value."""
    largest = max((value for _, value, _, _ in items), default=0)
    return [
        Bar(label, bar_width(value, largest), i * ROW, text, title, (tones or {}).get(label, ""))
        for i, (label, value, text, title) in enumerate(items)
    ]


def height(chart: list[Bar]) -> int:
    """The view box height of a chart."""
    return max(len(chart), 1) * ROW + 4
