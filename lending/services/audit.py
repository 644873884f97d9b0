"""Append-only audit events for every state change or security event that matters.

An event is stamped with `at`, the caller's clock (the request's or the job's), so that a test
or a replayed night that pins the clock sees its events at that time. A caller that does not
pass `at` yet gets the current time (AuditEvent's column default).
"""

from datetime import datetime
from typing import Any

from sqlmodel import Session

from lending.models import AuditEvent
from lending.models.types import utcnow


def record(
    session: Session,
    *,
    action: str,
    actor_id: int | None = None,
    obj: Any = None,
    at: datetime | None = None,
    **extra: Any,
) -> AuditEvent:
    """Add an audit event at `at` (now if not given); `obj` names the object, extra keys go
    to before/after/detail/ip."""
    event = AuditEvent(
        action=action,
        actor_id=actor_id,
        object_type=getattr(obj, "__tablename__", "") if obj is not None else "",
        object_id=str(getattr(obj, "id", "") or "") if obj is not None else "",
        before=extra.get("before"),
        after=extra.get("after"),
        detail=extra.get("detail"),
        ip=extra.get("ip", "") or "",
        request_id=extra.get("request_id", "") or "",
    )
    if at is not None:
        event.at = at
    if "object_type" in extra:
        event.object_type, event.object_id = extra["object_type"], str(extra.get("object_id", ""))
    session.add(event)
    return event


def event_row(
    *,
    action: str,
    object_type: str,
    object_id,
    after: dict | None = None,
    actor_id: int | None = None,
    at: datetime | None = None,
    detail: dict | None = None,
) -> dict:
    """An audit event at `at` as a row for a bulk insert (the nightly steps write thousands);
    `at` should be the caller's clock, the current time is only for callers not passing it."""
    return {
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "before": None,
        "after": after,
        "detail": detail,
        "actor_id": actor_id,
        "at": at or utcnow(),
        "ip": "",
        "request_id": "",
    }


_INSERT = AuditEvent.__table__.insert()


def record_many(session: Session, rows: list[dict]) -> None:
    """Insert audit events in one statement (a prebuilt Core INSERT: the nightly steps write
    thousands, an application one); each row from `event_row`, stamped with its `at`."""
    if rows:
        session.connection().execute(_INSERT, rows)
