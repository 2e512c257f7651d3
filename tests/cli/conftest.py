"""Fixtures for the command-line tests: a real sqlite store, seeded once per session, reset for each test.

Every new database file costs a new SQLAlchemy engine that compiles its statements again (about half a
second each), so all tests share one store file, reset to the seed before each test with SQLite's backup API
(consistent for MLflow's open connections). The seed starts from the migrated template of tests/conftest.py,
which also filters the one SQLAlchemy deprecation warning MLflow's sqlite store triggers. The working
directory moves to ``tmp_path`` so MLflow writes nothing into the repository.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from mlflow_allowance.cli import app

#: AImodel is the seed story: 1.0 (F1 0.93), 1.0 (F1 0.98, validated), 2.0 (F1 0.99), 1.0 (no F1).
#: Other competes with it: 1.5 (F1 0.95), 2.1rc1 (F1 0.999).
SEED: dict[str, list[tuple[str, float | None, dict[str, str]]]] = {
    "AImodel": [
        ("1.0", 0.93, {}),
        ("1.0", 0.98, {"validated": "true"}),
        ("2.0", 0.99, {}),
        ("1.0", None, {}),
    ],
    "Other": [("1.5", 0.95, {}), ("2.1rc1", 0.999, {})],
}
MODELS = tuple(SEED)
USER = "cli-tester"


def _sqlite_uri(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def seeded_db(_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The migrated template store (tests/conftest.py) plus the SEED models, built once per session."""
    from mlflow.tracking import MlflowClient

    from mlflow_allowance._schema import VERSION_TAG

    folder = tmp_path_factory.mktemp("cli-seed")
    path = folder / "seed.db"
    shutil.copyfile(_sqlite_template, path)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)  # MLflow resolves ./mlruns against the cwd
        client = MlflowClient(tracking_uri=_sqlite_uri(path), registry_uri=_sqlite_uri(path))
        experiment = client.create_experiment("training", artifact_location=str(folder / "artifacts"))
        for name, versions in SEED.items():
            client.create_registered_model(name)
            for semver, f1, tags in versions:
                run = client.create_run(experiment)
                if f1 is not None:
                    client.log_metric(run.info.run_id, "F1", f1)
                client.set_terminated(run.info.run_id)
                client.create_model_version(
                    name,
                    source=f"runs:/{run.info.run_id}/model",
                    run_id=run.info.run_id,
                    tags={VERSION_TAG: semver, **tags},
                )
    return path


@pytest.fixture(scope="session")
def promoted_db(seeded_db: Path) -> Path:
    """The seed after ``set prod '<=1.0'`` and ``promote prod -m AImodel`` (@prod on AImodel/4)."""
    from mlflow_allowance import AllowanceClient

    path = seeded_db.with_name("promoted.db")
    shutil.copyfile(seeded_db, path)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(path.parent)  # MLflow resolves ./mlruns against the cwd
        client = AllowanceClient(_sqlite_uri(path), _sqlite_uri(path))
        client.set_allowance("prod", "<=1.0")
        assert client.promote("prod", "AImodel").new == "AImodel/4"
    return path


@dataclass(frozen=True)
class Store:
    """The tests' one store file; each test starts from a template's content."""

    path: Path

    @property
    def uri(self) -> str:
        return _sqlite_uri(self.path)

    def reset(self, template: Path) -> None:
        """Make the store's content the template's (SQLite's backup API: consistent for open connections)."""
        with closing(sqlite3.connect(template)) as source, closing(sqlite3.connect(self.path)) as target:
            source.backup(target)

    def state(self) -> dict[str, Any]:
        """Everything the package could have written: aliases, tags, stages, workspace tags, audit runs."""
        from mlflow.tracking import MlflowClient

        client = MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)
        state: dict[str, Any] = {}
        for model in client.search_registered_models():
            versions = client.search_model_versions(f"name = '{model.name}'")
            state[model.name] = (
                dict(model.aliases),
                dict(model.tags),
                sorted((int(v.version), v.current_stage, tuple(sorted(v.tags.items()))) for v in versions),
            )
        audit = client.get_experiment_by_name("mlflow-allowance")
        if audit is not None:
            runs = client.search_runs([audit.experiment_id], max_results=1000)
            state["audit"] = (dict(audit.tags), sorted(run.info.run_id for run in runs))
        return state


@pytest.fixture(scope="session")
def store_file(seeded_db: Path) -> Store:
    """The one store file every test uses (one URI: MLflow and SQLAlchemy caches stay warm)."""
    path = seeded_db.with_name("store.db")
    shutil.copyfile(seeded_db, path)
    return Store(path)


@pytest.fixture
def store(store_file: Store, seeded_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    """The store, reset to the seed and MLflow's default (MLFLOW_TRACKING_URI); cwd is tmp_path."""
    store_file.reset(seeded_db)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store_file.uri)
    monkeypatch.delenv("MLFLOW_REGISTRY_URI", raising=False)
    monkeypatch.setenv("MLFLOW_ALLOWANCE_USER", USER)
    monkeypatch.delenv("MLFLOW_ALLOWANCE_DEBUG", raising=False)
    return store_file


@pytest.fixture
def promoted_store(store: Store, promoted_db: Path) -> Store:
    """The store, reset to :func:`promoted_db` instead."""
    store.reset(promoted_db)
    return store


class Cli:
    """Runs the Typer app in-process, as ``mlflow-allowance ARGS...``."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, env: Mapping[str, str | None] | None = None) -> Result:
        return self.runner.invoke(app, list(args), env=env, prog_name="mlflow-allowance")

    def ok(self, *args: str) -> Result:
        """Run and insist on exit status 0 with nothing on stderr."""
        result = self(*args)
        assert (result.exit_code, result.stderr) == (0, ""), (result.stdout, result.stderr, result.exception)
        return result


@pytest.fixture
def cli(store: Store) -> Cli:
    """The app, against the store."""
    return Cli()


def error_line(result: Result) -> str:
    """stderr's one line: the contract for every failure without --debug."""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]
