"""The adapter's fallbacks for older MLflow, forced on the MLflow under test.

The floor stage (``python3 scripts/dev.py floor``) meets them for real, on MLflow 2.9 and against an MLflow
2.9 server; here each is taken on purpose, so the newest MLflow proves that the fallback gives the same
result as the call it replaces, and that records an older client wrote read the same on a newer one.
"""

from __future__ import annotations

import contextlib

import pytest
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from mlflow_allowance import AllowanceClient
from mlflow_allowance._registry import Registry, _pages
from mlflow_allowance._schema import allowance_tag

from .conftest import MakeVersion

pytestmark = pytest.mark.integration


def _old_registry(tracking_uri: str) -> Registry:
    """A registry that behaves as on MLflow before 3.2 and 3.17: no tag deletion, no ``name IN``."""
    registry = Registry(tracking_uri, tracking_uri)
    registry._delete_tags = False
    registry._name_in = False
    return registry


def test_unset_default_without_tag_deletion_reads_as_unset(
    tracking_uri: str, env: str, unique_name: str, make_version: MakeVersion, mlflow_client: MlflowClient
) -> None:
    make_version(unique_name, "1.0")
    old = AllowanceClient(registry=_old_registry(tracking_uri))
    new = AllowanceClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    old.set_allowance(env, "<=1.0")

    old.unset_allowance(env)

    experiment = mlflow_client.get_experiment_by_name("mlflow-allowance")
    assert experiment is not None
    assert experiment.tags[allowance_tag(env)] == ""  # what an MLflow before 3.2 leaves behind
    for client in (old, new):
        assert client.get_allowance(env, model=unique_name).source == "unset"
        assert env not in {effective.environment for effective in client.list_allowances()}
    assert [record.new for record in new.history(env)][:2] == [None, "<=1.0"]


def test_default_set_again_after_an_empty_tag(
    tracking_uri: str, env: str, unique_name: str, make_version: MakeVersion
) -> None:
    make_version(unique_name, "1.0")
    old = AllowanceClient(registry=_old_registry(tracking_uri))
    old.set_allowance(env, "<=1.0")
    old.unset_allowance(env)

    change = AllowanceClient(tracking_uri=tracking_uri, registry_uri=tracking_uri).set_allowance(env, "<=2.0")

    assert (change.old, change.new.canonical if change.new else None) == (None, "<=2.0")


def test_selection_by_one_search_per_model_equals_name_in(
    tracking_uri: str, env: str, make_version: MakeVersion, unique_name: str
) -> None:
    names = [f"{unique_name}-a", f"{unique_name}-b's"]
    for name, f1 in ((names[0], 0.5), (names[1], 0.9), (names[0], 0.7)):
        make_version(name, "1.0", metrics={"F1": f1})
    new = AllowanceClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    old = AllowanceClient(registry=_old_registry(tracking_uri))
    new.set_allowance(env, "<=1.0")

    by_in = new.select(env, names, metric="F1")
    per_model = old.select(env, names, metric="F1")

    assert per_model.winner == by_in.winner
    assert by_in.winner is not None
    assert (by_in.winner.candidate.name, by_in.winner.candidate.version) == (names[1], 1)
    assert sorted((v.candidate.name, v.candidate.version, v.reason) for v in per_model.candidates) == sorted(
        (v.candidate.name, v.candidate.version, v.reason) for v in by_in.candidates
    )


def test_registered_models_are_what_mlflows_search_lists(
    tracking_uri: str, unique_name: str, mlflow_client: MlflowClient
) -> None:
    """Listing without MLflow 3's prompt filter (which a 2.x server answers with nothing) gives what the
    public search gives where that filter works: models, and no prompts."""
    mlflow_client.create_registered_model(unique_name)
    if hasattr(mlflow_client, "register_prompt"):
        # A 2.x server has no prompts (it refuses the registration): then there is no prompt to leave out.
        with contextlib.suppress(MlflowException):
            mlflow_client.register_prompt(f"{unique_name}-prompt", template="Hello {{name}}")
    registry = Registry(tracking_uri, tracking_uri)

    names = {model.name for model in registry.registered_models()}

    assert unique_name in names
    assert f"{unique_name}-prompt" not in names
    listed = {model.name for model in _pages(mlflow_client.search_registered_models, max_results=1000)}
    if listed:  # a 3.x client against a 2.x server lists nothing at all: the case the package works around
        assert names == listed
