"""Shared column helpers: every table gets constraint names that Alembic can manage."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Field, SQLModel

from lending.models.types import EnumText, Money, Rate, UTCDateTime, utcnow

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _typed(sa_type: Any, default: Any, optional: bool, kwargs: dict) -> Any:
    if default is None and not optional:
        return Field(sa_type=sa_type, nullable=False, **kwargs)  # required
    return Field(default=default, sa_type=sa_type, nullable=optional, **kwargs)


def money(default: Decimal | None = None, *, optional: bool = False, **kwargs: Any) -> Any:
    """A NUMERIC(14,2) money field (integer paisa on SQLite); required unless given a default."""
    return _typed(Money, default, optional, kwargs)


def rate(default: Decimal | None = None, *, optional: bool = False, **kwargs: Any) -> Any:
    """An exact rate or ratio field; required unless given a default."""
    return _typed(Rate, default, optional, kwargs)


def enum_field(enum_class, default=None, **kwargs: Any) -> Any:
    """A StrEnum field stored as text; never NULL."""
    return _typed(EnumText(enum_class), default, False, kwargs)


def created_at() -> Any:
    """The row's creation time, aware UTC."""
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


def timestamp(**kwargs: Any) -> Any:
    """An optional aware-UTC timestamp field."""
    return Field(default=None, sa_type=UTCDateTime, nullable=True, **kwargs)


__all__ = [
    "SQLModel",
    "Field",
    "datetime",
    "money",
    "rate",
    "enum_field",
    "created_at",
    "timestamp",
]
