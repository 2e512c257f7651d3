"""The dashboard: environments, allowances, holders, metrics, parameters and the audit trail on one page.

``page`` builds the HTML (one self-contained document: script, styles and the vendored uPlot inlined, so
it opens with no network); ``write`` saves it to a file; ``serve`` answers it on a loopback port, read
afresh from MLflow on every load. Read-only throughout. Needs the ``dashboard`` extra (Jinja2).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from mlflow_allowance._dashboard._data import Dashboard, gather
from mlflow_allowance._dashboard._render import render, require_extra
from mlflow_allowance._dashboard._server import DEFAULT_HOST, is_loopback, make_server

if TYPE_CHECKING:
    from mlflow_allowance.client import AllowanceClient

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "Dashboard",
    "gather",
    "is_loopback",
    "page",
    "render",
    "require_extra",
    "serve",
    "write",
]

#: The port ``serve`` listens on unless told otherwise.
DEFAULT_PORT = 8765


def page(
    client: AllowanceClient,
    *,
    environments: Sequence[str] | None = None,
    models: Sequence[str] | None = None,
) -> str:
    """The dashboard of ``client``'s registry as one HTML document (``environments`` and ``models`` narrow
    it; default: every environment with an allowance or an audit record, every model in them)."""
    require_extra()
    return render(gather(client, environments=environments, models=models))


def write(
    path: str | Path,
    client: AllowanceClient,
    *,
    environments: Sequence[str] | None = None,
    models: Sequence[str] | None = None,
) -> Path:
    """Write the page to ``path`` (one self-contained HTML file) and return the path."""
    html = page(client, environments=environments, models=models)
    target = Path(path)
    target.write_text(html, encoding="utf-8")
    return target


def serve(
    client_factory: Callable[[], AllowanceClient],
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    environments: Sequence[str] | None = None,
    models: Sequence[str] | None = None,
    out: TextIO | None = None,
    ready: Callable[[str, Callable[[], None]], None] | None = None,
) -> None:
    """Serve the page on ``host:port`` until interrupted (Ctrl-C), reading MLflow on every load.

    ``out`` gets the URL and, for a host other than loopback, a warning that the page is reachable from
    other machines; ``ready`` is called with the URL and a function that stops the server once it
    listens (for tests and embedding; call that function from another thread: it waits for the loop).
    """
    require_extra()
    stream = out if out is not None else sys.stderr
    lock = threading.Lock()  # one MLflow read at a time: clients are not promised to be thread-safe

    def build() -> str:
        with lock:
            return page(client_factory(), environments=environments, models=models)

    server = make_server(build, host, port)
    bound_host, bound_port = str(server.server_address[0]), int(server.server_address[1])
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    url = f"http://{shown}:{bound_port}/"
    if not is_loopback(host):
        stream.write(
            f"warning: serving on {host}, not loopback: anyone who can reach this machine can read the page\n"
        )
    stream.write(f"dashboard on {url} (read-only; Ctrl-C stops it)\n")
    stream.flush()
    if ready is not None:
        ready(url, server.shutdown)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
