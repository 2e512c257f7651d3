"""Fixtures for API tests on both real backends: model versions without training, unique names."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping

import pytest
from mlflow.tracking import MlflowClient

from mlflow_allowance import AllowanceClient
from mlflow_allowance._registry import search_versions
from mlflow_allowance._schema import VERSION_TAG

#: make_version(name, semver, metrics=..., tags=...) -> registry version
MakeVersion = Callable[..., int]


@pytest.fixture
def mlflow_client(tracking_uri: str) -> MlflowClient:
    """A plain MlflowClient on the backend under test, to arrange and inspect state directly."""
    return MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)


@pytest.fixture
def api(tracking_uri: str) -> AllowanceClient:
    """The client under test."""
    return AllowanceClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)


@pytest.fixture
def env() -> str:
    """A unique environment name, so tests sharing a server never see each other's allowances."""
    return f"prod-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def make_version(mlflow_client: MlflowClient) -> MakeVersion:
    """Register a model version backed by a run that logged ``metrics``; return its registry version.

    ``semver=None`` leaves the version without a semantic version; ``run_tags`` go on the training run.
    """
    return make_version_factory(mlflow_client)


def make_version_factory(mlflow_client: MlflowClient) -> MakeVersion:
    """What the ``make_version`` fixture gives, for tests that arrange several worlds in one test."""
    experiment = mlflow_client.create_experiment(f"training-{uuid.uuid4().hex[:8]}")

    def make(
        name: str,
        semver: str | None,
        metrics: Mapping[str, float] | None = None,
        run_tags: Mapping[str, str] | None = None,
    ) -> int:
        run = mlflow_client.create_run(experiment, tags=dict(run_tags or {}))
        for key, value in (metrics or {}).items():
            mlflow_client.log_metric(run.info.run_id, key, value)
        mlflow_client.set_terminated(run.info.run_id)
        try:
            mlflow_client.get_registered_model(name)
        except Exception:
            mlflow_client.create_registered_model(name)
        tags = {VERSION_TAG: semver} if semver is not None else {}
        created = mlflow_client.create_model_version(
            name, source=f"runs:/{run.info.run_id}/model", run_id=run.info.run_id, tags=tags
        )
        return int(created.version)

    return make


def aliases_of(client: MlflowClient, name: str) -> dict[str, int]:
    """``name``'s aliases with int versions (MLflow returns strings over REST, ints from sqlite)."""
    return {alias: int(version) for alias, version in client.get_registered_model(name).aliases.items()}


def registry_state(client: MlflowClient, *names: str) -> dict[str, object]:
    """Everything mlflow-allowance could have written about ``names``: aliases, tags, stages, audit runs."""
    state: dict[str, object] = {}
    for name in names:
        model = client.get_registered_model(name)
        versions, _ = search_versions(client, [name])
        state[name] = (
            dict(model.aliases),
            dict(model.tags),
            sorted((int(v.version), v.current_stage, tuple(sorted(v.tags.items()))) for v in versions),
        )
    audit = client.get_experiment_by_name("mlflow-allowance")
    if audit is not None:
        state["audit"] = (
            dict(audit.tags),
            len(client.search_runs([audit.experiment_id], max_results=50000)),
        )
    return state
