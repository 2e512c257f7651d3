"""Fault injection: every REST call of promote, set, rollback and check --fix fails in turn, on a live server.

After each fault the registry and the audit trail agree, or ``check`` reports the disagreement; after
``check --fix`` they agree and ``check`` is clean. Faults come from a loopback proxy (tests/integration/
faults.py): an HTTP 500, an answer lost after the server did the work, or a server dead from that call on.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from mlflow.tracking import MlflowClient

import mlflow_allowance._writeahead as writeahead_module
from mlflow_allowance import AllowanceClient, AllowanceError

from .conftest import MakeVersion, make_version_factory
from .faults import FAULTS, Fault, FaultProxy, fault_proxy

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: A bound on the REST calls of one operation, so a mistake cannot loop forever.
MAX_CALLS = 60


@pytest.fixture(scope="module")
def proxy(mlflow_server: str) -> Iterator[FaultProxy]:
    with fault_proxy(mlflow_server) as running:
        yield running


@dataclass
class World:
    """One environment and two competing models, arranged through the healthy server."""

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


def arrange(mlflow_server: str, proxy: FaultProxy) -> World:
    """@env held by ``other``/1 (allowance <=1.0), then the allowance widened to <=2.0: the next promote
    moves @env to ``model``/3 (2.0, best F1), takes it from ``other`` and mirrors the stage."""
    mlflow = MlflowClient(tracking_uri=mlflow_server, registry_uri=mlflow_server)
    make: MakeVersion = make_version_factory(mlflow)
    suffix = uuid.uuid4().hex[:8]
    world = World(
        f"prod-{suffix}",
        f"model-{suffix}",
        f"other-{suffix}",
        AllowanceClient(mlflow_server, mlflow_server),
        AllowanceClient(proxy.uri, proxy.uri),
        mlflow,
    )
    make(world.model, "1.0", {"F1": 0.90})
    make(world.model, "1.0", {"F1": 0.95})
    make(world.model, "2.0", {"F1": 0.99})
    make(world.other, "1.0", {"F1": 0.97})
    world.healthy.set_allowance(world.env, "<=1.0")
    world.healthy.promote(world.env, [world.model, world.other], metric="F1", stage="Staging")
    world.healthy.set_allowance(world.env, "<=2.0")
    return world


def promote(world: World) -> object:
    return world.faulty.promote(world.env, [world.model, world.other], metric="F1", stage="Staging")


def set_allowance(world: World) -> object:
    return world.faulty.set_allowance(world.env, "==1.0")


def rollback(world: World) -> object:
    world.healthy.promote(world.env, [world.model, world.other], metric="F1", stage="Staging")
    return world.faulty.rollback(world.env, world.other)


def check_fix(world: World) -> object:
    world.healthy.promote(world.env, [world.model, world.other], metric="F1", stage="Staging")
    audit = world.mlflow.get_experiment_by_name("mlflow-allowance")
    assert audit is not None
    world.mlflow.set_experiment_tag(
        audit.experiment_id, f"mlflow_allowance.allowance.{world.env}", "<=1.0"
    )  # narrowed outside mlflow-allowance: drift, and a holder outside the allowance
    return world.faulty.check(world.env, world.models, fix=True)


def _now_ms() -> int:
    return int(time.time() * 1000)


OPERATIONS: dict[str, Callable[[World], object]] = {
    "promote": promote,
    "set": set_allowance,
    "rollback": rollback,
    "check-fix": check_fix,
}


#: Every fault for promote, the operation that matters most; for the others the server answering 500 and
#: the answer lost after the server acted (a dead server is a 500 at that call that no later call escapes,
#: which promote shows is handled; leaving it out keeps the suite within CI's budget).
CASES = [
    pytest.param(operation, fault, id=f"{operation}-{fault}")
    for operation in OPERATIONS
    for fault in FAULTS
    if operation == "promote" or fault != "dead"
]


@pytest.mark.parametrize(("operation", "fault"), CASES)
def test_every_call_of_an_operation_fails_in_turn_and_check_fix_repairs(
    mlflow_server: str, proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch, operation: str, fault: Fault
) -> None:
    run = OPERATIONS[operation]
    failed_at = []
    for number in range(MAX_CALLS):
        world = arrange(mlflow_server, proxy)
        monkeypatch.setattr(writeahead_module, "now_ms", _now_ms)
        proxy.plan({number: fault})  # only the faulty client's calls go through the proxy
        try:
            run(world)
        except AllowanceError:
            failed_at.append(number)
        calls = len(proxy.log)
        # An hour later: a crashed writer's claim and pending record have long run out.
        monkeypatch.setattr(writeahead_module, "now_ms", lambda: _now_ms() + 3_600_000)
        problems = world.disagreements()
        report = world.healthy.check(world.env, world.models)
        assert not problems or not report.ok, (
            f"{operation}: {fault} at call {number} ({proxy.log[number] if number < calls else '-'}) "
            f"left {problems} and check saw nothing"
        )
        world.healthy.check(world.env, world.models, fix=True)
        assert world.disagreements() == [], f"{operation}: {fault} at call {number} not repaired"
        again = world.healthy.check(world.env, world.models)
        assert again.ok, f"{operation}: {fault} at call {number}: {again.to_dict()['violations']}"
        if number >= calls:
            break  # the fault came after the operation's last call: every call has had its turn
    else:
        pytest.fail(f"{operation} made more than {MAX_CALLS} calls")
    assert failed_at, f"{operation}: no injected {fault} made it fail"
