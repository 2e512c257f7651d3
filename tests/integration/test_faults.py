"""Fault injection: every call to MLflow of promote, set, rollback and check --fix fails in turn.

After each fault the registry and the audit trail agree, or ``check`` reports the disagreement; after
``check --fix`` they agree and ``check`` is clean. The faults (tests/integration/faults.py): the server
answers HTTP 500, the answer is lost after the server did the work, or the server is dead from that call on.

Which positions run where:

- **Every call position, with every fault, on a sqlite store in process**
  (``test_every_call_fails_in_turn``), and once more past the last call, where the operation must succeed.
  Each operation's world (two models, @env held, allowances and trail, the operation's own preparation) is
  built once per module as a sqlite file; each position runs on a fresh copy of it. The faults are
  injected around the faulty client's store calls, numbered as the REST requests a client sends a server:
  one per store method, plus the read of the run MLflow's client sends before ending one. The operation's
  fault-free calls are recorded once, and each position checks that its fault hit the recorded call.
- **The first, middle and last write, over HTTP, on the session's live ``mlflow server``**
  (``test_faults_over_http``): through a loopback proxy that answers 500, drops the answer or stops
  answering. Each operation meets each fault once, at one of those three writes (rotated over the
  operations, so each fault also meets each of the three). This is what the server adds: MLflow's REST
  client, its errors for a 500 and for a connection closed unanswered, the server doing the work of a lost
  request. Each case also runs the same fault in process and checks that the client sent the same requests,
  before the fault and after it, and failed alike: the in-process positions are the requests a server sees,
  and an in-process fault is what the client meets over HTTP.

Every position over HTTP, each on a world of its own built with some 60 requests, took over ten minutes on
a 2-core machine, though it left the dead server out for all operations but promote; a sqlite world is a
file copy.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from mlflow.tracking import MlflowClient

import mlflow_allowance._writeahead as writeahead_module
from mlflow_allowance import AllowanceClient, AllowanceError
from mlflow_allowance._schema import VERSION_TAG

from .faults import FAULTS, Fault, FaultProxy, StoreFaults, fault_proxy, faulty_client, is_write, store_call

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: A bound on the calls of one operation, so a mistake cannot loop forever.
MAX_CALLS = 60
#: The model versions of a world, in registration order: (model or other, semantic version, F1).
VERSIONS = (("model", "1.0", 0.90), ("model", "1.0", 0.95), ("model", "2.0", 0.99), ("other", "1.0", 0.97))


@dataclass
class World:
    """One environment and two competing models; ``healthy`` arranges and inspects, ``faulty`` fails."""

    env: str
    model: str
    other: str
    healthy: AllowanceClient
    faulty: AllowanceClient
    mlflow: MlflowClient

    @property
    def models(self) -> list[str]:
        return [self.model, self.other]

    def holders(self) -> list[str]:
        found = []
        for name in (self.model, self.other):
            aliases = self.mlflow.get_registered_model(name).aliases
            if self.env in aliases:
                found.append(f"{name}/{int(aliases[self.env])}")
        return found

    def stage_of(self, key: str) -> str:
        name, _, version = key.rpartition("/")
        return str(self.mlflow.get_model_version(name, version).current_stage)

    def disagreements(self) -> list[str]:
        """Where the registry and the trail disagree (empty when they agree)."""
        problems = []
        records = self.healthy.history(self.env)
        problems += [f"record {r.seq} is {r.state}" for r in records if r.state == "pending"]
        holders = self.holders()
        if len(holders) > 1:
            problems.append(f"two holders {holders}")
        moves = [r for r in records if r.kind in ("promotion", "rollback", "repair") and r.done]
        if moves and holders and moves[0].new != holders[0]:
            problems.append(f"@{self.env} on {holders[0]}, trail says {moves[0].new}")
        if moves and not holders and moves[0].new is not None:
            problems.append(f"@{self.env} on nothing, trail says {moves[0].new}")
        stage = moves[0].details.get("stage") if moves else None
        if stage and holders and self.stage_of(holders[0]) != stage:
            problems.append(f"{holders[0]} in stage {self.stage_of(holders[0])}, trail says {stage}")
        allowances = [r for r in records if r.kind == "allowance" and r.model is None and r.done]
        stored = self.healthy.get_allowance(self.env)
        stored_text = None if stored.source == "unset" else stored.allowance.canonical
        if allowances and allowances[0].new != stored_text:
            problems.append(f"allowance {stored_text}, trail says {allowances[0].new}")
        return problems


def train(mlflow: MlflowClient) -> list[str]:
    """The finished training runs of :data:`VERSIONS` (logging their F1), in that order."""
    experiment = mlflow.create_experiment(f"training-{uuid.uuid4().hex[:8]}")
    run_ids = []
    for _, _, f1 in VERSIONS:
        run = mlflow.create_run(experiment)
        mlflow.log_metric(run.info.run_id, "F1", f1)
        mlflow.set_terminated(run.info.run_id)
        run_ids.append(run.info.run_id)
    return run_ids


def arrange(world: World, run_ids: list[str]) -> World:
    """@env held by ``other``/1 (allowance <=1.0), then the allowance widened to <=2.0: the next promote
    moves @env to ``model``/3 (2.0, best F1), takes it from ``other`` and mirrors the stage."""
    names = {"model": world.model, "other": world.other}
    for name in world.models:
        world.mlflow.create_registered_model(name)
    for (which, semver, _), run_id in zip(VERSIONS, run_ids, strict=True):
        world.mlflow.create_model_version(
            names[which], source=f"runs:/{run_id}/model", run_id=run_id, tags={VERSION_TAG: semver}
        )
    world.healthy.set_allowance(world.env, "<=1.0")
    world.healthy.promote(world.env, world.models, metric="F1", stage="Staging")
    world.healthy.set_allowance(world.env, "<=2.0")
    return world


@dataclass(frozen=True)
class Operation:
    """A write sequence: ``prepare`` (healthy, part of the world) and ``act`` (the one that fails)."""

    prepare: Callable[[World], None]
    act: Callable[[World], object]


def _nothing(world: World) -> None:
    return None


def _promote_healthy(world: World) -> None:
    world.healthy.promote(world.env, world.models, metric="F1", stage="Staging")


def _promote_and_narrow(world: World) -> None:
    _promote_healthy(world)
    audit = world.mlflow.get_experiment_by_name("mlflow-allowance")
    assert audit is not None
    world.mlflow.set_experiment_tag(
        audit.experiment_id, f"mlflow_allowance.allowance.{world.env}", "<=1.0"
    )  # narrowed outside mlflow-allowance: drift, and a holder outside the allowance


OPERATIONS: dict[str, Operation] = {
    "promote": Operation(_nothing, lambda w: w.faulty.promote(w.env, w.models, metric="F1", stage="Staging")),
    "set": Operation(_nothing, lambda w: w.faulty.set_allowance(w.env, "==1.0")),
    "rollback": Operation(_promote_healthy, lambda w: w.faulty.rollback(w.env, w.other)),
    "check-fix": Operation(_promote_and_narrow, lambda w: w.faulty.check(w.env, w.models, fix=True)),
}


def _now_ms() -> int:
    return int(time.time() * 1000)


def act(world: World, operation: str, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Run ``operation`` through the faulty client, now; whether it failed (with the package's error)."""
    monkeypatch.setattr(writeahead_module, "now_ms", _now_ms)
    try:
        OPERATIONS[operation].act(world)
    except AllowanceError:
        return True
    return False


