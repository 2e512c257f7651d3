"""Shared fixtures: hypothesis profiles, a fresh sqlite tracking store, a real ``mlflow server``, and
``mlflow server``s on PostgreSQL and MariaDB/MySQL (two workers each) when those databases are reachable.

``mlflow`` is imported lazily, inside fixtures only: a test checks that importing
``mlflow_allowance`` does not import ``mlflow``, which a module-level import here would spoil.

Environment variables:

- ``MLFLOW_ALLOWANCE_TEST_SERVER_PYTHON``: the interpreter that runs every ``mlflow server`` of the session
  (default: the test interpreter), e.g. a venv with an older MLflow. For the database servers it also needs
  ``psycopg2`` / ``pymysql``.
- ``MLFLOW_ALLOWANCE_TEST_POSTGRES`` (default ``postgresql://postgres@127.0.0.1:5432/test``) and
  ``MLFLOW_ALLOWANCE_TEST_MYSQL`` (default ``mysql+pymysql://root@127.0.0.1:3306/test``): an existing
  database on the server to connect to as an admin; each session creates a fresh database beside it
  (``mlflow_allowance_<hex>``) for its ``mlflow server`` and drops it at the end.
- ``MLFLOW_ALLOWANCE_REQUIRE_BACKENDS=1``: a database that cannot be used fails the tests that need it
  (CI); otherwise they are skipped, with the URL (no password) and the reason.
"""

from __future__ import annotations

import importlib
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NoReturn

import pytest
from hypothesis import settings

from mlflow_allowance.errors import redact
from mlflow_allowance.testing import local_server

