"""Stream loan ids in key order, a batch at a time, so memory stays flat at any book size; and
run a step's batches in several processes that claim them from the database."""

import multiprocessing
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from datetime import date
from typing import NamedTuple

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from lending.models import JobBatch, Loan

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


# A batch's work: (session, lo, hi, *args) -> counts; module-level, so a process can run it.
Work = Callable[..., dict]


_POOL: ContextVar[ProcessPoolExecutor | None] = ContextVar("nightly_pool", default=None)


@contextmanager
def worker_pool(workers: int) -> Iterator[None]:
    """Keep one pool of `workers` processes for the parallel steps run inside the block (a
    night's ageing and replay check): starting a process and importing the package costs
    seconds, paid once instead of per step."""
    if workers <= 1:
        yield
        return
    from lending import regulation

    with ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=regulation.activate,  # the parent's profile, whatever set it
        initargs=(regulation.active().code,),
    ) as pool:
        token = _POOL.set(pool)
        try:
            yield
        finally:
            _POOL.reset(token)


def run_parallel(
    engine: Engine, job: str, as_of: date, ranges: Iterable[KeyRange], work: Work, *args, **pool
) -> dict:
    """Run `work` over the ranges in `pool["workers"]` processes on `pool["database_url"]`
    (PostgreSQL): the ranges are written as the job's batches, and each process claims them
    with FOR UPDATE SKIP LOCKED, committing each batch with its `done` mark. The summed counts.
    The processes are the block's `worker_pool`, or started for this step.
    """
    workers, url = pool["workers"], pool["database_url"]
    with Session(engine) as session, session.begin():
        session.execute(delete(JobBatch).where(JobBatch.job == job, JobBatch.as_of == as_of))
        session.add_all(JobBatch(job=job, as_of=as_of, lo=r.lo, hi=r.hi) for r in ranges)
    try:
        with ExitStack() as stack:
            executor = _POOL.get()
            if executor is None:
                stack.enter_context(worker_pool(workers))
                executor = _POOL.get()
            futures = [
                executor.submit(claim_batches, url, job, as_of, work, args) for _ in range(workers)
            ]
            done = [future.result() for future in futures]
    except Exception as exc:  # a worker's error, or a worker killed (BrokenProcessPool)
        raise RuntimeError(f"a {job} worker failed ({exc}); run the night again") from exc
    return dict(sum((Counter(d) for d in done), Counter()))


def claim_batches(database_url: str, job: str, as_of: date, work: Work, args: tuple) -> dict:
    """In a worker process: claim the job's undone batches until none is left."""
    from lending.db import make_engine

    engine = make_engine(database_url)
    counts: Counter = Counter()
    try:
        while True:
            with Session(engine) as session, session.begin():
                batch = session.execute(
                    select(JobBatch)
                    .where(JobBatch.job == job, JobBatch.as_of == as_of, ~JobBatch.done)
                    .order_by(JobBatch.id)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                ).scalar_one_or_none()
                if batch is None:
                    break
                counts.update(work(session, batch.lo, batch.hi, *args))
                batch.done = True
    finally:
        engine.dispose()
    return dict(counts)
