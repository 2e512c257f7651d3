"""The in-memory registry: it has the seam's protocol, and it behaves as the MLflow-backed ``Registry`` does.

The fast tests pin the fake's behaviour; one integration test runs the same script against the fake and a
real ``Registry`` over sqlite and compares everything they return and raise.
"""

from __future__ import annotations

import inspect
import re
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import pytest

from mlflow_allowance import AllowanceClient, AuditRecord, DatasetRef, InputError, NotFoundError
from mlflow_allowance._schema import (
    SCORE_DATASET,
    SCORE_DIGEST,
    SCORE_ERROR,
    SCORE_MODEL,
    SCORE_TARGET,
    SCORE_VERSION,
    SCORES_EXPERIMENT,
    TAG_VALUE_LIMIT,
    VERSION_TAG,
)
from mlflow_allowance.audit import ENVIRONMENT_TAG, EVENT_TAG, SEQ_TAG, AuditState
from mlflow_allowance.datasets import DatasetInfo, Score
from mlflow_allowance.errors import RegistryError
from mlflow_allowance.testing import RegisteredModel, RegistryProtocol
from tests.fakes import Call, InMemoryRegistry

#: Every member of the protocol and of the parts it is made of (``ModelRegistry``, ``ScoreStore``, ...).
PROTOCOL_MEMBERS = sorted(
    {
        name
        for part in RegistryProtocol.__mro__
        if part.__module__ == RegistryProtocol.__module__
        for name, value in vars(part).items()
        if not name.startswith("_") and (inspect.isfunction(value) or isinstance(value, property))
    }
)
LONG = "x" * TAG_VALUE_LIMIT
#: The first tag of an audit record's details JSON.
DETAILS = "mlflow_allowance.details.000000"


def record(
    env: str = "prod",
    time_ms: int = 1_700_000_000_000,
    new: str = "A/1",
    details: Mapping[str, Any] | None = None,
    seq: int | None = None,
    state: AuditState = "complete",
) -> AuditRecord:
    """A promotion record as the client writes one."""
    details = details or {"models": ["A"]}
    return AuditRecord("promotion", env, "A", None, new, "ana", time_ms, "why", details, seq=seq, state=state)


@pytest.fixture
def fake() -> InMemoryRegistry:
    return InMemoryRegistry()


class TestProtocol:
    def test_satisfies_the_protocol_statically(self) -> None:
        registry: RegistryProtocol = InMemoryRegistry()  # mypy checks this assignment
        assert registry.tracking_uri == "memory://fake"

    def test_protocol_members_are_found(self) -> None:
        assert {"tracking_uri", "candidates", "write_audit", "read_audit", "scores", "claim"} <= set(
            PROTOCOL_MEMBERS
        )
        assert len(PROTOCOL_MEMBERS) == 28

    @pytest.mark.parametrize("name", PROTOCOL_MEMBERS)
    def test_member_has_the_protocols_signature(self, name: str) -> None:
        expected = inspect.getattr_static(RegistryProtocol, name)
        actual = inspect.getattr_static(InMemoryRegistry, name)
        if isinstance(expected, property):
            assert isinstance(actual, property)
            return
        assert callable(actual)

        def params(function: Callable[..., object]) -> list[tuple[str, object, object]]:
            return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]

        assert params(actual) == params(expected)

    def test_client_accepts_it(self, fake: InMemoryRegistry) -> None:
        assert AllowanceClient(registry=fake).tracking_uri == "memory://fake"

    def test_client_takes_a_registry_or_uris_not_both(self, fake: InMemoryRegistry) -> None:
        with pytest.raises(InputError, match="not both"):
            AllowanceClient("sqlite:///x.db", registry=fake)


