"""A loopback HTTP proxy in front of a real ``mlflow server`` that fails chosen requests.

Every request gets a number (0, 1, 2, ... in arrival order). A plan maps request numbers to faults:

- ``"500"``: answer HTTP 500 without forwarding (the server refused; nothing changed);
- ``"lost"``: forward the request, then close the connection without the answer (the change was made,
  but the client cannot know it: a timeout or a crash just after the server did its work);
- ``"dead"``: from this request on, close every connection unanswered (the server died).
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal
from urllib.parse import urlsplit

Fault = Literal["500", "lost", "dead"]
FAULTS: tuple[Fault, ...] = ("500", "lost", "dead")


class FaultProxy:
    """Forwards to ``upstream``; :meth:`plan` arms faults by request number; :attr:`log` lists requests."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._lock = threading.Lock()
        self._faults: dict[int, Fault] = {}
        self._dead_from: int | None = None
        self.log: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                return

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with proxy._lock:
                    number = len(proxy.log)
                    proxy.log.append(f"{self.command} {self.path.split('?')[0]}")
                    fault = proxy._faults.get(number)
                    if fault == "dead":
                        proxy._dead_from = number
                    dead = proxy._dead_from is not None and number >= proxy._dead_from
                if dead:
                    self.close_connection = True
                    return
                if fault == "500":
                    payload = b'{"error_code": "INTERNAL_ERROR", "message": "injected fault"}'
                    self.send_response(500)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                status, headers, answer = proxy._forward(self.command, self.path, dict(self.headers), body)
                if fault == "lost":
                    self.close_connection = True
                    return
                self.send_response(status)
                for key, value in headers:
                    if key.lower() not in {"transfer-encoding", "connection", "content-length"}:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.uri = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def plan(self, faults: dict[int, Fault] | None = None) -> None:
        """Forget the log and arm ``faults`` (request number → fault) for the requests to come."""
        with self._lock:
            self.log.clear()
            self._faults = dict(faults or {})
            self._dead_from = None

    def _forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(self._host, self._port, timeout=60)
        try:
            headers = {k: v for k, v in headers.items() if k.lower() not in {"host", "connection"}}
            connection.request(method, path, body=body or None, headers=headers)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def fault_proxy(upstream: str) -> Iterator[FaultProxy]:
    """A running :class:`FaultProxy` in front of ``upstream``, stopped on exit."""
    proxy = FaultProxy(upstream)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()
