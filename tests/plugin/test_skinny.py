"""mlflow-allowance where the project has no full MLflow: installed from the package index, nothing borrowed.

* ``skinny`` (``pip install "mlflow-allowance[skinny]"``): the client of a CI job that talks to a tracking
  server. Against the session's live ``mlflow_server``: ``mlflow allowance set/get``, ``mlflow-allowance
  list``, and the Python API end to end (set an allowance, tag versions, select, promote), without MLflow's
  server-side packages installed or imported. A database URI is one line saying it needs the full mlflow.
* ``no-mlflow`` (``pip install mlflow-allowance``, the base dependencies only): the package imports, and
  the first command that needs MLflow says, in one line, to install the ``skinny`` extra.

The module starts every process at once on the shared :class:`~tests.plugin.conftest.Pool` (those that
need no server run while the session's server starts, if it has not yet), and each test checks one result.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from mlflow_allowance.testing import free_port

from .conftest import Pool, Run, Venv, unique

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: What the full mlflow brings and mlflow-skinny does not: none may be installed, let alone imported.
SERVER_SIDE = ("sqlalchemy", "flask", "pandas", "alembic")
#: The API end to end through ``AllowanceClient`` in the skinny venv. mlflow-skinny cannot log a model, so
#: the versions come from runs and ``MlflowClient.create_model_version``, and get their semantic versions
#: through ``set_version``. Arguments: URI, environment, model, experiment, then :data:`SERVER_SIDE`.
#: Prints one JSON object as its last line (MLflow prints run links before it).
API_SCRIPT = """\
import importlib.metadata
import importlib.util
import json
import sys

uri, environment, model, experiment, *SERVER_SIDE = sys.argv[1:]
installed = [name for name in SERVER_SIDE if importlib.util.find_spec(name) is not None]

from mlflow import MlflowClient

from mlflow_allowance import AllowanceClient


def version_of(dist):
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


allowance = AllowanceClient(tracking_uri=uri)
allowance.set_allowance(environment, "<=1.5")
mlflow = MlflowClient(tracking_uri=uri)
experiment_id = mlflow.create_experiment(experiment)
mlflow.create_registered_model(model)
for semver, f1 in (("1.0", 0.90), ("1.5", 0.95), ("2.0", 0.99)):
    run_id = mlflow.create_run(experiment_id).info.run_id
    mlflow.log_metric(run_id, "F1", f1)
    mlflow.set_terminated(run_id)
    created = mlflow.create_model_version(model, source=f"runs:/{run_id}/model", run_id=run_id)
    allowance.set_version(model, created.version, semver)
winner = allowance.select(environment, model, metric="F1").winner
promotion = allowance.promote(environment, model, metric="F1")
result = {
    "dists": {dist: version_of(dist) is not None for dist in ("mlflow", "mlflow-skinny")},
    "installed": installed,
    "winner": winner and [winner.candidate.version, winner.semver and winner.semver.text],
    "promoted": [promotion.old, promotion.new, promotion.changed],
    "alias": mlflow.get_model_version_by_alias(model, environment).version,
    "semver_of_1": allowance.get_version(model, 1).semver,
}
result["imported"] = [name for name in SERVER_SIDE if name in sys.modules]
print(json.dumps(result))
"""
#: In the no-mlflow venv: the package imports, MLflow is nowhere, and the API names the extra.
BARE_SCRIPT = """\
import importlib.util

import mlflow_allowance
from mlflow_allowance.errors import MissingExtraError

print(importlib.util.find_spec("mlflow"))
try:
    mlflow_allowance.AllowanceClient(tracking_uri="http://127.0.0.1:1")
except MissingExtraError as exc:
    print(exc)
