"""Quiet hours at their edges: 20:00-09:00 in Karachi (UTC+5), people only, devices always.

Karachi has no daylight saving, so the edges in UTC are fixed: 19:59 PKT = 14:59 UTC (sent),
20:00 PKT = 15:00 UTC (held), 00:00 PKT = 19:00 UTC the day before (held), 08:59 PKT =
03:59 UTC (held), 09:00 PKT = 04:00 UTC (sent). Each case hands one SMS and one e-mail to the
outbox and runs the real deliverer against a local SMS gateway and SMTP server.
"""

from dataclasses import replace
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from lending.db import get_engine
from lending.jobs.nightly import delivery_config
from lending.models import OutboxMessage
from lending.models.enums import OutboxChannel, OutboxStatus
from lending.services.outbox import Delivery, deliver
from tests import factories as f
from tests.message_servers import HttpSink, smtp_server

KARACHI = ZoneInfo("Asia/Karachi")


def at(hour: int, minute: int, day: int = 25) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=KARACHI)


EDGES = [
    # (Karachi time, the same moment in UTC, sent?)
    (at(19, 59), datetime(2026, 12, 25, 14, 59, tzinfo=UTC), True),
    (at(20, 0), datetime(2026, 12, 25, 15, 0, tzinfo=UTC), False),
    (at(23, 59), datetime(2026, 12, 25, 18, 59, tzinfo=UTC), False),
    (at(0, 0, 26), datetime(2026, 12, 25, 19, 0, tzinfo=UTC), False),
    (at(0, 1, 26), datetime(2026, 12, 25, 19, 1, tzinfo=UTC), False),
    (at(8, 59, 26), datetime(2026, 12, 26, 3, 59, tzinfo=UTC), False),
    (at(9, 0, 26), datetime(2026, 12, 26, 4, 0, tzinfo=UTC), True),
]
IDS = [f"{local:%H:%M}" for local, _, _ in EDGES]


@pytest.mark.parametrize(("local", "utc", "sent"), EDGES, ids=IDS)
def test_the_default_window_is_20_to_9_karachi(local, utc, sent):
    assert local == utc
    assert Delivery().quiet(utc) is not sent
    assert Delivery(timezone="Asia/Karachi").quiet(local) is not sent


@pytest.fixture
def peers(app):
    controller, mailbox = smtp_server()
    sms = HttpSink()
    # The app's own settings (QUIET_HOURS "20:00-09:00", Asia/Karachi) with the local peers.
    settings = replace(
        app.extensions["lending.settings"],
        smtp_url=f"smtp://127.0.0.1:{controller.port}",
        sms_gateway_url=sms.url,
    )
    config = delivery_config(settings)
    assert (config.quiet_start, config.quiet_end) == (time(20, 0), time(9, 0))
    yield config, mailbox, sms
    controller.stop()
    sms.stop()


@pytest.mark.parametrize(("local", "utc", "sent"), EDGES, ids=IDS)
def test_messages_are_held_or_sent_at_the_edges(app, session, peers, local, utc, sent):
    config, mailbox, sms = peers
    f.OutboxMessageFactory(
        channel=OutboxChannel.SMS,
        recipient="+923001234567",
        body="Qist: due today.",
        dedupe_key="q:sms",
    )
    f.OutboxMessageFactory(
        channel=OutboxChannel.EMAIL,
        recipient="sana@example.pk",
        subject="Due today",
        body="Rs 6,990.00 is due today.",
        dedupe_key="q:email",
    )
    counts = deliver(get_engine(app), now=utc, config=config)
    assert (counts["sent"], counts["quiet"]) == ((2, 0) if sent else (0, 2))
    assert len(sms.requests) == len(mailbox.messages) == (1 if sent else 0)
    session.expire_all()
    statuses = {m.status for m in session.exec(select(OutboxMessage)).all()}
    assert statuses == {OutboxStatus.SENT if sent else OutboxStatus.PENDING}
    if not sent:  # held, not dropped: the next morning at 09:00 they go, once
        morning = deliver(get_engine(app), now=at(9, 0, 26), config=config)
        assert morning["sent"] == 2 and len(sms.requests) == len(mailbox.messages) == 1
