"""Outbox delivery: e-mail by SMTP, SMS by an HTTP gateway, device webhooks signed with HMAC.

A message is claimed (status `sending`, committed) before it is sent, so it is sent at most
once even if two deliverers run or one dies mid-send; a failure puts it back with a back-off.
People are never messaged inside quiet hours (default 20:00-09:00 Asia/Karachi).
"""

import hashlib
import hmac
import json
import smtplib
import urllib.request
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from email.message import EmailMessage
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from lending.models import OutboxMessage
from lending.models.enums import OutboxChannel, OutboxStatus
from lending.services.nightly.signals import still_due

MAX_ATTEMPTS = 6
PEOPLE = (OutboxChannel.SMS, OutboxChannel.EMAIL)


@dataclass(frozen=True)
class Delivery:
    """Where messages go and when people may be disturbed."""

    smtp_url: str = ""
    mail_from: str = "Qist <noreply@qist.invalid>"
    sms_gateway_url: str = ""
    device_webhook_url: str = ""
    device_webhook_secret: str = ""
    timezone: str = "Asia/Karachi"
    quiet_start: time = time(20, 0)
    quiet_end: time = time(9, 0)
    timeout: float = 10.0

    def quiet(self, now: datetime) -> bool:
        """True inside quiet hours, in the business time zone."""
        local = now.astimezone(ZoneInfo(self.timezone)).time()
        if self.quiet_start > self.quiet_end:  # the window spans midnight
            return local >= self.quiet_start or local < self.quiet_end
        return self.quiet_start <= local < self.quiet_end


def deliver(engine: Engine, *, now: datetime, config: Delivery, limit: int = 500) -> dict:
    """Send what is due now; return counts by outcome."""
    counts = {"sent": 0, "retry": 0, "failed": 0, "cancelled": 0, "quiet": 0}
    claimed = _claim(engine, now, config, limit, counts)
    for message_id in claimed:
        counts[_send_one(engine, message_id, now, config)] += 1
    return counts


def _claim(engine, now, config: Delivery, limit: int, counts: dict) -> list[int]:
    due = [
        OutboxMessage.status == OutboxStatus.PENDING,
        or_(OutboxMessage.not_before.is_(None), OutboxMessage.not_before <= now),
    ]
    if config.quiet(now):
        with Session(engine) as session:
            counts["quiet"] = session.execute(
                select(func.count())
                .select_from(OutboxMessage)
                .where(*due, OutboxMessage.channel.in_(PEOPLE))
            ).scalar_one()
        due.append(OutboxMessage.channel.not_in(PEOPLE))
    with Session(engine) as session, session.begin():
        rows = (
            session.execute(
                select(OutboxMessage)
                .where(*due)
                .order_by(OutboxMessage.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            .scalars()
            .all()
        )
        for message in rows:
            message.status, message.attempts = OutboxStatus.SENDING, message.attempts + 1
        return [m.id for m in rows]


def _send_one(engine: Engine, message_id: int, now: datetime, config: Delivery) -> str:
    with Session(engine) as session, session.begin():
        message = session.get(OutboxMessage, message_id)
        if not still_due(session, message):
            message.status = OutboxStatus.CANCELLED
            return "cancelled"
        try:
            SENDERS[message.channel](message, config)
        except Exception as exc:  # noqa: BLE001 - any transport failure is retried
            return _failed(message, now, exc)
        message.status, message.sent_at, message.last_error = OutboxStatus.SENT, now, ""
        return "sent"


def _failed(message: OutboxMessage, now: datetime, exc: Exception) -> str:
    message.last_error = f"{type(exc).__name__}: {exc}"[:1000]
    if message.attempts >= MAX_ATTEMPTS:
        message.status = OutboxStatus.FAILED
        return "failed"
    message.status = OutboxStatus.PENDING
    message.not_before = now + timedelta(minutes=2**message.attempts)  # 2, 4, 8, ... minutes
    return "retry"


def send_email(message: OutboxMessage, config: Delivery) -> None:
    """Send one e-mail through the SMTP server of SMTP_URL (smtp://host:port)."""
    if not config.smtp_url:
        raise RuntimeError("SMTP_URL is not set")
    url = urlparse(config.smtp_url)
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = config.mail_from, message.recipient, message.subject
    mail["Message-ID"] = f"<outbox-{message.id}@qist.invalid>"
    mail.set_content(message.body)
    with smtplib.SMTP(url.hostname, url.port or 25, timeout=config.timeout) as smtp:
        smtp.send_message(mail)


def _post_json(url: str, body: bytes, headers: dict, timeout: float) -> None:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json", **headers}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        response.read()


def send_sms(message: OutboxMessage, config: Delivery) -> None:
    """Hand one SMS to the HTTP gateway of SMS_GATEWAY_URL."""
    if not config.sms_gateway_url:
        raise RuntimeError("SMS_GATEWAY_URL is not set")
    body = json.dumps(
        {"to": message.recipient, "text": message.body, "id": message.dedupe_key}
    ).encode()
    _post_json(config.sms_gateway_url, body, {}, config.timeout)


def send_webhook(message: OutboxMessage, config: Delivery) -> None:
    """POST a device signal, signed: X-Signature = hex HMAC-SHA256 of the body."""
    if not config.device_webhook_url:
        raise RuntimeError("DEVICE_WEBHOOK_URL is not set")
    body = json.dumps(message.payload, sort_keys=True).encode()
    signature = hmac.new(config.device_webhook_secret.encode(), body, hashlib.sha256).hexdigest()
    _post_json(
        config.device_webhook_url,
        body,
        {"X-Signature": signature, "Idempotency-Key": message.dedupe_key},
        config.timeout,
    )


SENDERS = {
    OutboxChannel.EMAIL: send_email,
    OutboxChannel.SMS: send_sms,
    OutboxChannel.WEBHOOK: send_webhook,
}