MISSING = [
    pytest.param(
        lambda r: r.registered_model("Nope"), "registered model 'Nope' does not exist", id="registered-model"
    ),
    pytest.param(
        lambda r: r.version_semver("Nope", 1),
        "Model Version (name=Nope, version=1) not found (while reading Nope/1)",
        id="semver-of-missing-model",
    ),
    pytest.param(
        lambda r: r.version_semver("A", 9),
        "Model Version (name=A, version=9) not found (while reading A/9)",
        id="semver-of-missing-version",
    ),
    pytest.param(
        lambda r: r.set_version_tag("A", 9, "k", "v"),
        "Model Version (name=A, version=9) not found (while tagging A/9)",
        id="tag-missing-version",
    ),
    pytest.param(
        lambda r: r.set_version_tag("Nope", 1, "k", "v"), "registered model 'Nope'", id="tag-missing-model"
    ),
    pytest.param(
        lambda r: r.set_alias("A", "prod", 9),
        "Model Version (name=A, version=9) not found (while setting alias @prod on A/9)",
        id="alias-missing-version",
    ),
    pytest.param(
        lambda r: r.set_alias("Nope", "prod", 1), "registered model 'Nope'", id="alias-missing-model"
    ),
    pytest.param(
        lambda r: r.delete_alias("Nope", "prod"), "registered model 'Nope'", id="unalias-missing-model"
    ),
    pytest.param(
        lambda r: r.transition_stage("A", 9, "Production"),
        "Model Version (name=A, version=9) not found (while moving A/9 to stage Production)",
        id="stage-missing-version",
    ),
    pytest.param(
        lambda r: r.set_model_tag("Nope", "k", "v"), "registered model 'Nope'", id="model-tag-missing-model"
    ),
    pytest.param(
        lambda r: r.delete_model_tag("Nope", "k"), "registered model 'Nope'", id="model-untag-missing-model"
    ),
    pytest.param(lambda r: r.candidates(["A", "Nope"]), "registered model 'Nope'", id="candidates-missing"),
    pytest.param(
        lambda r: r.register("runs:/nope/model", "A", {}, 0),
        "registered model 'A'",
        id="register-unknown-run",
    ),
]


