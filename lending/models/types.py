"""Column types that keep money exact and times in UTC on SQLite and PostgreSQL alike."""

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from sqlalchemy import BigInteger, DateTime, Numeric, String
from sqlalchemy.types import TypeDecorator

PAISA = Decimal("0.01")


class Money(TypeDecorator):
    """NUMERIC(14,2) on PostgreSQL; integer paisa on SQLite, which has no exact decimal type.

    SQLite's NUMERIC affinity would turn "12.34" into a binary float, so there the column holds
    whole paisa: sums and comparisons in SQL stay exact, and values come back as Decimal.
    """

    impl = Numeric(14, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(14, 2, asdecimal=True))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("money must be Decimal, int or str, never float")
        amount = Decimal(value).quantize(PAISA, rounding=ROUND_HALF_UP)
        if dialect.name == "sqlite":
            return int(amount * 100)
        return amount

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-2)  # exactly two places, as quantize gives
        return Decimal(value).quantize(PAISA)

    def result_processor(self, dialect, coltype):
        # Reading whole paisa is the hot path of every servicing read (a replay check reads
        # millions of values a night): one plain function instead of TypeDecorator's wrapper.
        if dialect.name == "sqlite":
            return _paisa_to_rupees
        return super().result_processor(dialect, coltype)

    @property
    def python_type(self):
        return Decimal


def _paisa_to_rupees(value):
    return None if value is None else Decimal(int(value)).scaleb(-2)


class Rate(TypeDecorator):
    """An exact rate or ratio (percent, basis points, share): NUMERIC(9,4), text on SQLite."""

    impl = Numeric(9, 4)
    cache_ok = True
    _places = Decimal("0.0001")

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(24))
        return dialect.type_descriptor(Numeric(9, 4, asdecimal=True))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("rates must be Decimal, int or str, never float")
        rate = Decimal(value).quantize(self._places, rounding=ROUND_HALF_UP)
        return str(rate) if dialect.name == "sqlite" else rate

    def process_result_value(self, value, dialect):
        return None if value is None else Decimal(value).quantize(self._places)

    @property
    def python_type(self):
        return Decimal


class UTCDateTime(TypeDecorator):
    """A timestamp always stored and returned as aware UTC (SQLite drops the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @property
    def python_type(self):
        return datetime


class EnumText(TypeDecorator):
    """A StrEnum stored as its plain value (no database ENUM types to migrate)."""

    impl = String(32)
    cache_ok = True

    def __init__(self, enum_class: type[StrEnum], length: int = 32):
        super().__init__(length)
        self.enum_class = enum_class

    def process_bind_param(self, value, dialect):
        return None if value is None else self.enum_class(value).value

    def process_result_value(self, value, dialect):
        return None if value is None else self.enum_class(value)

    @property
    def python_type(self):
        return self.enum_class


def utcnow() -> datetime:
    """Now, as an aware UTC datetime."""
    return datetime.now(UTC)