# Before the first ``import mlflow``: it starts a telemetry client that calls home on import.
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
# MLflow retries a failed HTTP request 7 times with backoff (minutes); fail fast in tests instead.
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True, max_examples=200)
settings.register_profile("dev", max_examples=500)
# The floor stage (scripts/dev.py): the same laws on the oldest packaging, which is several times slower.
settings.register_profile("floor", derandomize=True, deadline=None, print_blob=True, max_examples=40)
# Before a release (DEVELOPERS.md): 15 times CI's examples, random rather than derandomized so each run
# explores new ground; a failure prints its blob, and the example it found is pinned with @example.
settings.register_profile("deep", derandomize=False, deadline=None, print_blob=True, max_examples=3000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

SERVER_START_TIMEOUT_S = 90.0
#: A fresh PostgreSQL/MySQL database is migrated by the server on start: slower than sqlite.
DATABASE_SERVER_START_TIMEOUT_S = 240.0
DATABASE_SERVER_WORKERS = 2

SERVER_PYTHON_ENV = "MLFLOW_ALLOWANCE_TEST_SERVER_PYTHON"
POSTGRES_ENV = "MLFLOW_ALLOWANCE_TEST_POSTGRES"
POSTGRES_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
MYSQL_ENV = "MLFLOW_ALLOWANCE_TEST_MYSQL"
MYSQL_DEFAULT = "mysql+pymysql://root@127.0.0.1:3306/test"
REQUIRE_BACKENDS_ENV = "MLFLOW_ALLOWANCE_REQUIRE_BACKENDS"

Backend = Literal["postgresql", "mysql"]


def pytest_configure(config: pytest.Config) -> None:
    # SQLAlchemy 2.1 deprecates the ``noload`` strategy MLflow's sqlite store still uses; it warns
    # once per process, the first time a sqlite store is opened.
    config.addinivalue_line(
        "filterwarnings",
        "ignore:The ``noload`` loader strategy is deprecated:sqlalchemy.exc.SADeprecationWarning",
    )


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty MLflow sqlite database, built once (migrations take seconds)."""
    from mlflow import MlflowClient

    directory = tmp_path_factory.mktemp("sqlite-template")
    db = directory / "mlflow.db"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(directory)
        client = MlflowClient(tracking_uri=f"sqlite:///{db}", registry_uri=f"sqlite:///{db}")
        client.search_experiments()
        client.search_registered_models()
    return db


@pytest.fixture
def sqlite_uri(_sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh ``sqlite:///<tmp_path>/mlflow.db`` whose artifacts land in ``<tmp_path>/mlruns``.

    MLflow's artifact root for a sqlite store is ``./mlruns`` (relative to the cwd when the store
    opens), so the test runs inside ``tmp_path``; the default experiment copied from the template
    is pointed there too.
    """
    db = tmp_path / "mlflow.db"
    shutil.copyfile(_sqlite_template, db)
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE experiments SET artifact_location = ? WHERE experiment_id = 0",
            (str(tmp_path / "mlruns" / "0"),),
        )
    conn.close()
    monkeypatch.chdir(tmp_path)
    return f"sqlite:///{db}"


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``mlflow server`` (sqlite backend, proxied artifacts, one worker) for the session.

    Yields ``http://127.0.0.1:PORT``. Tests share it, so they must use unique names
    (see ``unique_name``).
    """
    root = tmp_path_factory.mktemp("mlflow-server")
    try:
        with local_server(root, timeout=SERVER_START_TIMEOUT_S, python=server_python()) as uri:
            yield uri
    except RuntimeError as exc:
        if "did not come up" not in str(exc):
            raise
        pytest.fail(str(exc))


def server_python() -> str:
    """The interpreter of the session's ``mlflow server``s: ``MLFLOW_ALLOWANCE_TEST_SERVER_PYTHON``, else
    the test interpreter."""
    return os.environ.get(SERVER_PYTHON_ENV) or sys.executable


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.integration),
        pytest.param("server", marks=pytest.mark.integration),
    ]
)
def tracking_uri(request: pytest.FixtureRequest) -> str:
    """A tracking (and registry) URI: a fresh sqlite store, or the shared ``mlflow_server``."""
    fixture = "sqlite_uri" if request.param == "sqlite" else "mlflow_server"
    uri: str = request.getfixturevalue(fixture)
    return uri


@pytest.fixture
def unique_name() -> str:
    """A registered-model / experiment name no other test uses (the server is shared)."""
    return f"model-{uuid.uuid4().hex[:8]}"


# Production backends: mlflow servers on PostgreSQL and MariaDB/MySQL ------------------------------------


@dataclass(frozen=True)
class DatabaseServer:
    """A live ``mlflow server`` with two workers on a fresh PostgreSQL or MySQL database of its own."""

    backend: Backend
    #: The server's URI, ``http://127.0.0.1:PORT`` (tracking and registry).
    uri: str
    #: The database's SQLAlchemy URL, without its password.
    database: str
    #: The database's default collation, which MLflow's tables inherit (``C.UTF-8``, ``utf8mb4_general_ci``).
    collation: str
    #: Whether that collation compares ``'A' = 'a'`` as equal (MariaDB/MySQL's defaults do).
    case_insensitive: bool
    #: The MLflow version the server reports (``(3, 17, 2)``); see ``MLFLOW_ALLOWANCE_TEST_SERVER_PYTHON``.
    mlflow_version: tuple[int, ...]


class DatabaseServers:
    """The session's database-backed ``mlflow server``s: each started on first use, several at once with
    :meth:`start` (a fresh PostgreSQL/MySQL database takes seconds to migrate), all stopped and their
    databases dropped by :meth:`close`."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self._tmp_path_factory = tmp_path_factory
        self._started: dict[Backend, DatabaseServer | BaseException] = {}
        self._running: list[ExitStack] = []

    def start(self, *backends: Backend) -> None:
        """Start the servers of ``backends`` not started yet, concurrently."""
        missing = [backend for backend in dict.fromkeys(backends) if backend not in self._started]
        roots = [self._tmp_path_factory.mktemp(f"mlflow-server-{backend}") for backend in missing]
        if len(missing) == 1:
            self._started[missing[0]] = self._enter(missing[0], roots[0])
        elif missing:
            with ThreadPoolExecutor(len(missing)) as pool:
                self._started.update(zip(missing, pool.map(self._enter, missing, roots), strict=True))

    def get(self, backend: Backend) -> DatabaseServer:
        """The server of ``backend``, started if need be; skips or fails as its start did."""
        self.start(backend)
        started = self._started[backend]
        if isinstance(started, BaseException):
            raise started
        return started

    def close(self) -> None:
        """Stop every server and drop its database (concurrently: each stop waits for its workers)."""
        running, self._running = self._running, []
        if running:
            with ThreadPoolExecutor(len(running)) as pool:
                list(pool.map(ExitStack.close, running))

    def _enter(self, backend: Backend, root: Path) -> DatabaseServer | BaseException:
        stack = ExitStack()
        try:
            server = stack.enter_context(_database_server(backend, root))
        except (Exception, pytest.skip.Exception, pytest.fail.Exception) as exc:
            stack.close()
            return exc  # raised again by get(), in the test that asks for this backend
        self._running.append(stack)
        return server


@pytest.fixture(scope="session")
def database_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseServers]:
    """The session's PostgreSQL- and MySQL-backed ``mlflow server``s; ``start("postgresql", "mysql")``
    starts both at once, ``get(backend)`` gives one (skipping when its database cannot be used)."""
    servers = DatabaseServers(tmp_path_factory)
    try:
        yield servers
    finally:
        servers.close()


@pytest.fixture(scope="session")
def postgresql_server(database_servers: DatabaseServers) -> DatabaseServer:
    """``mlflow server`` (2 workers) on a fresh database of the PostgreSQL at
    ``MLFLOW_ALLOWANCE_TEST_POSTGRES``.

    Skips (fails with ``MLFLOW_ALLOWANCE_REQUIRE_BACKENDS=1``) when that PostgreSQL cannot be used.
    """
    return database_servers.get("postgresql")


@pytest.fixture(scope="session")
def mysql_server(database_servers: DatabaseServers) -> DatabaseServer:
    """``mlflow server`` (2 workers) on a fresh utf8mb4 database of the MariaDB/MySQL at
    ``MLFLOW_ALLOWANCE_TEST_MYSQL``, with the server's default utf8mb4 collation (case-insensitive).

    Skips (fails with ``MLFLOW_ALLOWANCE_REQUIRE_BACKENDS=1``) when that MySQL cannot be used.
    """
    return database_servers.get("mysql")


@contextmanager
def _database_server(backend: Backend, root: Path) -> Iterator[DatabaseServer]:
    """A fresh database of ``backend`` and a 2-worker ``mlflow server`` on it, working in ``root``."""
    env, default = (POSTGRES_ENV, POSTGRES_DEFAULT) if backend == "postgresql" else (MYSQL_ENV, MYSQL_DEFAULT)
    admin = urllib.parse.urlsplit(os.environ.get(env) or default)
    python = server_python()
    if python != sys.executable:
        _check_driver(python, "psycopg2" if backend == "postgresql" else "pymysql", backend, admin, env)
    fresh = _fresh_postgresql if backend == "postgresql" else _fresh_mysql
    with fresh(admin, env) as (url, collation, case_insensitive):
        shown = _shown(urllib.parse.urlsplit(url))
        try:
            with local_server(
                root,
                backend_store_uri=url,
                workers=DATABASE_SERVER_WORKERS,
                timeout=DATABASE_SERVER_START_TIMEOUT_S,
                python=python,
            ) as uri:
                version = _server_version(uri)
                yield DatabaseServer(backend, uri, shown, collation, case_insensitive, version)
        except RuntimeError as exc:
            if "did not come up" not in str(exc):
                raise
            pytest.fail(redact(str(exc)))


