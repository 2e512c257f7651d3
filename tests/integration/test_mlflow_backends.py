"""The shared fixtures work on both backends, and the MLflow behaviour the adapter relies on holds."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from mlflow import MlflowClient

from mlflow_allowance._registry import _pages, _registered_model_search, search_versions

pytestmark = pytest.mark.integration


def _register(client: MlflowClient, name: str, tags: dict[str, str] | None = None) -> str:
    """Create ``name`` with one version whose source lies in a fresh run; return the run id."""
    experiment_id = client.create_experiment(f"exp-{name}")
    run_id: str = client.create_run(experiment_id).info.run_id
    client.create_registered_model(name)
    client.create_model_version(name, f"runs:/{run_id}/model", run_id=run_id, tags=tags)
    return run_id


def test_register_and_read_back(tracking_uri: str, unique_name: str) -> None:
    client = MlflowClient(tracking_uri)
    run_id = _register(client, unique_name, tags={"k": "v"})

    mv = client.get_model_version(unique_name, "1")

    assert mv.name == unique_name
    assert mv.run_id == run_id
    assert mv.source == f"runs:/{run_id}/model"
    assert mv.status == "READY"
    assert mv.tags == {"k": "v"}


def test_version_type_differs_by_backend(tracking_uri: str, unique_name: str) -> None:
    client = MlflowClient(tracking_uri)
    _register(client, unique_name)
    client.set_registered_model_alias(unique_name, "champion", "1")

    searched = search_versions(client, [unique_name])[0][0]
    got = client.get_model_version(unique_name, "1")
    aliases = client.get_registered_model(unique_name).aliases

    # ``ModelVersion.version`` is annotated ``str`` but the sqlite store hands back an ``int``.
    expected: type = int if tracking_uri.startswith("sqlite:") else str
    assert type(searched.version) is expected
    assert type(got.version) is expected
    assert type(aliases["champion"]) is expected
    assert int(got.version) == 1


def test_search_includes_tags_but_not_aliases(tracking_uri: str, unique_name: str) -> None:
    client = MlflowClient(tracking_uri)
    _register(client, unique_name, tags={"k": "v"})
    client.set_registered_model_tag(unique_name, "owner", "me")
    client.set_registered_model_alias(unique_name, "champion", "1")

    [searched] = search_versions(client, [unique_name])[0]
    [model] = [m for m in _pages(_registered_model_search(client), max_results=1000) if m.name == unique_name]

    assert searched.tags == {"k": "v"}
    assert searched.aliases == []
    assert client.get_model_version(unique_name, "1").aliases == ["champion"]
    assert model.tags == {"owner": "me"}
    assert set(model.aliases) == {"champion"}


#: Names that break naive quoting: quotes of both kinds, LIKE wildcards, backslashes (also before a
#: quote and at the end), control characters, SQL-ish punctuation, non-ASCII.
TRICKY_STEMS = [
    "it's",
    "50%_model",
    'a"b',
    "back\\slash",
    "trail\\",
    "both'\"",
    "x\\'y",
    "tab\tnl\n",
    "(a), AND b",
    "semi;colon",
    "back`tick",
    "é€😀",
]


@pytest.mark.parametrize("name_in", [True, False], ids=["name-in", "per-model"])
@pytest.mark.parametrize("stem", TRICKY_STEMS)
def test_version_search_matches_exact_names(
    tracking_uri: str, unique_name: str, stem: str, name_in: bool
) -> None:
    """Both routes of the adapter's version search: ``name IN`` (MLflow 3.17+) and one search per model."""
    client = MlflowClient(tracking_uri)
    name = f"{unique_name}-{stem}"
    decoy = f"{unique_name}-50XYmodel"  # what ``50%_model`` would match as a LIKE pattern
    for n in (name, decoy):
        client.create_registered_model(n)
        client.create_model_version(n, "s3://bucket/model")
    route = None if name_in else False

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. "invalid escape sequence" from MLflow's literal_eval
        versions, used_in = search_versions(client, [name], name_in=route)
        both, _ = search_versions(client, [name, decoy], name_in=route)

    if name_in and not used_in:
        pytest.skip("this MLflow refuses name IN (...) in a version search (before 3.17)")
    assert used_in is name_in
    assert [mv.name for mv in versions] == [name]
    assert sorted(mv.name for mv in both) == sorted([name, decoy])


def test_sqlite_store_keeps_artifacts_in_tmp_path(sqlite_uri: str, tmp_path: Path) -> None:
    client = MlflowClient(sqlite_uri)
    experiment_id = client.create_experiment("artifacts")
    run_id = client.create_run(experiment_id).info.run_id

    client.log_text(run_id, "hello", "note.txt")

    assert Path.cwd() == tmp_path
    assert client.get_experiment("0").artifact_location == str(tmp_path / "mlruns" / "0")
    assert list(tmp_path.glob("mlruns/*/*/artifacts/note.txt"))


def test_server_fixture_serves_health_and_registry(mlflow_server: str, unique_name: str) -> None:
    assert mlflow_server.startswith("http://127.0.0.1:")
    client = MlflowClient(mlflow_server)
    client.create_registered_model(unique_name)
    assert client.get_registered_model(unique_name).name == unique_name
