"""Faults for the fault-injection suite, injected at the calls one client makes to MLflow: over HTTP, by a
loopback proxy in front of a real ``mlflow server``, or in process, around the sqlite stores of one client.

Both number the calls (0, 1, 2, ... in order) and fail the ones a plan names (call number → fault):

- ``"500"``: the server answers HTTP 500 without doing anything (it refused; nothing changed);
- ``"lost"``: the call is made, then the answer is lost (the change was made, but the client cannot know
  it: a timeout or a crash just after the server did its work);
- ``"dead"``: from this call on, no call gets an answer (the server died).

:class:`FaultProxy` numbers HTTP requests. :class:`StoreFaults` numbers the calls to a sqlite store, made
to be the same calls: MLflow's REST store sends one request per store method, and where MLflow's client
sends a request of its own (``set_terminated`` reads the run first, to print its URL, when it talks to a
server), :func:`faulty_client` sends the same call. :func:`store_call` names a request the proxy logged by
that store method, so a test can check that both number the same calls.
"""

from __future__ import annotations

import http.client
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, cast
from urllib.parse import urlsplit

from mlflow.exceptions import MlflowException, RestException
from mlflow.tracking._model_registry.client import ModelRegistryClient
from mlflow.tracking._tracking_service.client import TrackingServiceClient

from mlflow_allowance import AllowanceClient
from mlflow_allowance._registry import Registry

Fault = Literal["500", "lost", "dead"]
FAULTS: tuple[Fault, ...] = ("500", "lost", "dead")

#: The REST requests of MLflow's client (method and path after ``/mlflow/``), by the store method that
#: sends them. A request missing here is logged as it was sent, and shows up in a test's comparison.
REST_CALLS = {
    "GET experiments/get-by-name": "get_experiment_by_name",
    "GET experiments/get": "get_experiment",
    "POST experiments/create": "create_experiment",
    "POST experiments/delete": "delete_experiment",
    "POST experiments/search": "search_experiments",
    "POST experiments/set-experiment-tag": "set_experiment_tag",
    "POST experiments/delete-experiment-tag": "delete_experiment_tag",
    "POST runs/create": "create_run",
    "GET runs/get": "get_run",
    "POST runs/update": "update_run_info",
    "POST runs/search": "search_runs",
    "POST runs/log-batch": "log_batch",
    "GET registered-models/get": "get_registered_model",
    "POST registered-models/create": "create_registered_model",
    "POST registered-models/alias": "set_registered_model_alias",
    "DELETE registered-models/alias": "delete_registered_model_alias",
    "POST registered-models/set-tag": "set_registered_model_tag",
    "DELETE registered-models/delete-tag": "delete_registered_model_tag",
    "GET model-versions/get": "get_model_version",
    "GET model-versions/search": "search_model_versions",
    "POST model-versions/transition-stage": "transition_model_version_stage",
}
_REST_PATH = re.compile(r"(?P<method>[A-Z]+) /(?:ajax-)?api/\d+\.\d+/(?:preview/)?mlflow/(?P<endpoint>\S+)")
#: Store methods that send no request (bookkeeping of MLflow's client): not numbered.
_NOT_REQUESTS = frozenset({"shut_down_async_logging"})
#: Store methods that change something (the rest only read).
_WRITES = ("create_", "set_", "delete_", "update_", "transition_", "log_", "rename_", "restore_")


def store_call(request: str) -> str:
    """The store method that sends ``request`` (``"GET /api/2.0/mlflow/runs/get"`` → ``"get_run"``), or
    ``request`` itself when it is not in :data:`REST_CALLS`."""
    found = _REST_PATH.fullmatch(request)
    if found is None:
        return request
    return REST_CALLS.get(f"{found['method']} {found['endpoint']}", request)


def is_write(call: str) -> bool:
    """Whether the store method ``call`` changes something."""
    return call.startswith(_WRITES)