class TestInMemoryRegistry:
    @pytest.mark.parametrize(("call", "message"), MISSING)
    def test_missing_things_are_not_found(
        self, fake: InMemoryRegistry, call: Callable[[InMemoryRegistry], object], message: str
    ) -> None:
        fake.add_version("A", "1.0")
        before = fake.snapshot()
        with pytest.raises(NotFoundError, match=re.escape(message)):
            call(fake)
        assert fake.snapshot() == before

    @pytest.mark.parametrize(
        "call",
        [
            pytest.param(lambda r: r.set_model_tag("A", "k", LONG), id="model-tag"),
            pytest.param(lambda r: r.set_workspace_tag("k", LONG), id="workspace-tag"),
        ],
    )
    def test_a_tag_value_at_the_limit_is_refused_before_writing(
        self, fake: InMemoryRegistry, call: Callable[[InMemoryRegistry], object]
    ) -> None:
        fake.add_version("A", "1.0")
        before = fake.snapshot()
        with pytest.raises(InputError, match=f"is {TAG_VALUE_LIMIT} characters; the limit is 4999"):
            call(fake)
        assert fake.snapshot() == before

    def test_removing_what_is_not_there_is_a_no_op(self, fake: InMemoryRegistry) -> None:
        fake.add_version("A", "1.0")
        before = fake.snapshot()
        fake.delete_alias("A", "prod")
        fake.delete_model_tag("A", "k")
        fake.delete_workspace_tag("k")  # no audit experiment yet
        assert fake.snapshot() == before

    def test_deleting_a_missing_workspace_tag_of_an_existing_experiment_is_not_found(
        self, fake: InMemoryRegistry
    ) -> None:
        fake.set_workspace_tag("a", "b")
        with pytest.raises(NotFoundError, match="No tag with name: k in experiment"):
            fake.delete_workspace_tag("k")

    def test_workspace_tags_are_empty_until_the_audit_experiment_exists(self, fake: InMemoryRegistry) -> None:
        assert fake.workspace_tags() == {}
        fake.set_workspace_tag("a", "b")
        assert fake.workspace_tags() == {
            "mlflow.note.content": "Allowances and audit trail of mlflow-allowance.",
            "a": "b",
        }
        fake.delete_workspace_tag("a")
        assert "a" not in fake.workspace_tags()

    def test_versions_are_numbered_per_model(self, fake: InMemoryRegistry) -> None:
        assert [fake.add_version("A"), fake.add_version("B"), fake.add_version("A")] == [1, 1, 2]

    def test_candidates_carry_everything_and_metrics_only_when_asked(self, fake: InMemoryRegistry) -> None:
        fake.add_version("A", "1.0", metrics={"F1": 0.9}, tags={"validated": "true"}, status="PENDING")
        fake.set_alias("A", "prod", 1)
        (plain,) = fake.candidates(["A"])
        assert (plain.key, plain.semver, plain.metrics, plain.aliases) == ("A/1", "1.0", {}, ("prod",))
        assert (plain.status, plain.stage) == ("PENDING", "None")
        assert plain.tags == {VERSION_TAG: "1.0", "validated": "true"}
        assert plain.run_id is not None
        (scored,) = fake.candidates(["A"], metric="F1")
        assert scored.metrics == {"F1": 0.9}

    def test_candidates_read_the_semantic_version_from_a_run_tag_only_without_a_version_tag(
        self, fake: InMemoryRegistry
    ) -> None:
        fake.add_version("A", None, run_tags={"v": "3.0"})
        fake.add_version("A", "1.0", run_tags={"v": "9.0"})
        assert [c.semver for c in fake.candidates(["A"], version_run_tag="v")] == ["1.0", "3.0"]
        assert [c.semver for c in fake.candidates(["A"])] == ["1.0", None]

    def test_candidates_come_most_recently_updated_first(self, fake: InMemoryRegistry) -> None:
        for _ in range(3):
            fake.add_version("A", "1.0")
        assert [c.version for c in fake.candidates(["A"])] == [3, 2, 1]
        fake.transition_stage("A", 1, "Staging")
        assert [c.version for c in fake.candidates(["A"])] == [1, 3, 2]

    def test_candidates_look_up_only_the_models_not_given(self, fake: InMemoryRegistry) -> None:
        fake.add_version("A", "1.0")
        fake.add_version("B", "1.0")
        given = fake.registered_model("A")
        fake.reset_calls()
        fake.candidates(["A", "B"], registered=[given])
        assert fake.calls == {"candidates": 1, "registered_model": 1}
        assert fake.log[1].args == ("B",)

    def test_aliases_come_from_the_registered_models_given(self, fake: InMemoryRegistry) -> None:
        fake.add_version("A", "1.0")
        stale = RegisteredModel("A", aliases={"prod": 1})
        assert fake.candidates(["A"], registered=[stale])[0].aliases == ("prod",)

    def test_a_stage_transition_archives_the_previous_holder_only(self, fake: InMemoryRegistry) -> None:
        for _ in range(3):
            fake.add_version("A", "1.0")
        fake.transition_stage("A", 1, "production")
        fake.transition_stage("A", 3, "Staging")
        fake.transition_stage("A", 2, "Production")
        assert [fake.stage("A", v) for v in (1, 2, 3)] == ["Archived", "Production", "Staging"]

    @pytest.mark.parametrize(
        ("stage", "error", "message"),
        [
            pytest.param("Archived", RegistryError, "'Archived' is not an Active stage", id="archived"),
            pytest.param("None", RegistryError, "'None' is not an Active stage", id="none"),
            pytest.param("Bogus", InputError, "Invalid Model Version stage: Bogus", id="unknown"),
        ],
    )
    def test_only_active_stages_can_archive_their_holders(
        self, fake: InMemoryRegistry, stage: str, error: type[Exception], message: str
    ) -> None:
        fake.add_version("A", "1.0")
        with pytest.raises(error, match=message):
            fake.transition_stage("A", 1, stage)
        assert fake.stage("A", 1) == "None"

    def test_run_params_are_read_by_run_id_in_one_call(self, fake: InMemoryRegistry) -> None:
        fake.add_version("A", "1.0", params={"features": "13"})
        fake.add_version("A", "2.0")
        run_ids = [c.run_id or "" for c in fake.candidates(["A"])]
        fake.reset_calls()
        assert fake.run_params([*run_ids, "nope"]) == {run_ids[0]: {}, run_ids[1]: {"features": "13"}}
        assert fake.log == [Call("run_params", ((*run_ids, "nope"),))]

    def test_register_links_a_run_and_creates_the_model(self, fake: InMemoryRegistry) -> None:
        run_id = fake.add_run(metrics={"F1": 0.5})
        assert fake.register(f"runs:/{run_id}/model", "New", {VERSION_TAG: "1.0"}, 0) == 1
        (candidate,) = fake.candidates(["New"], metric="F1")
        assert (candidate.run_id, candidate.metrics, candidate.semver) == (run_id, {"F1": 0.5}, "1.0")
        assert fake.register("s3://bucket/model", "New", {}, 0) == 2

    def test_write_audit_returns_the_record_with_increasing_ids(self, fake: InMemoryRegistry) -> None:
        first, second = record(), record(new="A/2")
        written = [fake.write_audit(first), fake.write_audit(second)]
        ids = [r.record_id or "" for r in written]
        assert written == [first.with_id(ids[0]), second.with_id(ids[1])]
        assert "" < ids[0] < ids[1]

    def test_read_audit_is_newest_first_and_per_environment(self, fake: InMemoryRegistry) -> None:
        fake.write_audit(record(time_ms=2, new="A/2"))
        fake.write_audit(record(time_ms=1, new="A/1"))  # written later, happened earlier
        fake.write_audit(record(time_ms=2, new="A/3"))  # same millisecond: written last, newest
        fake.write_audit(record(env="int", time_ms=5, new="A/9"))
        assert [r.new for r in fake.read_audit()] == ["A/9", "A/3", "A/2", "A/1"]
        assert [r.new for r in fake.read_audit("prod")] == ["A/3", "A/2", "A/1"]

    def test_read_audit_round_trips_through_tags(self, fake: InMemoryRegistry) -> None:
        written = fake.write_audit(record(details={"request": {"models": ["A"], "metric": "F1"}}))
        (read,) = fake.read_audit()
        assert read == written
        assert read.details["request"]["models"] == ("A",)  # frozen, as from MLflow

    def test_read_audit_skips_foreign_and_damaged_runs_and_counts_them(self, fake: InMemoryRegistry) -> None:
        good = fake.write_audit(record())
        fake.add_audit_run({"mlflow.user": "someone"})
        fake.add_audit_run({EVENT_TAG: "bogus", ENVIRONMENT_TAG: "prod"})
        fake.add_audit_run({EVENT_TAG: "promotion", ENVIRONMENT_TAG: "prod", SEQ_TAG: "abc"})
        fake.add_audit_run({EVENT_TAG: "promotion"})  # no environment
        assert list(fake.read_audit()) == [good]
        assert fake.foreign_audit_runs == 4
        assert list(fake.read_audit("prod")) == [good]
        assert fake.foreign_audit_runs == 2  # the others are not of prod

    def test_foreign_runs_are_counted_as_they_are_read(self, fake: InMemoryRegistry) -> None:
        fake.write_audit(record())
        fake.add_audit_run({"mlflow.user": "someone"}, start_time=0)  # the oldest
        list(fake.read_audit())
        records = fake.read_audit()
        assert fake.foreign_audit_runs == 1  # not reset until reading starts
        next(records)
        assert fake.foreign_audit_runs == 0

    def test_unreadable_details_still_make_a_record(self, fake: InMemoryRegistry) -> None:
        fake.add_audit_run({EVENT_TAG: "promotion", ENVIRONMENT_TAG: "prod", DETAILS: "["})
        (read,) = fake.read_audit()
        assert read.details == {"unreadable_details": True}

    @pytest.mark.parametrize(
        ("status", "state"),
        [
            pytest.param("RUNNING", "pending", id="running"),
            pytest.param("SCHEDULED", "pending", id="scheduled"),
            pytest.param("FINISHED", "complete", id="finished"),
            pytest.param("FAILED", "abandoned", id="failed"),
            pytest.param("KILLED", "abandoned", id="killed"),
        ],
    )
    def test_a_records_state_is_its_runs_status(
        self, fake: InMemoryRegistry, status: str, state: str
    ) -> None:
        fake.add_audit_run(record().to_tags(), status=status)
        assert [r.state for r in fake.read_audit()] == [state]

    def test_a_pending_record_stays_open_until_finished(self, fake: InMemoryRegistry) -> None:
        pending = fake.write_audit(record(state="pending"))
        assert pending.state == "pending"
        assert [r.state for r in fake.read_audit()] == ["pending"]
        done = fake.finish_audit(pending, "complete")
        assert done == pending.with_state("complete")
        assert list(fake.read_audit()) == [done]
        fake.finish_audit(pending, "abandoned")
        assert [r.state for r in fake.read_audit()] == ["abandoned"]

    def test_finishing_an_unknown_record_is_not_found(self, fake: InMemoryRegistry) -> None:
        fake.write_audit(record())
        with pytest.raises(NotFoundError, match="Run with id=nope not found"):
            fake.finish_audit(record().with_id("nope"), "complete")

    def test_within_an_environment_the_sequence_number_orders(self, fake: InMemoryRegistry) -> None:
        fake.write_audit(record(time_ms=9, new="A/2", seq=2))  # a machine with a fast clock
        fake.write_audit(record(time_ms=5, new="A/3", seq=3))
        fake.write_audit(record(time_ms=99, new="A/0"))  # before sequence numbers: last
        fake.write_audit(record(time_ms=1, new="A/10", seq=10))
        assert [r.new for r in fake.read_audit("prod")] == ["A/10", "A/3", "A/2", "A/0"]
        assert [r.new for r in fake.read_audit()] == ["A/0", "A/2", "A/3", "A/10"]  # by start time
        newest = fake.newest_audit("prod")
        assert newest is not None
        assert (newest.new, newest.seq) == ("A/10", 10)

    def test_newest_audit_reads_one_page(self, fake: InMemoryRegistry) -> None:
        assert fake.newest_audit("prod") is None
        fake.write_audit(record(seq=1))
        for seq in range(2, 13):
            fake.add_audit_run({EVENT_TAG: "bogus", ENVIRONMENT_TAG: "prod", SEQ_TAG: f"{seq:012d}"})
        assert fake.newest_audit("int") is None
        assert fake.newest_audit("prod") is None  # ten damaged runs hide the record behind them
        assert [r.seq for r in fake.read_audit("prod")] == [1]

    def test_a_number_is_claimed_once_even_after_release(self, fake: InMemoryRegistry) -> None:
        other = fake.another_client()
        assert fake.claimed_at("prod", 1) is None
        assert fake.claim("prod", 1)
        assert not fake.claim("prod", 1)
        assert not other.claim("prod", 1)
        assert other.claim("int", 1)  # numbers are per environment
        claimed = fake.claimed_at("prod", 1)
        fake.release("prod", 1)
        assert not other.claim("prod", 1)
        assert other.claimed_at("prod", 1) == claimed

    def test_claims_are_stamped_by_the_clock(self) -> None:
        fake = InMemoryRegistry(clock=lambda: 42)
        fake.claim("prod", 1)
        assert fake.claimed_at("prod", 1) == 42

    def test_releasing_twice(self, fake: InMemoryRegistry) -> None:
        other = fake.another_client()
        fake.claim("prod", 1)
        other.release("prod", 1)  # someone else settles it
        other.release("prod", 1)  # and again: nothing happens
        other.release("prod", 7)  # never claimed: nothing happens
        with pytest.raises(NotFoundError, match=r"No Experiment with id=\S+ exists"):
            fake.release("prod", 1)  # the claimer: as MLflow, an error

    def test_another_client_shares_the_store_not_the_calls(self, fake: InMemoryRegistry) -> None:
        other = fake.another_client()
        other.add_version("A", "1.0")
        other.set_alias("A", "prod", 1)
        assert fake.aliases("A") == {"prod": 1}
        assert fake.snapshot() == other.snapshot()
        assert (fake.calls, other.calls) == (Counter(), Counter(set_alias=1))

    def test_read_audit_without_an_audit_experiment_is_empty(self, fake: InMemoryRegistry) -> None:
        assert list(fake.read_audit()) == []
        assert fake.workspace_tags() == {}

    def test_calls_are_counted_and_logged_in_order(self, fake: InMemoryRegistry) -> None:
        fake.add_version("A", "1.0")
        fake.registered_model("A")
        fake.set_alias("A", "prod", 1)
        fake.write_audit(record())
        assert fake.calls == {"registered_model": 1, "set_alias": 1, "write_audit": 1}
        assert fake.writes == ["set_alias", "write_audit"]
        fake.reset_calls()
        assert (fake.calls, fake.log, fake.writes) == ({}, [], [])