def assert_found_and_repaired(world: World, monkeypatch: pytest.MonkeyPatch, what: str) -> None:
    """The registry and the trail agree, or ``check`` says they do not; after ``check --fix`` they agree
    and ``check`` is clean."""
    # An hour later: a crashed writer's claim and pending record have long run out.
    monkeypatch.setattr(writeahead_module, "now_ms", lambda: _now_ms() + 3_600_000)
    problems = world.disagreements()
    report = world.healthy.check(world.env, world.models)
    assert not problems or not report.ok, f"{what} left {problems} and check saw nothing"
    world.healthy.check(world.env, world.models, fix=True)
    assert world.disagreements() == [], f"{what} not repaired"
    again = world.healthy.check(world.env, world.models)
    assert again.ok, f"{what}: {again.to_dict()['violations']}"


# Every position, on sqlite --------------------------------------------------------------------------------


#: The environment and models of every sqlite world (each has a database of its own).
NAMES = ("prod", "model", "other")


def sqlite_uri(db: Path) -> str:
    return f"sqlite:///{db}"


def engines(db: Path) -> list[Any]:
    """The SQLAlchemy engines of MLflow's stores on ``db`` (tracking and registry; kept for good)."""
    client = MlflowClient(tracking_uri=sqlite_uri(db), registry_uri=sqlite_uri(db))
    registry = client._get_registry_client()  # type: ignore[no-untyped-call]
    return [store.engine for store in (client._tracking_client.store, registry.store)]


