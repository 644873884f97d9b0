"""Reference data kept in memory: products, the device registry, incentive programmes.

Every application and quote reads a product, the phone's TAC and the live programmes; they
change a few times a month. Each process keeps what it read for `reference_cache_seconds`
(10 s by default, 0 turns the cache off) and forgets all of it the moment a session in the
process writes such a row (an ORM flush or commit touching one of `REFERENCE_MODELS`); other
processes see a change within the time to live. Values are read-only snapshots, never a
session's objects, so no request can change them or drag them into its own session.

Budgets stay in the database: a cached programme's counters only skip one already spent; the
budget itself is taken by a conditional UPDATE (`incentives.reserve`), which forgets the cache
when it finds a programme exhausted.
"""

import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from lending.models import (
    DeviceModel,
    DeviceTac,
    GLAccount,
    GLProductAccount,
    IncentiveProgramme,
    Manufacturer,
    Product,
    ProductVersion,
)

REFERENCE_MODELS = (
    Product,
    ProductVersion,
    Manufacturer,
    DeviceModel,
    DeviceTac,
    IncentiveProgramme,
    GLAccount,
    GLProductAccount,
)
_WROTE = "lending.reference_written"


class ReferenceCache:
    """Values by key for `ttl` seconds, at most `size` of them (the oldest go first);
    `forget` drops everything, and any load that was racing it."""

    def __init__(self, ttl: float, size: int = 10_000) -> None:
        self.ttl, self.size = ttl, size
        self._entries: dict[Any, tuple[float, Any]] = {}
        self._generation = 0
        self._lock = threading.Lock()

    def get(self, key: Any, load: Callable[[], Any]) -> Any:
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > now:
            return entry[1]
        generation = self._generation
        value = load()
        with self._lock:
            # A write in this process while we loaded may have made the value stale: keep it
            # for this caller only.
            if self.ttl > 0 and generation == self._generation:
                self._entries.pop(key, None)
                self._entries[key] = (now + self.ttl, value)
                if len(self._entries) > self.size:  # unknown TACs must not grow it forever
                    del self._entries[next(iter(self._entries))]
        return value

    def forget(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()


_CACHES: "weakref.WeakKeyDictionary[Engine, ReferenceCache]" = weakref.WeakKeyDictionary()
_NO_CACHE = ReferenceCache(0)


def attach(engine: Engine, ttl: float) -> ReferenceCache:
    """Give an engine its cache (the app does this once; other engines read through)."""
    cache = _CACHES[engine] = ReferenceCache(ttl)
    return cache


def cache_for(session: Session) -> ReferenceCache:
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else getattr(bind, "engine", None)
    return _CACHES.get(engine, _NO_CACHE) if engine is not None else _NO_CACHE


def forget(session: Session) -> None:
    """Drop what this process cached for the session's database."""
    cache_for(session).forget()


def cached(session: Session, key: Any, load: Callable[[], Any]) -> Any:
    """The value under `key`, loaded with `load()` when missing or expired."""
    return cache_for(session).get(key, load)


def _touches_reference(session: Session) -> bool:
    return any(
        isinstance(obj, REFERENCE_MODELS)
        for obj in (*session.new, *session.dirty, *session.deleted)
    )


@event.listens_for(Session, "before_flush")
def _note_reference_writes(session: Session, _context, _instances) -> None:
    if _touches_reference(session):
        session.info[_WROTE] = True
        forget(session)


@event.listens_for(Session, "after_commit")
def _forget_after_commit(session: Session) -> None:
    # Between the flush and the commit another request may have cached the old rows again.
    if session.info.pop(_WROTE, False):
        forget(session)


@event.listens_for(Session, "after_rollback")
def _clear_mark(session: Session) -> None:
    session.info.pop(_WROTE, None)