class _Plan:
    """Numbers calls in the order they come; :meth:`plan` arms faults by number; :attr:`log` lists calls."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: dict[int, Fault] = {}
        self._dead_from: int | None = None
        self.log: list[str] = []

    def plan(self, faults: dict[int, Fault] | None = None) -> None:
        """Forget the log and arm ``faults`` (call number → fault) for the calls to come."""
        with self._lock:
            self.log.clear()
            self._faults = dict(faults or {})
            self._dead_from = None

    def _next(self, call: str) -> tuple[Fault | None, bool]:
        """Log ``call``; its fault, if one is armed, and whether the server is dead by now."""
        with self._lock:
            number = len(self.log)
            self.log.append(call)
            fault = self._faults.get(number)
            if fault == "dead":
                self._dead_from = number
            return fault, self._dead_from is not None and number >= self._dead_from


class FaultProxy(_Plan):
    """Forwards to ``upstream``; :meth:`plan` arms faults by request number; :attr:`log` lists requests
    (``"GET /api/2.0/mlflow/runs/get"``)."""

    def __init__(self, upstream: str) -> None:
        super().__init__()
        parts = urlsplit(upstream)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                return

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fault, dead = proxy._next(f"{self.command} {self.path.split('?')[0]}")
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


class StoreFaults(_Plan):
    """Numbers the calls of one client to its stores (:attr:`log` lists store methods, ``"get_run"``) and
    fails them as the proxy fails requests: the same exceptions MLflow's REST client raises."""

    def call(self, name: str, method: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """``method(*args, **kwargs)``, the store's ``name``, as call number ``len(log)``."""
        fault, dead = self._next(name)
        if dead:
            raise _no_answer(name)
        if fault == "500":
            raise RestException(  # type: ignore[no-untyped-call]
                {"error_code": "INTERNAL_ERROR", "message": "injected fault"}
            )
        result = method(*args, **kwargs)
        if fault == "lost":
            raise _no_answer(name)
        return result


def _no_answer(call: str) -> MlflowException:
    """What MLflow's REST client raises when the connection closes without an answer."""
    return MlflowException(
        f"API request to http://fault.invalid/api/2.0/mlflow/{call} failed with exception "
        "('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))"
    )


class _FaultyStore:
    """Delegates to ``store``; each call of a method that sends a request is a call of ``faults`` (calls
    the store makes to itself are not: over REST they are the server's business)."""

    def __init__(self, store: Any, faults: StoreFaults) -> None:
        self._store = store
        self._faults = faults

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._store, name)
        if name.startswith("_") or name in _NOT_REQUESTS or not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._faults.call(name, attribute, *args, **kwargs)

        return call


class _FaultyTracking(TrackingServiceClient):
    """MLflow's tracking client over a :class:`_FaultyStore`, sending what it sends to a server."""

    _faulty_store: _FaultyStore

    @property
    def store(self) -> Any:
        return self._faulty_store

    def _log_url(self, run_id: str) -> None:
        # MLflow's client reads the run before ending it, to print its URL, when its store is a server's.
        from mlflow.environment_variables import MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT

        if not MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT.get():  # type: ignore[no-untyped-call]
            self.store.get_run(run_id)


class _FaultyRegistry(ModelRegistryClient):
    """MLflow's model registry client over a :class:`_FaultyStore`."""

    _faulty_store: _FaultyStore

    @property
    def store(self) -> Any:
        return self._faulty_store


def faulty_client(uri: str, faults: StoreFaults) -> AllowanceClient:
    """An :class:`AllowanceClient` on the sqlite store ``uri`` whose every call to MLflow goes through
    ``faults``. Other clients of ``uri`` share its stores, untouched."""
    registry = Registry(uri, uri)
    mlflow = registry._client
    tracking, models = mlflow._tracking_client, mlflow._get_registry_client()  # type: ignore[no-untyped-call]
    tracking_store, models_store = _FaultyStore(tracking.store, faults), _FaultyStore(models.store, faults)
    tracking.__class__, models.__class__ = _FaultyTracking, _FaultyRegistry
    cast(_FaultyTracking, tracking)._faulty_store = tracking_store
    cast(_FaultyRegistry, models)._faulty_store = models_store
    return AllowanceClient(registry=registry)