def close(db: Path) -> None:
    """Close the connections MLflow pools to ``db``."""
    for engine in engines(db):
        engine.dispose()


def _unsynced(connection: Any, record: Any) -> None:
    """A test database need not survive a power cut: no fsync per commit, the journal in memory."""
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute("PRAGMA journal_mode=MEMORY")


@dataclass(frozen=True)
class Worlds:
    """Each operation's world, prepared, as a sqlite file built once; the calls the operation makes on it
    without faults; and the one file every position copies its world to.

    One file, so one MLflow engine serves every position, with its compiled statements: a fresh engine per
    position (per file name) would cost more than the position itself.
    """

    directory: Path
    templates: dict[str, Path]
    calls: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def scratch(self) -> Path:
        return self.directory / "world.db"

    def open(self, operation: str, faults: StoreFaults) -> World:
        """A fresh copy of ``operation``'s world, its faulty client failing as ``faults`` says."""
        if self.scratch.exists():
            close(self.scratch)  # no pooled connection may outlive the file it opened
        shutil.copyfile(self.templates[operation], self.scratch)
        uri = sqlite_uri(self.scratch)
        world = World(
            *NAMES,
            healthy=AllowanceClient(uri, uri),
            faulty=faulty_client(uri, faults),
            mlflow=MlflowClient(tracking_uri=uri, registry_uri=uri),
        )
        for engine in engines(self.scratch):
            if not sqlalchemy.event.contains(engine, "connect", _unsynced):
                sqlalchemy.event.listen(engine, "connect", _unsynced)
                engine.dispose()  # the connection opened before
        return world


