"""Fixtures for the dashboard's integration and browser tests: the story on a real sqlite store."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

import pytest

from .story import play


@pytest.fixture(scope="session")
def story_db(_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sqlite MLflow store where the walkthrough's story was played (stand-in runs: F1 and params)."""
    from mlflow.tracking import MlflowClient

    from mlflow_allowance import AllowanceClient
    from mlflow_allowance._schema import VERSION_TAG

    folder = tmp_path_factory.mktemp("dashboard-story")
    path = folder / "story.db"
    shutil.copyfile(_sqlite_template, path)
    uri = f"sqlite:///{path}"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)  # MLflow resolves ./mlruns against the cwd
        patch.setenv("MLFLOW_ALLOWANCE_USER", "story-teller")
        mlflow = MlflowClient(tracking_uri=uri, registry_uri=uri)
        experiment = mlflow.create_experiment("training", artifact_location=str(folder / "artifacts"))

        def register(name: str, semver: str, f1: float, params: Mapping[str, str]) -> int:
            run = mlflow.create_run(experiment)
            mlflow.log_metric(run.info.run_id, "F1", f1)
            for key, value in params.items():
                mlflow.log_param(run.info.run_id, key, value)
            mlflow.set_terminated(run.info.run_id)
            if not mlflow.search_registered_models(f"name = '{name}'"):
                mlflow.create_registered_model(name)
            version = mlflow.create_model_version(
                name,
                source=f"runs:/{run.info.run_id}/model",
                run_id=run.info.run_id,
                tags={VERSION_TAG: semver},
            )
            return int(version.version)

        play(AllowanceClient(uri, uri), register)
    return path


@pytest.fixture
def story_uri(story_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh copy of the story store for one test (MLFLOW_TRACKING_URI points at it; cwd is tmp_path)."""
    path = tmp_path / "story.db"
    shutil.copyfile(story_db, path)
    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{path}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.delenv("MLFLOW_REGISTRY_URI", raising=False)
    return uri