"""
MISSING_EXTRA = (
    "mlflow-allowance needs an MLflow client, and none is installed: "
    "pip install 'mlflow-allowance[skinny]' (or mlflow)"
)
#: A database URI in the skinny venv, given three ways: (program and arguments, extra environment).
DATABASE_CASES: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "script": (("mlflow-allowance", "--tracking-uri", "sqlite:///x.db", "get", "prod"), {}),
    "mlflow": (("mlflow", "allowance", "get", "prod", "--tracking-uri", "sqlite:///x.db"), {}),
    "env": (("mlflow-allowance", "get", "prod"), {"MLFLOW_TRACKING_URI": "sqlite:///x.db"}),
}


@dataclass
class Started:
    environment: str
    model: str
    cli: Future[dict[str, Run]]
    api: Future[Run]
    databases: dict[str, Future[tuple[Run, list[str]]]]
    bare_cli: Future[Run]
    bare_api: Future[Run]


@pytest.fixture(scope="module")
def started(
    index_venvs: Mapping[str, Venv],
    pool: Pool,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Started:
    root = tmp_path_factory.mktemp("plugin-skinny")
    skinny, bare = index_venvs["skinny"], index_venvs["no-mlflow"]

    def folder(name: str) -> Path:
        path = root / name
        path.mkdir()
        return path

    def database(name: str) -> tuple[Run, list[str]]:
        args, env = DATABASE_CASES[name]
        cwd = folder(f"database-{name}")
        done = skinny.run(skinny.bin / args[0], *args[1:], cwd=cwd, env=env)
        return done, sorted(path.name for path in cwd.iterdir())

    databases = {name: pool.submit(partial(database, name)) for name in DATABASE_CASES}
    dead = f"http://127.0.0.1:{free_port()}"
    bare_cli = pool.submit(
        partial(
            bare.run, bare.bin / "mlflow-allowance", "get", "prod", "--tracking-uri", dead, cwd=folder("bare")
        )
    )
    bare_api = pool.submit(partial(bare.run, bare.python, "-c", BARE_SCRIPT, cwd=folder("bare-api")))

    server: str = request.getfixturevalue("mlflow_server")
    environment, model = unique("skinny-prod"), unique("skinny-model")

    def cli() -> dict[str, Run]:
        """``set``, then ``get`` and ``list``; stops after the first that fails."""
        cwd, env = folder("cli"), {"MLFLOW_TRACKING_URI": server}
        steps = {
            "set": (skinny.bin / "mlflow", "allowance", "set", environment, "<=1.0"),
            "get": (skinny.bin / "mlflow", "allowance", "get", environment, "--json"),
            "list": (skinny.bin / "mlflow-allowance", "list"),
        }
        done: dict[str, Run] = {}
        for step, args in steps.items():
            done[step] = skinny.run(*args, cwd=cwd, env=env)
            if done[step].returncode:
                break
        return done

    script = root / "api.py"
    script.write_text(API_SCRIPT)
    api_args = (
        skinny.python,
        script,
        server,
        unique("skinny-api"),
        model,
        unique("skinny-training"),
        *SERVER_SIDE,
    )
    api = pool.submit(partial(skinny.run, *api_args, cwd=folder("api")))
    return Started(environment, model, pool.submit(cli), api, databases, bare_cli, bare_api)


def _ok(done: Run) -> Run:
    assert (done.returncode, done.stderr) == (0, ""), done
    return done


def _cli_step(started: Started, name: str) -> Run:
    done = started.cli.result()
    assert name in done, f"an earlier step failed:\n{list(done.values())[-1]}"
    return _ok(done[name])


@pytest.fixture(scope="module")
def api(started: Started) -> dict[str, Any]:
    """What :data:`API_SCRIPT` printed."""
    done = started.api.result()
    assert done.returncode == 0, done
    assert "Traceback" not in done.stderr, done
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


class TestSkinny:
    def test_mlflow_allowance_set(self, started: Started) -> None:
        done = _cli_step(started, "set")
        assert done.stdout.startswith(f"{started.environment}: set <=1.0 "), done

    def test_mlflow_allowance_get_json(self, started: Started) -> None:
        done = _cli_step(started, "get")
        assert json.loads(done.stdout) == {
            "environment": started.environment,
            "model": None,
            "allowance": "<=1.0",
            "source": "default",
        }

    def test_script_list(self, started: Started) -> None:
        rows = [line.split() for line in _cli_step(started, "list").stdout.splitlines()]
        assert rows[0] == ["ENV", "MODEL", "ALLOWANCE", "SOURCE"]
        assert [started.environment, "*", "<=1.0", "default"] in rows

    def test_mlflow_is_the_skinny_client(self, api: dict[str, Any]) -> None:
        assert api["dists"] == {"mlflow": False, "mlflow-skinny": True}

    def test_api_tags_selects_and_promotes(self, api: dict[str, Any], started: Started) -> None:
        """Within <=1.5 the best F1 is 1.5's (registry version 2); 2.0 has a better one but is outside."""
        assert api["semver_of_1"] == "1.0"
        assert api["winner"] == [2, "1.5"]
        assert api["promoted"] == [None, f"{started.model}/2", True]
        assert api["alias"] == "2"

    def test_server_side_packages_are_neither_installed_nor_imported(self, api: dict[str, Any]) -> None:
        assert (api["installed"], api["imported"]) == ([], [])

    @pytest.mark.parametrize("name", DATABASE_CASES)
    def test_database_uri_needs_the_full_mlflow_in_one_line(self, started: Started, name: str) -> None:
        done, files = started.databases[name].result()
        assert (done.returncode, done.stdout) == (2, ""), done
        line = done.error_line()
        assert line.startswith("Error: Invalid tracking URI 'sqlite:///x.db': "), done
        assert "database stores need the full mlflow package" in line, done
        assert files == [], "nothing may be created in the working directory"


class TestNoMlflow:
    def test_package_imports_and_the_api_names_the_extra(self, started: Started) -> None:
        done = _ok(started.bare_api.result())
        assert done.stdout.splitlines() == ["None", MISSING_EXTRA]

    def test_command_names_the_extra_in_one_line(self, started: Started) -> None:
        done = started.bare_cli.result()
        assert (done.returncode != 0, done.stdout) == (True, ""), done
        assert "mlflow-allowance[skinny]" in done.error_line(), done
