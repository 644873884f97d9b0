"""Privacy in the logs: CNICs and mobile numbers masked, JSON lines with the request id."""

import io
import json
import logging

import pytest
from flask import g

from lending.logging import LendingHandler, mask

CNIC, MOBILE = "35202-1234567-3", "0301 2345678"


@pytest.mark.parametrize(
    ("text", "shown", "hidden"),
    [
        ("cnic 35202-1234567-3 refused", "*****-*******-3", "1234567"),
        ("cnic 3520212345673 refused", "*****-*******-3", "352021234567"),
        ("sms to +923012345678 queued", "+92*******78", "30123456"),
        ("sms to 0301-2345678 queued", "+92*******78", "2345678"),
        ("sms to 0092 301 2345678", "+92*******78", "2345678"),
    ],
)
def test_personal_numbers_are_masked(text, shown, hidden):
    assert shown in mask(text)
    assert hidden not in mask(text)


def test_other_numbers_are_left_alone():
    text = "imei 353327160000013 amount 54999.00 loan 1234567 date 2026-11-28"
    assert mask(text) == text


@pytest.fixture
def log_lines():
    """What the platform's log handler writes, as parsed JSON lines."""
    [handler] = [h for h in logging.getLogger().handlers if isinstance(h, LendingHandler)]
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    handler.setStream(previous)


def test_request_log_masks_the_cnic_and_carries_the_request_id(client, log_lines):
    url = f"/portal/activate?cnic={CNIC}&mobile={MOBILE}"
    response = client.get(url, headers={"X-Request-Id": "req-7f3a"})
    assert response.headers["X-Request-Id"] == "req-7f3a"
    [line] = [line for line in log_lines() if line["logger"] == "lending.request"]
    assert line["request_id"] == "req-7f3a"
    assert line["message"].startswith("GET /portal/activate?cnic=*****-*******-3")
    assert " 200 " in line["message"]
    assert "1234567" not in json.dumps(log_lines())


def test_every_record_is_masked_also_arguments_and_tracebacks(app, log_lines):
    with app.test_request_context("/"):
        g.request_id = "req-err-1"
        try:
            raise ValueError(f"no applicant with CNIC {CNIC}")
        except ValueError:
            logging.getLogger("lending.anything").exception("lookup for %s failed", "+923012345678")
    [line] = log_lines()
    assert (line["level"], line["request_id"]) == ("ERROR", "req-err-1")
    assert line["message"] == "lookup for +92*******78 failed"
    assert "*****-*******-3" in line["exception"]
    assert CNIC not in json.dumps(line) and "3012345678" not in json.dumps(line)
