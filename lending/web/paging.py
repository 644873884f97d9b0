"""Lists paged on the database side: a COUNT and one page of rows, never the whole table."""

from dataclasses import dataclass
from typing import Any

from flask import request, url_for
from marshmallow import Schema, ValidationError
from sqlalchemy import func
from sqlmodel import Session, select

from lending.schemas import flatten_errors
from lending.schemas.staff import form_args

PAGE_SIZE = 25


@dataclass(frozen=True)
class Page:
    """One page of a list, with what the pager needs to link the others."""

    rows: list
    total: int
    page: int
    size: int
    args: dict[str, Any]  # the list's filters, kept in the pager's links

    @property
    def pages(self) -> int:
        return max((self.total + self.size - 1) // self.size, 1)

    @classmethod
    def empty(cls, args: dict) -> "Page":
        """No rows: what a list shows while its filters are invalid."""
        return cls(rows=[], total=0, page=1, size=PAGE_SIZE, args={})

    def url(self, endpoint: str, page: int) -> str:
        """The link to another page of the same list with the same filters."""
        return url_for(endpoint, **{**self.args, "page": page})


def paginate(session: Session, query, page: int, args: dict, size: int = PAGE_SIZE) -> Page:
    """Count the query's rows and fetch one page of them, in the query's order."""
    total = session.exec(select(func.count()).select_from(query.order_by(None).subquery())).one()
    rows = session.exec(query.offset((page - 1) * size).limit(size)).all()
    kept = {k: v for k, v in args.items() if v not in (None, "") and k != "page"}
    return Page(rows=list(rows), total=total, page=page, size=size, args=kept)


def load_filters(schema: Schema, names: tuple[str, ...]) -> tuple[dict, dict]:
    """The list's filters from the query string, or the defaults and the field errors."""
    try:
        return schema.load(form_args(request.args, names)), {}
    except ValidationError as exc:
        return schema.load({}), flatten_errors(exc.messages)
