"""Structured JSON logs with the request id, and CNICs and phone numbers masked in every record."""

import json
import logging
import re
import sys
import time

from flask import Flask, Response, g, has_request_context, request

# 13-digit CNIC, with or without dashes (35202-1234567-3, 3520212345673).
CNIC = re.compile(r"(?<!\d)\d{5}-?\d{7}-?(\d)(?!\d)")
# Pakistani mobiles: +92 3xx..., 0092 3xx..., 03xx... with optional spaces or dashes.
MOBILE = re.compile(r"(?<![\d+])(?:\+92|0092|0)[\s-]?3\d{2}[\s-]?\d{5}(\d{2})(?!\d)")
REQUEST_LOG = logging.getLogger("lending.request")


def mask(text: str) -> str:
    """Hide CNICs (all but the last digit) and mobile numbers (all but the last two digits)."""
    text = CNIC.sub(lambda m: f"*****-*******-{m.group(1)}", text)
    return MOBILE.sub(lambda m: f"+92*******{m.group(1)}", text)


class MaskingFilter(logging.Filter):
    """Mask personal numbers in the message and add the request id to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = mask(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        record.request_id = g.get("request_id", "") if has_request_context() else ""
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request id, exception."""

    def format(self, record: logging.LogRecord) -> str:
        doc = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", ""),
        }
        if record.exc_text:
            doc["exception"] = record.exc_text
        return json.dumps(doc, ensure_ascii=False)


class LendingHandler(logging.StreamHandler):
    """The platform's log handler (recognised so that a second app does not add another)."""


def configure_logging(app: Flask) -> None:
    """Send every log record through the masking filter to stderr as JSON; log each request."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, LendingHandler)]:
        root.removeHandler(old)
    handler = LendingHandler(sys.stderr)
    handler.addFilter(MaskingFilter())
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(app.extensions["lending.settings"].log_level.upper())
    logging.getLogger("alembic").setLevel(logging.WARNING)  # one line per migration is noise
    register_request_log(app)


def register_request_log(app: Flask) -> None:
    """One line per request (method, path with query, status, duration); echo the request id."""

    @app.before_request
    def start_clock() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def log_request(response: Response) -> Response:
        elapsed = (time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000
        path = request.full_path.rstrip("?")
        REQUEST_LOG.info("%s %s %s %.0fms", request.method, path, response.status_code, elapsed)
        response.headers.setdefault("X-Request-Id", g.get("request_id", ""))
        return response