@pytest.fixture(scope="module")
def worlds(_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worlds]:
    """Each operation's world, built once, and the calls the operation makes on it without faults."""
    directory = tmp_path_factory.mktemp("fault-worlds")
    templates = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(directory)  # MLflow's sqlite store puts artifacts under ./mlruns
        for operation, steps in OPERATIONS.items():
            db = templates[operation] = directory / f"{operation}.db"
            shutil.copyfile(_sqlite_template, db)
            uri = sqlite_uri(db)
            mlflow = MlflowClient(tracking_uri=uri, registry_uri=uri)
            healthy = AllowanceClient(uri, uri)
            world = arrange(World(*NAMES, healthy, healthy, mlflow), train(mlflow))
            steps.prepare(world)
            close(db)
        built = Worlds(directory, templates)
        for operation in OPERATIONS:
            faults = StoreFaults()
            if act(built.open(operation, faults), operation, mp):
                pytest.fail(f"{operation} failed without a fault")
            built.calls[operation] = tuple(faults.log)
    yield built
    close(built.scratch)


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_every_call_fails_in_turn(
    worlds: Worlds, monkeypatch: pytest.MonkeyPatch, operation: str, fault: Fault
) -> None:
    calls = worlds.calls[operation]
    assert 0 < len(calls) <= MAX_CALLS, f"{operation} made {len(calls)} calls"
    monkeypatch.chdir(worlds.directory)
    failed_at = []
    for number in range(len(calls) + 1):  # the last number is past the last call: no fault
        faults = StoreFaults()
        faults.plan({number: fault})
        world = worlds.open(operation, faults)
        if act(world, operation, monkeypatch):
            failed_at.append(number)
        at = f"{operation}: {fault} at call {number} ({calls[number] if number < len(calls) else '-'})"
        # The calls up to the fault are the recorded ones: the fault hit the call it was meant for.
        assert faults.log[: number + 1] == list(calls[: number + 1]), f"{at}: made {faults.log}"
        assert_found_and_repaired(world, monkeypatch, at)
    assert failed_at, f"{operation}: no injected {fault} made it fail"
    assert len(calls) not in failed_at, f"{operation} failed without a fault"


# The first, middle and last write, over HTTP -------------------------------------------------------------

#: Which write each fault fails, per operation: rotated, so each fault meets the first, middle and last.
WRITES = ("first", "middle", "last")
HTTP_CASES = [
    pytest.param(operation, fault, write, id=f"{operation}-{fault}-{write}")
    for i, operation in enumerate(OPERATIONS)
    for fault in FAULTS
    for write in [WRITES[(i + FAULTS.index(fault)) % len(WRITES)]]
]


@pytest.fixture(scope="module")
def proxy(mlflow_server: str) -> Iterator[FaultProxy]:
    with fault_proxy(mlflow_server) as running:
        yield running


@pytest.fixture(scope="module")
def trained(mlflow_server: str) -> list[str]:
    """Training runs on the server that every world's model versions share."""
    return train(MlflowClient(tracking_uri=mlflow_server, registry_uri=mlflow_server))


@pytest.mark.parametrize(("operation", "fault", "write"), HTTP_CASES)
def test_faults_over_http(
    mlflow_server: str,
    proxy: FaultProxy,
    trained: list[str],
    worlds: Worlds,
    monkeypatch: pytest.MonkeyPatch,
    operation: str,
    fault: Fault,
    write: str,
) -> None:
    calls = worlds.calls[operation]
    writes = [number for number, call in enumerate(calls) if is_write(call)]
    number = {"first": writes[0], "middle": writes[len(writes) // 2], "last": writes[-1]}[write]
    suffix = uuid.uuid4().hex[:8]
    world = World(
        f"prod-{suffix}",
        f"model-{suffix}",
        f"other-{suffix}",
        AllowanceClient(mlflow_server, mlflow_server),
        AllowanceClient(proxy.uri, proxy.uri),  # only the faulty client's calls go through the proxy
        MlflowClient(tracking_uri=mlflow_server, registry_uri=mlflow_server),
    )
    arrange(world, trained)
    OPERATIONS[operation].prepare(world)
    proxy.plan({number: fault})
    failed = act(world, operation, monkeypatch)
    at = f"{operation}: {fault} at the {write} write, request {number} ({calls[number]})"
    # The same fault in process: the client makes the same calls, before the fault and after it.
    monkeypatch.chdir(worlds.directory)
    faults = StoreFaults()
    faults.plan({number: fault})
    failed_in_process = act(worlds.open(operation, faults), operation, monkeypatch)
    sent = [store_call(request) for request in proxy.log]
    assert sent == faults.log, f"{at}: sent {proxy.log}, in process {faults.log}"
    assert failed == failed_in_process, f"{at}: failed {failed} over HTTP, {failed_in_process} in process"
    assert_found_and_repaired(world, monkeypatch, at)