# ---- The fake against the real thing ------------------------------------------------------------------


class Arranger(Protocol):
    """Arranges state that the protocol cannot write: versions backed by runs (metrics, params, tags), foreign
    audit runs, and scores."""

    def add_version(
        self,
        name: str,
        semver: str | None = None,
        *,
        metrics: Mapping[str, float] | None = None,
        tags: Mapping[str, str] | None = None,
        run_tags: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        status: str = "READY",
    ) -> int: ...

    def add_audit_run(
        self, tags: Mapping[str, str], *, start_time: int | None = None, status: str = "FINISHED"
    ) -> str: ...

    def add_score(
        self,
        dataset: DatasetRef,
        model: str,
        version: int,
        metrics: Mapping[str, float] | None = None,
        *,
        error: str | None = None,
    ) -> object: ...


class MlflowArranger:
    """:class:`Arranger` over a real MLflow store (as ``tests/integration/conftest.py`` arranges it)."""

    def __init__(self, uri: str) -> None:
        from mlflow.tracking import MlflowClient

        self.client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        self.experiment = self.client.create_experiment("training")
        self.scores_started = 1_700_000_000_000  # score runs start a millisecond apart, in order

    def add_version(
        self,
        name: str,
        semver: str | None = None,
        *,
        metrics: Mapping[str, float] | None = None,
        tags: Mapping[str, str] | None = None,
        run_tags: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        status: str = "READY",
    ) -> int:
        assert status == "READY", "MLflow's store registers versions READY"
        run = self.client.create_run(self.experiment, tags=dict(run_tags or {}))
        for key, value in (metrics or {}).items():
            self.client.log_metric(run.info.run_id, key, value)
        for key, text in (params or {}).items():
            self.client.log_param(run.info.run_id, key, text)
        try:
            self.client.get_registered_model(name)
        except Exception:
            self.client.create_registered_model(name)
        all_tags = {**(tags or {}), **({VERSION_TAG: semver} if semver is not None else {})}
        created = self.client.create_model_version(
            name, source=f"runs:/{run.info.run_id}/model", run_id=run.info.run_id, tags=all_tags
        )
        return int(created.version)

    def add_audit_run(
        self, tags: Mapping[str, str], *, start_time: int | None = None, status: str = "FINISHED"
    ) -> str:
        experiment = self.client.get_experiment_by_name("mlflow-allowance")
        assert experiment is not None
        run = self.client.create_run(experiment.experiment_id, start_time=start_time, tags=dict(tags))
        if status != "RUNNING":
            self.client.set_terminated(run.info.run_id, status=status)
        return str(run.info.run_id)

    def add_score(
        self,
        dataset: DatasetRef,
        model: str,
        version: int,
        metrics: Mapping[str, float] | None = None,
        *,
        error: str | None = None,
    ) -> object:
        """A score run as ``evaluate`` leaves one: FINISHED with its metrics, or FAILED with its error."""
        experiment = self.client.get_experiment_by_name(SCORES_EXPERIMENT)
        experiment_id = (
            self.client.create_experiment(SCORES_EXPERIMENT)
            if experiment is None
            else experiment.experiment_id
        )
        tags = {
            SCORE_MODEL: model,
            SCORE_VERSION: str(version),
            SCORE_DATASET: dataset.name,
            SCORE_DIGEST: str(dataset.digest),
            SCORE_TARGET: "target",
            **({} if error is None else {SCORE_ERROR: error}),
        }
        self.scores_started += 1
        run = self.client.create_run(experiment_id, start_time=self.scores_started, tags=tags)
        for key, value in (metrics or {}).items():
            self.client.log_metric(run.info.run_id, key, value)
        self.client.set_terminated(run.info.run_id, status="FINISHED" if error is None else "FAILED")
        return run.info.run_id


