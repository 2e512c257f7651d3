"""Helpers for tests and benchmarks: a real ``mlflow server`` on a free loopback port, and the registry
protocol (:class:`RegistryProtocol`, :class:`RegisteredModel`) a fake registry implements to stand in for
MLflow: ``AllowanceClient(registry=MyRegistry())``.

The standard library and the pure core only; ``mlflow`` is never imported here, the server runs as
``python -m mlflow server`` in a child process: of the current interpreter by default (so ``mlflow`` must be
installed there, not just ``mlflow-skinny``), or of another one, e.g. a venv holding an older MLflow.

>>> from mlflow_allowance.testing import free_port
>>> 0 < free_port() < 65536
True
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mlflow_allowance._seam import RegisteredModel, RegistryProtocol

__all__ = ["RegisteredModel", "RegistryProtocol", "free_port", "local_server"]

_POLL_S = 0.2


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it; another process may still
    take it before you bind it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def local_server(
    root: Path,
    *,
    backend_store_uri: str | None = None,
    port: int | None = None,
    timeout: float = 60,
    workers: int = 1,
    python: str | Path | None = None,
) -> Iterator[str]:
    """Run ``mlflow server`` (proxied artifacts) for the duration of a ``with`` block.

    Yields the server's URI, ``http://127.0.0.1:PORT``, once ``/health`` answers; on exit, stops the
    server's whole process group (SIGTERM, then SIGKILL).

    :param root: working directory of the server; holds ``server.log``, ``artifacts/`` and, unless
        ``backend_store_uri`` is given, the sqlite store ``mlflow.db``. Created if missing.
    :param backend_store_uri: the server's backend store, e.g. ``sqlite:////abs/path/mlflow.db``
        (default ``sqlite:///<root>/mlflow.db``). The server migrates it and writes to it.
    :param port: the port to listen on (default: :func:`free_port`).
    :param timeout: seconds to wait for ``/health``.
    :param workers: server worker processes (requests of one client may land on different ones).
    :param python: the interpreter whose ``-m mlflow server`` runs (default: ``sys.executable``), e.g.
        ``/path/to/venv-mlflow-2.9/bin/python`` to serve with another MLflow version. It needs the full
        ``mlflow`` package, and the driver of a database ``backend_store_uri`` (``psycopg2``, ``pymysql``).
        The flags used here (``--backend-store-uri``, ``--artifacts-destination``, ``--host``, ``--port``,
        ``--workers``) are the same in ``mlflow server`` 2.9 and 3.x.
    :raises RuntimeError: if the server exits or is not healthy within ``timeout``, or ``python`` cannot
        be run; the message holds the server's log (or why ``python`` could not start).

    Example (not run as a doctest: it starts a server, which takes seconds)::

        with local_server(tmp_path) as uri:
            client = AllowanceClient(tracking_uri=uri)
            client.select("prod", "my-model", metric="F1")

    ``MLFLOW_TRACKING_URI`` and ``MLFLOW_REGISTRY_URI`` are removed from the server's environment, its
    job runner and telemetry are turned off.
    """
    root = Path(root).resolve()
    root.mkdir(parents=True, exist_ok=True)
    port = free_port() if port is None else port
    uri = f"http://127.0.0.1:{port}"
    interpreter = sys.executable if python is None else os.fspath(python)
    cmd = [
        interpreter, "-m", "mlflow", "server",
        "--backend-store-uri", backend_store_uri or f"sqlite:///{root / 'mlflow.db'}",
        "--artifacts-destination", str(root / "artifacts"),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--workers", str(workers),
    ]  # fmt: skip
    env = dict(os.environ)
    env.pop("MLFLOW_TRACKING_URI", None)
    env.pop("MLFLOW_REGISTRY_URI", None)
    # The job runner spawns huey consumers and leaves a temp dir in /dev/shm; a test server needs none.
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    log_path = root / "server.log"
    with log_path.open("wb") as log:
        try:
            proc = subprocess.Popen(
                cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        except OSError as exc:  # no such interpreter, or not executable
            raise RuntimeError(
                f"mlflow server on {uri} did not come up (cannot run {interpreter}: {exc})"
            ) from exc
    try:
        deadline = time.monotonic() + timeout
        while not _is_healthy(uri):
            if proc.poll() is not None or time.monotonic() > deadline:
                state = f"exited with {proc.returncode}" if proc.poll() is not None else "timed out"
                log_text = log_path.read_text(errors="replace")
                raise RuntimeError(f"mlflow server on {uri} did not come up ({state}); log:\n{log_text}")
            time.sleep(_POLL_S)
        yield uri
    finally:
        _stop(proc)


def _is_healthy(uri: str) -> bool:
    # No proxies: an HTTP(S)_PROXY in the environment must not intercept loopback requests.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{uri}/health", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate the server's whole process group (``mlflow server`` spawns a uvicorn child)."""
    for sig, wait_s in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue
