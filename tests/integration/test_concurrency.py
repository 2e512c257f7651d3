"""Concurrent writers against a live ``mlflow server`` (PostgreSQL, two workers): 8 processes x 25 operations.

Laws: no change number is recorded twice, each environment's chain of moves is unbroken (every completed
move starts where the previous one ended), nothing is left pending, and ``check`` is clean afterwards.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from mlflow_allowance import AllowanceClient, AuditRecord
from mlflow_allowance.testing import local_server

from .conftest import make_version_factory

pytestmark = [pytest.mark.integration, pytest.mark.slow]

WRITERS = 8
OPERATIONS = 25
WORKER = Path(__file__).with_name("concurrent_writer.py")


def writer_environment() -> dict[str, str]:
    """The environment of a writer process: this interpreter's path, and MLflow's retries on a 500.

    The suite turns MLflow's retries off to fail fast; a writer keeps two, as users have seven. MLflow 3.17's
    server imports ``mlflow.server.auth`` lazily, and two threads of a fresh worker racing through that
    import answer one of them with a 500 (``module 'mlflow.server.auth' has no attribute 'auth_config'``,
    seen in CI), which a retry gets past.
    """
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(sys.path),
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
        "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    }


#: PostgreSQL to run the server on (what production runs; sqlite answers HTTP 500 when two server workers
#: write at once): a fresh database is created in it for the test and dropped afterwards.
POSTGRES_ENV = "MLFLOW_ALLOWANCE_TEST_POSTGRES"
POSTGRES_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="module")
def postgres_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database's URI (skips when no PostgreSQL is reachable)."""
    psycopg2 = pytest.importorskip("psycopg2")
    admin_uri = os.environ.get(POSTGRES_ENV, POSTGRES_DEFAULT)
    try:
        admin = psycopg2.connect(admin_uri, connect_timeout=5)
    except psycopg2.OperationalError as exc:
        pytest.skip(f"no PostgreSQL at {admin_uri} ({POSTGRES_ENV}): {str(exc).strip()}")
    admin.autocommit = True
    name = f"mlflow_allowance_{uuid.uuid4().hex[:12]}"
    with admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {name}")
    try:
        # SQLAlchemy's default PostgreSQL driver is psycopg 3; the dev extra installs psycopg2.
        base = admin_uri.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg2://", 1)
        yield f"{base}/{name}"
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


@pytest.fixture(scope="module")
def two_worker_server(tmp_path_factory: pytest.TempPathFactory, postgres_database: str) -> Iterator[str]:
    root = tmp_path_factory.mktemp("two-workers")
    with local_server(root, backend_store_uri=postgres_database, workers=2, timeout=120) as uri:
        yield uri


def test_concurrent_writers_never_duplicate_or_break_the_chain(two_worker_server: str) -> None:
    uri = two_worker_server
    mlflow = MlflowClient(tracking_uri=uri, registry_uri=uri)
    make = make_version_factory(mlflow)
    suffix = uuid.uuid4().hex[:8]
    env, model, other = f"prod-{suffix}", f"model-{suffix}", f"other-{suffix}"
    for semver, f1 in (("1.0", 0.90), ("1.0", 0.95), ("2.0", 0.99)):
        make(model, semver, {"F1": f1})
    for semver, f1 in (("1.0", 0.97), ("2.0", 0.92)):
        make(other, semver, {"F1": f1})
    environment = writer_environment()
    writers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), uri, env, model, other, str(seed), str(OPERATIONS)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
        )
        for seed in range(WRITERS)
    ]
    outputs = [writer.communicate(timeout=900) for writer in writers]
    for writer, (out, err) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, err[-3000:]
        assert len(out.splitlines()) == OPERATIONS
    lines = [line for out, _ in outputs for line in out.splitlines()]
    assert sum(line.startswith("ok ") for line in lines) > OPERATIONS  # a real amount of work got done

    client = AllowanceClient(uri, uri)
    records = client.history(env)
    numbered = [r.seq for r in records]
    assert None not in numbered
    assert len(numbered) == len(set(numbered)), "a change number was recorded twice"
    assert [r for r in records if r.state == "pending"] == []
    done = sorted((r for r in records if r.done), key=lambda r: r.seq or 0)
    assert _chain_breaks([r for r in done if r.kind != "allowance"]) == []
    assert _chain_breaks([r for r in done if r.kind == "allowance"]) == []
    report = client.check(env)
    assert report.ok, report.to_dict()["violations"]


def _chain_breaks(records: list[AuditRecord]) -> list[str]:
    """Where a completed change does not start where the previous one ended."""
    return [
        f"record {later.seq} starts at {later.old}, record {earlier.seq} ended at {earlier.new}"
        for earlier, later in itertools.pairwise(records)
        if later.old != earlier.new
    ]
