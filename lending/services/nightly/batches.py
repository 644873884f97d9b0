"""Stream loan ids in key order, a batch at a time, so memory stays flat at any book size."""

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from lending.models import Loan

BATCH = 10_000


def id_ranges(engine: Engine, where, batch: int = BATCH) -> Iterator[tuple[int, int]]:
    """Yield (first id, last id) of consecutive batches of loans matching `where`."""
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
        yield ids[0], ids[-1]
        last = ids[-1]
