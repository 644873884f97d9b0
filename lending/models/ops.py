"""Operational tables: the message outbox, the audit trail and nightly job runs."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from lending.models.base import created_at, enum_field, timestamp
from lending.models.enums import JobStatus, OutboxChannel, OutboxStatus


class OutboxMessage(SQLModel, table=True):
    """A message to send (SMS, e-mail, webhook); `dedupe_key` makes each one exist once."""

    __tablename__ = "outbox_messages"

    id: int | None = Field(default=None, primary_key=True)
    channel: OutboxChannel = enum_field(OutboxChannel)
    recipient: str = Field(max_length=500)
    subject: str = Field(default="", max_length=200)
    body: str = Field(default="")
    payload: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    dedupe_key: str = Field(max_length=160, unique=True)
    loan_id: int | None = Field(default=None, foreign_key="loans.id", index=True)
    status: OutboxStatus = enum_field(OutboxStatus, default=OutboxStatus.PENDING, index=True)
    attempts: int = Field(default=0)
    not_before: datetime | None = timestamp()
    sent_at: datetime | None = timestamp()
    last_error: str = Field(default="", max_length=1000)
    created_at: datetime = created_at()


class AuditEvent(SQLModel, table=True):
    """An append-only record of a state change or a security event."""

    __tablename__ = "audit_events"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = created_at()
    actor_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    action: str = Field(max_length=60, index=True)
    object_type: str = Field(default="", max_length=40)
    object_id: str = Field(default="", max_length=40)
    before: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    after: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    detail: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    ip: str = Field(default="", max_length=45)
    request_id: str = Field(default="", max_length=36)


class JobRun(SQLModel, table=True):
    """One run of one nightly step (or another job) for a business date."""

    __tablename__ = "job_runs"

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=60, index=True)
    as_of: date | None = Field(default=None)
    status: JobStatus = enum_field(JobStatus, default=JobStatus.RUNNING)
    counts: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    error: str = Field(default="", max_length=2000)
    started_at: datetime = created_at()
    finished_at: datetime | None = timestamp()
    duration_ms: int | None = Field(default=None)
