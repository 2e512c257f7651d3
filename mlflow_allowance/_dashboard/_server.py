"""The served dashboard: a small read-only HTTP server that reads MLflow afresh on every page load."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TextIO

__all__ = ["DEFAULT_HOST", "is_loopback", "make_server"]

DEFAULT_HOST = "127.0.0.1"


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address or ``localhost``.

    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, True, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def make_server(
    page: Callable[[], str], host: str = DEFAULT_HOST, port: int = 0, *, log: TextIO | None = None
) -> ThreadingHTTPServer:
    """A server answering ``GET /`` with ``page()`` (built on each request) and nothing else: any other
    method is refused, so the page cannot change MLflow. ``port`` 0 takes a free port (see
    ``server.server_address``)."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "mlflow-allowance-dashboard"

        def do_GET(self) -> None:
            if self.path.split("?", 1)[0] not in ("/", "/index.html"):
                self._send(HTTPStatus.NOT_FOUND, "text/plain; charset=utf-8", b"not found\n")
                return
            try:
                body = page().encode("utf-8")
            except Exception as exc:  # shown to the browser as one line; the server keeps running
                from mlflow_allowance.errors import redact

                message = f"cannot read MLflow: {redact(str(exc)).splitlines()[0] if str(exc) else exc!r}\n"
                self._send(HTTPStatus.BAD_GATEWAY, "text/plain; charset=utf-8", message.encode("utf-8"))
                return
            self._send(HTTPStatus.OK, "text/html; charset=utf-8", body)

        def do_HEAD(self) -> None:
            self._send(HTTPStatus.OK, "text/html; charset=utf-8", b"", length=0)

        def _refuse(self) -> None:
            self._send(HTTPStatus.METHOD_NOT_ALLOWED, "text/plain; charset=utf-8", b"read-only\n")

        do_POST = do_PUT = do_DELETE = do_PATCH = _refuse

        def _send(self, status: HTTPStatus, kind: str, body: bytes, length: int | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body) if length is None else length))
            self.send_header("Cache-Control", "no-store")
            self.send_header(
                "Content-Security-Policy",
                "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:",
            )
            if status == HTTPStatus.METHOD_NOT_ALLOWED:
                self.send_header("Allow", "GET, HEAD")
            self.end_headers()
            if body:
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            if log is not None:
                log.write(f"{self.address_string()} {format % args}\n")

    server_class = _IPv6Server if ":" in host else ThreadingHTTPServer
    server = server_class((host, port), Handler)
    server.daemon_threads = True
    return server


class _IPv6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6
