"""``mlflow allowance ...`` through MLflow's own ``mlflow`` program, in the wheel and the editable venv.

``set``, ``get``, ``select --json`` and ``promote``, in that order, against a sqlite store and against the
live ``mlflow_server``; then every exit status (0; 1: no eligible candidate; 2: invalid allowance, unknown
model, unreachable server), each failure exactly one line on stderr and nothing written: the whole sqlite
database dumps the same before and after, and nothing else appears in the working directory.

Each ``mlflow`` process imports ``mlflow.cli`` first: about 5 s of CPU on a busy two-core machine, whatever
the command. The two factors are covered pairwise, not as a product: the venv decides only how ``mlflow``
finds the plugin, the backend only what the command talks to, so each venv runs every command (against
one backend each) and each failure runs once; see :data:`SCENARIOS` and :data:`FAILURES`. The module starts
all its processes at once on the shared :class:`~tests.plugin.conftest.Pool`, and each test checks one
result. The server is shared with the rest of the suite, so names there are unique (``prod-1a2b3c4d``).
"""

from __future__ import annotations

import json
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from mlflow_allowance.testing import free_port

from .conftest import (
    SEED_MODEL,
    SEED_STAGING,
    Pool,
    Run,
    Venv,
    Venvs,
    dump,
    seed_versions,
    sqlite_uri,
    store_copy,
    unique,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: (venv, backend): every command runs in each venv and against each backend. Adding ("wheel", "server")
#: and ("editable", "sqlite") costs 8 more ``mlflow`` processes and exercises no other code path.
SCENARIOS = (("wheel", "sqlite"), ("editable", "server"))
#: What the seed makes of '<=2.0' by F1: 1.5 (registry version 2, F1 0.95); 2.1 has a better F1 but is
#: outside the allowance.
WINNER = {"version": "2", "semver": "1.5", "metric": 0.95}


@dataclass(frozen=True)
class Scenario:
    """One backend seen from one venv: the environment and model it uses, where its store lives."""

    kind: str
    backend: str
    tracking_uri: str
    env: str
    model: str
    cwd: Path

    def commands(self) -> dict[str, list[str]]:
        return {
            "set": ["set", self.env, "<=2.0"],
            "get": ["get", self.env],
            "select": ["select", self.env, "-m", self.model, "--metric", "F1", "--json"],
            "promote": ["promote", self.env, "-m", self.model, "--metric", "F1"],
        }

    def run(self, venv: Venv) -> dict[str, Run]:
        """Every step in order; stops after the first that fails."""
        done: dict[str, Run] = {}
        for step, args in self.commands().items():
            done[step] = venv.mlflow(
                "allowance", *args, cwd=self.cwd, env={"MLFLOW_TRACKING_URI": self.tracking_uri}
            )
            if done[step].returncode:
                break
        return done


#: name -> (venv, arguments after ``mlflow allowance``, exit status, start of the one stderr line), each
#: against its own copy of the seed. ``{dead}`` is the URI of a loopback port nobody listens on.
FAILURES: dict[str, tuple[str, list[str], int, str]] = {
    "no-eligible": (
        "wheel",
        ["promote", "staging", "-m", SEED_MODEL],
        1,
        f"Error: no eligible candidate for staging among {SEED_MODEL} (latest semantic version within "
        f"{SEED_STAGING}); @staging is unchanged; run with --explain to see why",
    ),
    "invalid-allowance": (
        "editable",
        ["set", "prod", "<=abc"],
        2,
        "Error: Invalid allowance '<=abc': expected PEP 440",
    ),
    "unknown-model": (
        "wheel",
        ["promote", "prod", "-m", "NoSuchModel"],
        2,
        "Error: registered model 'NoSuchModel' does not exist",
    ),
    "unreachable": (
        "editable",
        ["--tracking-uri", "{dead}", "get", "prod"],
        2,
        "Error: MLflow is unreachable while reading workspace allowances: ",
    ),
}


@dataclass(frozen=True)
class Failure:
    run: Run
    dump_before: list[str]
    dump_after: list[str]
    files_after: list[str]


@dataclass
class Started:
    scenarios: dict[tuple[str, str], Scenario]
    steps: dict[tuple[str, str], Future[dict[str, Run]]]
    failures: dict[str, Future[Failure]]


@pytest.fixture(scope="module")
def started(
    venvs: Venvs,
    pool: Pool,
    seed_db: Path,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Started:
    """Every process of the module, submitted at once; the server is started while the sqlite ones run."""
    root = tmp_path_factory.mktemp("plugin-commands")
    dead = f"http://127.0.0.1:{free_port()}"

    def fail(name: str) -> Failure:
        kind, args, _, _ = FAILURES[name]
        db = store_copy(seed_db, root / name)
        before = dump(db)
        done = venvs[kind].mlflow(
            "allowance",
            *(arg.format(dead=dead) for arg in args),
            cwd=db.parent,
            env={"MLFLOW_TRACKING_URI": sqlite_uri(db)},
        )
        return Failure(done, before, dump(db), sorted(p.name for p in db.parent.iterdir()))

    scenarios: dict[tuple[str, str], Scenario] = {}
    steps: dict[tuple[str, str], Future[dict[str, Run]]] = {}

    def submit(scenario: Scenario) -> None:
        key = (scenario.kind, scenario.backend)
        scenarios[key] = scenario
        steps[key] = pool.submit(partial(scenario.run, venvs[scenario.kind]))

    for kind, backend in SCENARIOS:
        if backend == "sqlite":
            db = store_copy(seed_db, root / f"{kind}-sqlite")
            submit(Scenario(kind, backend, sqlite_uri(db), "prod", SEED_MODEL, db.parent))
    failures = {name: pool.submit(partial(fail, name)) for name in FAILURES}
    server: str = request.getfixturevalue("mlflow_server")
    for kind, backend in SCENARIOS:
        if backend == "server":
            model = unique(f"plugin-{kind}")
            seed_versions(server, model, unique("plugin-training"))
            cwd = root / f"{kind}-server"
            cwd.mkdir()
            submit(Scenario(kind, backend, server, unique("prod"), model, cwd))
    return Started(scenarios, steps, failures)


def step(started: Started, key: tuple[str, str], name: str) -> tuple[Scenario, Run]:
    done = started.steps[key].result()
    assert name in done, f"an earlier step failed:\n{list(done.values())[-1]}"
    run = done[name]
    assert (run.returncode, run.stderr) == (0, ""), run
    return started.scenarios[key], run


@pytest.fixture(params=[pytest.param(pair, id="-".join(pair)) for pair in SCENARIOS])
def scenario_key(request: pytest.FixtureRequest) -> tuple[str, str]:
    pair: tuple[str, str] = request.param
    return pair


class TestCommands:
    def test_set(self, started: Started, scenario_key: tuple[str, str]) -> None:
        scenario, run = step(started, scenario_key, "set")
        assert run.stdout == f"{scenario.env}: set <=2.0 (was unset: any version)\n"

    def test_get(self, started: Started, scenario_key: tuple[str, str]) -> None:
        _, run = step(started, scenario_key, "get")
        assert run.stdout == "<=2.0\n"

    def test_select_json(self, started: Started, scenario_key: tuple[str, str]) -> None:
        scenario, run = step(started, scenario_key, "select")
        data: dict[str, Any] = json.loads(run.stdout)
        assert (data["environment"], data["allowance"]) == (scenario.env, "<=2.0")
        assert data["winner"] == {"name": scenario.model, **WINNER}
        assert sorted((c["semver"], c["eligible"]) for c in data["candidates"]) == [
            ("1.0", True),
            ("1.5", True),
            ("2.0", True),
            ("2.1", False),
        ]

    def test_promote(self, started: Started, scenario_key: tuple[str, str]) -> None:
        scenario, run = step(started, scenario_key, "promote")
        assert run.stdout == f"{scenario.env}: promoted @{scenario.env} nothing → {scenario.model}/2\n"
        assert _alias(scenario.tracking_uri, scenario.model, scenario.env) == WINNER["version"]


def _alias(uri: str, model: str, alias: str) -> str:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    return str(client.get_model_version_by_alias(model, alias).version)  # int from sqlite, str over REST


@pytest.mark.parametrize(
    "name", [pytest.param(name, id=f"{kind}-{name}") for name, (kind, *_) in FAILURES.items()]
)
def test_failure_exit_status_one_line_and_nothing_written(started: Started, name: str) -> None:
    _, _, status, message = FAILURES[name]
    failure = started.failures[name].result()
    assert (failure.run.returncode, failure.run.stdout) == (status, ""), failure.run
    assert failure.run.error_line().startswith(message)
    assert failure.files_after == ["mlflow.db"]
    assert failure.dump_after == failure.dump_before
