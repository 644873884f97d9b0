"""Stream loan ids in key order, a batch at a time, so memory stays flat at any book size."""

from collections.abc import Iterator
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from lending.models import Loan

BATCH = 10_000


class KeyRange(NamedTuple):
    """The first and last id of a batch of loans, and how many loans it holds."""

    lo: int
    hi: int
    loans: int


def key_ranges(engine: Engine, where, batch: int = BATCH) -> Iterator[KeyRange]:
    """Yield consecutive batches of the loans matching `where`, in key order."""
    last = 0
    while True:
        with Session(engine) as session:
            ids = (
                session.exec(
                    select(Loan.id).where(where, Loan.id > last).order_by(Loan.id).limit(batch)
                )
                .scalars()
                .all()
            )
        if not ids:
            return
        yield KeyRange(ids[0], ids[-1], len(ids))
        last = ids[-1]


def id_ranges(engine: Engine, where, batch: int = BATCH) -> Iterator[tuple[int, int]]:
    """Yield (first id, last id) of consecutive batches of loans matching `where`."""
    for lo, hi, _loans in key_ranges(engine, where, batch):
        yield lo, hi
