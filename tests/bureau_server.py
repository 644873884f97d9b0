"""A small credit bureau on 127.0.0.1 for the tests: real HTTP, not a mock object."""

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class BureauServer:
    """Serves `GET /reports/{cnic}` from `reports`; `delay` makes it slow, `fail` makes it 500."""

    def __init__(self):
        self.reports: dict[str, dict] = {}
        self.delay = 0.0
        self.fail = False
        self.requests: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> "BureauServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self):
        bureau = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the http.server API
                bureau.requests.append(self.path)
                if bureau.delay:
                    time.sleep(bureau.delay)
                cnic = self.path.rsplit("/", 1)[-1]
                if bureau.fail:
                    return self._send(500, {"error": "internal"})
                if cnic not in bureau.reports:
                    return self._send(404, {"error": "no file"})
                return self._send(200, bureau.reports[cnic])

            def _send(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                # The client may have given up waiting (the timeout test).
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(data)

            def log_message(self, *args):
                pass

        return Handler
