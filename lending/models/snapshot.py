"""Read-only copies of rows: what a cache may share between requests, or what a hot path
hands back after writing a row without building an ORM object for it."""

from typing import Any

from sqlalchemy import inspect


class Snapshot:
    """A read-only copy of a row's column values, read like the model's attributes."""

    __slots__ = ("_values", "_model")

    def __init__(self, row: Any) -> None:
        values = {attr.key: getattr(row, attr.key) for attr in inspect(type(row)).column_attrs}
        self._fill(type(row), values)

    @classmethod
    def of(cls, model: type, values: dict) -> "Snapshot":
        """A snapshot of a row just written from these values (no ORM object built)."""
        obj = cls.__new__(cls)
        obj._fill(model, values)
        return obj

    def _fill(self, model: type, values: dict) -> None:
        frozen = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
        object.__setattr__(self, "_values", frozen)
        object.__setattr__(self, "_model", model.__name__)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"{self._model} has no column {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"a snapshot of {self._model} is read-only")

    def __repr__(self) -> str:
        return f"Snapshot({self._model}, id={self._values.get('id')!r})"
