"""Real peers for the outbox tests: an SMTP server (aiosmtpd) and an HTTP sink."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


class Mailbox:
    """Collects every message the SMTP server receives."""

    def __init__(self):
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook
        from email import message_from_bytes
        from email.policy import default

        self.messages.append(message_from_bytes(envelope.content, policy=default))
        return "250 OK"


def smtp_server() -> tuple[Controller, Mailbox]:
    """Start an SMTP server on 127.0.0.1 with a free port."""
    mailbox = Mailbox()
    with socket.socket() as probe:  # aiosmtpd checks its own port, so it needs a real one
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, mailbox


class HttpSink:
    """Records JSON POSTs with their headers; `status` makes it fail."""

    def __init__(self):
        self.requests: list[tuple[dict, bytes]] = []
        self.status = 200
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server API
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                if sink.status == 200:
                    sink.requests.append((dict(self.headers), raw))
                self.send_response(sink.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/"

    def json(self, i: int) -> dict:
        return json.loads(self.requests[i][1])

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