@contextmanager
def _fresh_postgresql(admin: urllib.parse.SplitResult, env: str) -> Iterator[tuple[str, str, bool]]:
    """Create ``mlflow_allowance_<hex>`` (UTF8) on the PostgreSQL of ``admin``; yield the URL the mlflow
    server uses (``postgresql+psycopg2://`` unless ``admin`` names a driver), the database's collation and
    whether it is case-insensitive; drop the database afterwards."""
    try:
        psycopg2: Any = importlib.import_module("psycopg2")
    except ImportError as exc:
        _unusable("postgresql", admin, env, f"psycopg2 is not installed ({exc})")
    name = f"mlflow_allowance_{uuid.uuid4().hex[:12]}"

    def run(database: str | None, *statements: str) -> Any:
        """Run ``statements`` (autocommit) in ``database`` (default: the admin one); the last one's row."""
        # libpq takes the URL itself, without SQLAlchemy's "+driver".
        url = admin._replace(scheme="postgresql", path=f"/{database}" if database else admin.path)
        conn = psycopg2.connect(urllib.parse.urlunsplit(url), connect_timeout=5)
        try:
            conn.autocommit = True
            with conn.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)
                return cursor.fetchone() if cursor.description else None
        finally:
            conn.close()

    try:
        # template0: the encoding may differ from template1's; MLflow stores any Unicode.
        run(None, f"CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE template0")
    except psycopg2.Error as exc:
        _unusable("postgresql", admin, env, str(exc))
    try:
        collation, equal = run(
            name, "SELECT datcollate, 'A' = 'a' FROM pg_database WHERE datname = current_database()"
        )
        scheme = admin.scheme if "+" in admin.scheme else "postgresql+psycopg2"
        yield urllib.parse.urlunsplit(admin._replace(scheme=scheme, path=f"/{name}")), collation, equal
    finally:
        # FORCE (PostgreSQL 13+): a server worker that outlived its server must not keep it alive.
        run(None, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@contextmanager
def _fresh_mysql(admin: urllib.parse.SplitResult, env: str) -> Iterator[tuple[str, str, bool]]:
    """Create ``mlflow_allowance_<hex>`` (utf8mb4, in the server's default collation for it) on the
    MariaDB/MySQL of ``admin``; yield the URL the mlflow server uses (``mysql+pymysql://`` unless ``admin``
    names a driver), the database's collation and whether it is case-insensitive; drop it afterwards.

    utf8mb4, not the 3-byte ``utf8`` some servers default to: names, reasons and tags hold any Unicode.
    MLflow's migrations (2.9.2 and 3.17 checked) run on MariaDB 10.11's default ``utf8mb4_general_ci``,
    which compares case- and accent-insensitively, as MySQL 8's ``utf8mb4_0900_ai_ci`` does: what a
    production database created with ``CHARACTER SET utf8mb4`` gets.
    """
    try:
        pymysql: Any = importlib.import_module("pymysql")
    except ImportError as exc:
        _unusable("mysql", admin, env, f"pymysql is not installed ({exc})")
    name = f"mlflow_allowance_{uuid.uuid4().hex[:12]}"

    def run(*statements: str) -> Any:
        """Run ``statements`` (autocommit) as the admin; the last one's row."""
        conn = pymysql.connect(
            host=admin.hostname or "127.0.0.1",
            port=admin.port or 3306,
            user=urllib.parse.unquote(admin.username or "root"),
            password=urllib.parse.unquote(admin.password or ""),
            connect_timeout=5,
            charset="utf8mb4",
            autocommit=True,
        )
        try:
            with conn.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)
                return cursor.fetchone()
        finally:
            conn.close()

    try:
        (collation,) = run(
            f"CREATE DATABASE {name} CHARACTER SET utf8mb4",
            f"SELECT DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '{name}'",
        )
    except pymysql.MySQLError as exc:
        _unusable("mysql", admin, env, str(exc))
    try:
        if not re.fullmatch(r"\w+", collation):
            raise AssertionError(f"unexpected collation name {collation!r}")
        (equal,) = run(f"SELECT 'A' = 'a' COLLATE {collation}")
        scheme = admin.scheme if "+" in admin.scheme else "mysql+pymysql"
        yield urllib.parse.urlunsplit(admin._replace(scheme=scheme, path=f"/{name}")), collation, bool(equal)
    finally:
        run(f"DROP DATABASE IF EXISTS {name}")


def _server_version(uri: str) -> tuple[int, ...]:
    """The MLflow version a live server reports, as numbers (``3.17.2`` → ``(3, 17, 2)``)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never a proxy
    with opener.open(f"{uri}/version", timeout=10) as response:
        text = response.read().decode().strip()
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def _check_driver(
    python: str, driver: str, backend: Backend, admin: urllib.parse.SplitResult, env: str
) -> None:
    """The server interpreter ``python`` (not the test one) must be able to import ``driver``."""
    try:
        done = subprocess.run(
            [python, "-c", f"import {driver}"], capture_output=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        _unusable(backend, admin, env, f"cannot run {python} ({SERVER_PYTHON_ENV}): {exc}")
    if done.returncode:
        _unusable(
            backend, admin, env, f"the server interpreter {python} ({SERVER_PYTHON_ENV}) has no {driver}"
        )


def _unusable(backend: Backend, admin: urllib.parse.SplitResult, env: str, why: str) -> NoReturn:
    """Skip, or fail with ``MLFLOW_ALLOWANCE_REQUIRE_BACKENDS=1``: one line, naming the URL without its
    password."""
    reason = next((line.strip() for line in why.splitlines() if line.strip()), "unknown error")
    if admin.password:
        reason = reason.replace(urllib.parse.unquote(admin.password), "***")
    message = f"{backend} at {_shown(admin)} ({env}) cannot be used: {redact(reason)}"
    if os.environ.get(REQUIRE_BACKENDS_ENV) == "1":
        pytest.fail(f"{message} [{REQUIRE_BACKENDS_ENV}=1]", pytrace=False)
    pytest.skip(message)


def _shown(url: urllib.parse.SplitResult) -> str:
    """``url`` without its password, and without its query (which may hold credentials too)."""
    host = url.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = (f"{url.username}@" if url.username else "") + host + (f":{url.port}" if url.port else "")
    return urllib.parse.urlunsplit((url.scheme, netloc, url.path, "", ""))