def _observe(
    registry: RegistryProtocol, other: RegistryProtocol, arrange: Arranger, now: int
) -> list[object]:
    """Drive ``registry`` (and ``other``, a second client of its store) through every protocol method;
    return what it returned and raised, without ids and times that differ by nature."""
    seen: list[object] = []

    def look(label: str, call: Callable[[], object]) -> None:
        try:
            seen.append((label, call()))
        except Exception as exc:
            message = re.sub(r"(xperiment with id[ =])\S+", r"\1N", str(exc))
            seen.append((label, type(exc).__name__, message))

    def candidates(*models: str, **kwargs: Any) -> list[tuple[object, ...]]:
        return [
            (
                c.key,
                c.semver,
                dict(c.metrics),
                dict(c.tags),
                c.status,
                c.aliases,
                c.stage,
                c.run_id is not None,
                c.failure,
            )
            for c in registry.candidates(models, **kwargs)
        ]

    def params(*models: str) -> dict[str, dict[str, str]]:
        """The params of the versions' runs and of a run that does not exist, by version (run ids differ)."""
        key_of = {c.run_id: c.key for c in registry.candidates(models) if c.run_id}
        found = registry.run_params([*key_of, "0" * 32])
        return {key_of.get(run_id, run_id): values for run_id, values in found.items()}

    def plain(record: AuditRecord | None) -> object:
        return None if record is None else (record.to_dict() | {"id": None}, record.record_id is not None)

    def audit(environment: str | None = None) -> tuple[list[object], int]:
        return [plain(r) for r in registry.read_audit(environment)], registry.foreign_audit_runs

    def scores(dataset: DatasetRef, *models: str) -> dict[tuple[str, int], object]:
        def without_id(score: Score) -> object:
            return (
                score.model,
                score.version,
                score.dataset,
                dict(score.metrics),
                score.error,
                bool(score.run_id),
            )

        return {key: without_id(score) for key, score in registry.scores(dataset, models).items()}

    look("no workspace", registry.workspace_tags)
    look("no audit", lambda: audit())
    look("unset nothing", lambda: registry.delete_workspace_tag("k"))
    arrange.add_version(
        "A", "1.0", metrics={"F1": 0.9}, tags={"validated": "true"}, params={"features": "13", "lr": "0.1"}
    )
    arrange.add_version("A", "2.0", metrics={"F1": 0.8, "loss": 0.1}, params={"features": "6"})
    arrange.add_version("A", None, run_tags={"v": "3.0"})
    arrange.add_version("B", "1.5", metrics={"F1": 0.95})
    look("models", registry.registered_models)
    look("A", lambda: candidates("A"))
    look("A by F1", lambda: candidates("A", metric="F1"))
    look("A by run tag", lambda: candidates("A", version_run_tag="v"))
    look("both", lambda: sorted(candidates("A", "B", metric="F1")))
    look("no params", lambda: registry.run_params([]))
    look("params", lambda: params("A", "B"))
    look("alias", lambda: registry.set_alias("A", "prod", 1))
    look("alias B", lambda: registry.set_alias("B", "prod", 1))
    look("move alias", lambda: registry.set_alias("A", "prod", 2))
    look("aliased", lambda: (registry.registered_model("A"), candidates("A")))
    look("given", lambda: candidates("A", registered=[RegisteredModel("A", aliases={"int": 3})]))
    look("unalias", lambda: registry.delete_alias("B", "prod"))
    look("unalias again", lambda: registry.delete_alias("B", "prod"))
    look("stage 1", lambda: registry.transition_stage("A", 1, "production"))
    look("stage 3", lambda: registry.transition_stage("A", 3, "Staging"))
    look("stage 2", lambda: registry.transition_stage("A", 2, "Production"))
    look("staged", lambda: candidates("A"))
    wine, iris, newer = (
        DatasetRef("wine", "0a64f9dd"),
        DatasetRef("iris", "0a64f9dd"),
        DatasetRef("wine", "bbc5"),
    )
    look("no datasets", lambda: (registry.datasets(), registry.dataset("wine")))
    look("no scores", lambda: scores(wine, "A", "B"))
    arrange.add_score(wine, "A", 1, {"f1_score": 0.7})
    arrange.add_score(wine, "A", 2, error="cannot load models:/A/2: gone")
    arrange.add_score(wine, "A", 1, {"f1_score": 0.8, "accuracy_score": 0.85})  # the newer counts
    arrange.add_score(newer, "A", 2, {"f1_score": 0.9})
    arrange.add_score(iris, "B", 1, {"f1_score": 0.9})  # the same digest under another name
    arrange.add_score(newer, "B", 1, {"f1_score": 0.6}, error="ValueError: partly scored")  # a failure's
    look("scores", lambda: scores(wine, "A", "B"))
    look("scores of B", lambda: (scores(wine, "B"), scores(iris, "B"), scores(newer, "A", "B")))
    look("on wine", lambda: candidates("A", "B", metric="F1", dataset=wine))
    look("on wine by run tag", lambda: candidates("A", version_run_tag="v", dataset=wine))
    look("on newer", lambda: candidates("A", "B", dataset=newer))
    info = DatasetInfo(wine, "/data/wine.csv", "target", 45, "classifier", now)
    look("save dataset", lambda: registry.save_dataset(info))
    look("save iris", lambda: registry.save_dataset(DatasetInfo(iris, "", "label", 3, "regressor", now)))
    look("dataset", lambda: (registry.dataset("wine"), registry.dataset("nope"), registry.datasets()))
    look("save newer", lambda: registry.save_dataset(DatasetInfo(newer, "", "target", 9, "classifier", now)))
    look("dataset now", lambda: (registry.dataset("wine"), registry.datasets()))
    look("archive", lambda: registry.transition_stage("A", 1, "Archived"))
    look("bogus stage", lambda: registry.transition_stage("A", 1, "Bogus"))
    look("retag", lambda: registry.set_version_tag("A", 1, VERSION_TAG, "1.0.1"))
    look("semver", lambda: [registry.version_semver("A", v) for v in (1, 2, 3)])
    look("model tag", lambda: registry.set_model_tag("A", "k", "v"))
    look("model tags", lambda: registry.registered_model("A").tags)
    look("model untag", lambda: registry.delete_model_tag("A", "k"))
    look("model untag again", lambda: registry.delete_model_tag("A", "k"))
    look("long model tag", lambda: registry.set_model_tag("A", "k", LONG))
    look("long workspace tag", lambda: registry.set_workspace_tag("k", LONG))
    look("still no workspace", registry.workspace_tags)
    look("workspace tag", lambda: registry.set_workspace_tag("k", "v"))
    look("workspace", registry.workspace_tags)
    look("workspace untag", lambda: registry.delete_workspace_tag("k"))
    look("workspace untag again", lambda: registry.delete_workspace_tag("k"))
    for offset, env, new in ((0, "prod", "A/1"), (2, "int", "A/2"), (1, "prod", "B/1")):
        seen.append(plain(registry.write_audit(record(env, now + offset, new, {"n": [offset]}))))
    arrange.add_audit_run({"mlflow.user": "someone"}, start_time=now + 3)
    arrange.add_audit_run({EVENT_TAG: "bogus", ENVIRONMENT_TAG: "prod"}, start_time=now + 4)
    arrange.add_audit_run({**record(new="A/9").to_tags(), DETAILS: "["}, start_time=now + 5)
    arrange.add_audit_run(record(new="A/8").to_tags(), start_time=now + 6, status="KILLED")
    look("audit", lambda: audit())
    look("audit prod", lambda: audit("prod"))
    look("no newest", lambda: plain(registry.newest_audit("qa")))
    # Sequence numbers cross the clocks: they order the environment's records, not the start times.
    for seq, offset in ((2, 30), (3, 10), (11, 20)):
        seen.append(plain(registry.write_audit(record("qa", now + offset, f"A/{seq}", seq=seq))))
    look("write legacy", lambda: plain(registry.write_audit(record("qa", now + 40, "A/0"))))
    pending = registry.write_audit(record("qa", now + 5, "A/12", seq=12, state="pending"))
    look("pending", lambda: (plain(pending), audit("qa"), plain(registry.newest_audit("qa"))))
    look("finish", lambda: plain(registry.finish_audit(pending, "complete")))
    look("finished", lambda: (audit("qa"), plain(registry.newest_audit("qa"))))
    look("abandon", lambda: plain(registry.finish_audit(pending, "abandoned")))
    look("abandoned", lambda: audit("qa"))
    look("finish unknown", lambda: registry.finish_audit(record().with_id("nope"), "complete"))
    look("never claimed", lambda: registry.claimed_at("qa", 1))
    look("release unclaimed", lambda: registry.release("qa", 1))
    look("claim", lambda: (registry.claim("qa", 1), registry.claim("qa", 1), other.claim("qa", 1)))
    look("claim int", lambda: (other.claim("int", 1), registry.claimed_at("qa", 1) is not None))
    look("release", lambda: registry.release("qa", 1))
    look("released", lambda: (registry.claim("qa", 1), other.claimed_at("qa", 1) is not None))
    look("claim 2", lambda: registry.claim("qa", 2))
    look("settle", lambda: other.release("qa", 2))
    look("settle again", lambda: other.release("qa", 2))
    look("release settled", lambda: registry.release("qa", 2))
    for param in MISSING:
        call = param.values[0]
        assert callable(call)
        look(str(param.id), lambda call=call: call(registry))
    return seen


@pytest.mark.integration
def test_the_fake_returns_and_raises_what_the_mlflow_registry_does(sqlite_uri: str) -> None:
    """Every protocol method, driven the same way, gives the same records, order and errors on both."""
    from mlflow_allowance._registry import Registry

    now = int(time.time() * 1000)
    real = Registry(sqlite_uri, sqlite_uri)
    seen = _observe(real, Registry(sqlite_uri, sqlite_uri), MlflowArranger(sqlite_uri), now)
    fake = InMemoryRegistry()
    assert _observe(fake, fake.another_client(), fake, now) == seen
