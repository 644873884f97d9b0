"""Outbox delivery to real peers: SMTP, an SMS gateway, a device webhook; at most once."""

import hashlib
import hmac
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from lending.db import get_engine
from lending.models import OutboxMessage
from lending.models.enums import OutboxChannel
from lending.services.outbox import Delivery, deliver
from tests import factories as f
from tests.message_servers import HttpSink, smtp_server

DAYTIME = datetime(2026, 12, 25, 6, 0, tzinfo=UTC)  # 11:00 in Karachi
EVENING = datetime(2026, 12, 25, 16, 30, tzinfo=UTC)  # 21:30 in Karachi: quiet hours


@pytest.fixture
def peers():
    controller, mailbox = smtp_server()
    sms, devices = HttpSink(), HttpSink()
    config = Delivery(smtp_url=f"smtp://127.0.0.1:{controller.port}", sms_gateway_url=sms.url,
                      device_webhook_url=devices.url, device_webhook_secret="s3cret")
    yield config, mailbox, sms, devices
    controller.stop()
    sms.stop()
    devices.stop()


def messages(session):
    loan = f.LoanFactory(device_locked=True, days_past_due=31)
    f.OutboxMessageFactory(channel=OutboxChannel.EMAIL, recipient="sana@example.pk",
                           subject="Phone loan 1: instalment 2 of 6",
                           body="Rs 4,265.00 is due on 28 Jan 2027.", dedupe_key="r:1:email")
    f.OutboxMessageFactory(channel=OutboxChannel.SMS, recipient="+923001234567",
                           body="Qist: Rs 4,265.00 is due today.", dedupe_key="r:1:sms")
    f.OutboxMessageFactory(channel=OutboxChannel.WEBHOOK, recipient="device", loan_id=loan.id,
                           subject="lock", dedupe_key="device:1:lock",
                           payload={"event": "lock", "loan_id": loan.id, "imei": loan.imei})
    return loan


def test_email_sms_and_signed_webhook_are_delivered_once(app, session, peers):
    config, mailbox, sms, devices = peers
    messages(session)
    counts = deliver(get_engine(app), now=DAYTIME, config=config)
    assert counts["sent"] == 3
    [mail] = mailbox.messages
    assert mail["To"] == "sana@example.pk"
    assert mail["Subject"] == "Phone loan 1: instalment 2 of 6"
    assert mail.get_content().strip() == "Rs 4,265.00 is due on 28 Jan 2027."
    assert sms.json(0) == {"to": "+923001234567", "text": "Qist: Rs 4,265.00 is due today.",
                           "id": "r:1:sms"}
    headers, raw = devices.requests[0]
    expected = hmac.new(b"s3cret", raw, hashlib.sha256).hexdigest()
    assert headers["X-Signature"] == expected
    assert deliver(get_engine(app), now=DAYTIME, config=config)["sent"] == 0
    assert len(mailbox.messages) == 1 and len(sms.requests) == 1 and len(devices.requests) == 1


def test_people_are_not_messaged_in_quiet_hours_but_devices_are(app, session, peers):
    config, mailbox, sms, devices = peers
    messages(session)
    counts = deliver(get_engine(app), now=EVENING, config=config)
    assert (counts["sent"], counts["quiet"]) == (1, 2)
    assert mailbox.messages == [] and sms.requests == [] and len(devices.requests) == 1
    assert deliver(get_engine(app), now=DAYTIME, config=config)["sent"] == 2
    assert len(mailbox.messages) == 1 and len(sms.requests) == 1


def test_a_failed_send_is_retried_later_with_back_off_and_then_sent_once(app, session, peers):
    config, _mailbox, sms, _devices = peers
    f.OutboxMessageFactory(channel=OutboxChannel.SMS, dedupe_key="r:9:sms")
    sms.status = 503
    assert deliver(get_engine(app), now=DAYTIME, config=config)["retry"] == 1
    session.expire_all()
    message = session.exec(select(OutboxMessage)).one()
    assert message.status == "pending" and message.attempts == 1
    assert message.not_before > DAYTIME and "503" in message.last_error
    sms.status = 200
    assert deliver(get_engine(app), now=DAYTIME, config=config)["sent"] == 0  # not yet
    later = message.not_before
    assert deliver(get_engine(app), now=later, config=config)["sent"] == 1
    assert len(sms.requests) == 1


def test_a_lock_for_a_loan_cured_before_delivery_is_cancelled(app, session, peers):
    config, _mailbox, _sms, devices = peers
    loan = messages(session)
    loan.device_locked, loan.days_past_due = False, 0  # the night saw the payment
    session.commit()
    counts = deliver(get_engine(app), now=DAYTIME, config=config)
    assert counts["cancelled"] == 1 and devices.requests == []


def test_claimed_message_is_never_sent_twice(app, session, peers):
    config, mailbox, _sms, _devices = peers
    f.OutboxMessageFactory(channel=OutboxChannel.EMAIL, recipient="a@b.pk", subject="s",
                           dedupe_key="r:5:email", status="sending", attempts=1)
    assert deliver(get_engine(app), now=DAYTIME, config=config)["sent"] == 0
    assert mailbox.messages == []
