"""Shared fixtures: hypothesis profiles, a fresh sqlite tracking store, a real ``mlflow server``.

``mlflow`` is imported lazily, inside fixtures only: a test checks that importing
``mlflow_allowance`` does not import ``mlflow``, which a module-level import here would spoil.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from mlflow_allowance.testing import local_server

# Before the first ``import mlflow``: it starts a telemetry client that calls home on import.
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
# MLflow retries a failed HTTP request 7 times with backoff (minutes); fail fast in tests instead.
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True, max_examples=200)
settings.register_profile("dev", max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

SERVER_START_TIMEOUT_S = 90.0


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
    try:
        with local_server(tmp_path_factory.mktemp("mlflow-server"), timeout=SERVER_START_TIMEOUT_S) as uri:
            yield uri
    except RuntimeError as exc:
        if "did not come up" not in str(exc):
            raise
        pytest.fail(str(exc))


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
