"""An in-memory registry with the seam's protocol, for fast tests of the client's rules.

:class:`InMemoryRegistry` behaves as ``mlflow_allowance._registry.Registry`` does over a real MLflow store
(an integration test in ``tests/test_fakes.py`` runs both side by side): the same records, the same order,
the same errors with the same messages. It imports no MLflow.

>>> from mlflow_allowance import AllowanceClient
>>> fake = InMemoryRegistry()
>>> fake.add_version("AImodel", "1.0", metrics={"F1": 0.9})
1
>>> client = AllowanceClient(registry=fake)
>>> client.promote("prod", "AImodel", metric="F1").new
'AImodel/1'
>>> fake.aliases("AImodel")
{'prod': 1}
"""

from __future__ import annotations

import copy
import itertools
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from mlflow_allowance import AuditRecord, DatasetRef, InputError, NotFoundError
from mlflow_allowance._schema import TAG_VALUE_LIMIT, VERSION_TAG, lease_experiment
from mlflow_allowance.audit import ENVIRONMENT_TAG, EVENT_TAG, SEQ_TAG, AuditState
from mlflow_allowance.datasets import DatasetInfo, Score
from mlflow_allowance.errors import RegistryError
from mlflow_allowance.selection import Candidate
from mlflow_allowance.testing import RegisteredModel

__all__ = ["WRITES", "Call", "InMemoryRegistry", "Store"]

#: The protocol methods that change state; the rest only read.
WRITES = frozenset(
    {
        "register",
        "set_version_tag",
        "set_alias",
        "delete_alias",
        "transition_stage",
        "set_model_tag",
        "delete_model_tag",
        "set_workspace_tag",
        "delete_workspace_tag",
        "write_audit",
        "finish_audit",
        "claim",
        "release",
        "save_dataset",
    }
)
#: What MLflow stores as the stage of a version that never had one (a string, not ``None``).
NO_STAGE = "None"
_STAGES = {"none": "None", "staging": "Staging", "production": "Production", "archived": "Archived"}
_ACTIVE_STAGES = ("Staging", "Production")
_STATUS_OF: dict[AuditState, str] = {"pending": "RUNNING", "complete": "FINISHED", "abandoned": "FAILED"}
_STATE_OF: dict[str, AuditState] = {"RUNNING": "pending", "SCHEDULED": "pending", "FINISHED": "complete"}
_AUDIT_NOTE = {"mlflow.note.content": "Allowances and audit trail of mlflow-allowance."}
#: Start of the logical clock that stamps versions (milliseconds since the epoch); each change ticks it.
EPOCH_MS = 1_700_000_000_000
#: Runs one ``newest_audit`` request returns (``Registry`` asks for one page of this many).
NEWEST_PAGE = 10


def wall_clock_ms() -> int:
    """Now, in milliseconds since the epoch (how the client stamps its records)."""
    return int(time.time() * 1000)


@dataclass(frozen=True)
class Call:
    """One protocol call the fake received, with its arguments (for asserting what was asked)."""

    method: str
    args: tuple[object, ...]


@dataclass
class _Run:
    metrics: dict[str, float]
    tags: dict[str, str]
    params: dict[str, str] = field(default_factory=dict)


@dataclass
class _Version:
    version: int
    tags: dict[str, str]
    status: str
    run_id: str | None
    stage: str
    created_at: int
    last_updated: int


@dataclass
class _Model:
    name: str
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)
    versions: dict[int, _Version] = field(default_factory=dict)


@dataclass
class _AuditRun:
    run_id: str
    start_time: int
    tags: dict[str, str]
    status: str


@dataclass
class _Experiment:
    experiment_id: str
    created_at: int
    deleted: bool = False


class Store:
    """What a tracking server and registry hold; several :class:`InMemoryRegistry` clients can share one."""

    def __init__(self, clock: Callable[[], int] = wall_clock_ms) -> None:
        self.clock = clock
        self.models: dict[str, _Model] = {}
        self.runs: dict[str, _Run] = {}
        self.audit_experiment: _Experiment | None = None
        self.workspace: dict[str, str] = {}  # the audit experiment's tags
        self.audit: list[_AuditRun] = []
        self.leases: dict[str, _Experiment] = {}  # by experiment name
        self.datasets: dict[str, DatasetInfo] = {}  # the scores experiment's dataset records, by name
        self.scores: list[Score] = []  # finished score runs, oldest first
        self.ticks = itertools.count(EPOCH_MS)
        self.run_ids = itertools.count(1)
        self.experiment_ids = itertools.count(1)

    def experiment(self) -> _Experiment:
        return _Experiment(str(next(self.experiment_ids)), self.clock())

    def state(self) -> dict[str, Any]:
        return copy.deepcopy(
            {
                "models": {
                    name: (model.tags, model.aliases, {n: vars(v) for n, v in model.versions.items()})
                    for name, model in self.models.items()
                },
                "runs": {run_id: vars(run) for run_id, run in self.runs.items()},
                "workspace": None if self.audit_experiment is None else self.workspace,
                "audit": [vars(run) for run in self.audit],
                "leases": {name: vars(lease) for name, lease in self.leases.items()},
                "datasets": dict(self.datasets),
                "scores": list(self.scores),
            }
        )


class InMemoryRegistry:
    """A model registry and tracking store in memory, implementing ``RegistryProtocol``.

    Mirrors ``Registry``: missing models and versions raise :class:`NotFoundError` with its messages; tag
    values of :data:`TAG_VALUE_LIMIT` characters or more are an :class:`InputError`; versions stage
    ``"None"`` until transitioned, and a transition archives the versions that held the stage;
    ``candidates`` lists versions most recently updated first (MLflow's order) and fills metrics only when
    a metric or a version run tag is asked for; the audit experiment exists only once something was
    written to it (its tags, the workspace defaults, then include MLflow's note). Audit records are runs
    whose status is their state (``RUNNING`` pending, ``FINISHED`` complete, else abandoned);
    ``read_audit`` yields them newest first (within one environment by sequence number, records without
    one last) and skips, counting them, runs that are not records. Claims are lease experiments: a
    released one is deleted, and its name stays taken.

    Audit ids are increasing 32-digit hex strings, like run ids. Records started in the same millisecond
    come back latest-written first; MLflow breaks such ties on its random run ids instead.

    ``calls`` counts each protocol call (``candidates`` counts a ``registered_model`` for every model it
    had to look up itself, as ``Registry`` makes that request); ``log`` keeps them in order, and
    :attr:`writes` names the writing ones. :meth:`reset_calls` forgets them after arranging a test.
    :meth:`another_client` gives a second client of the same store, e.g. a concurrent writer. The store's
    ``clock`` (milliseconds since the epoch; default: now) stamps claims, as the server's clock does, and
    runs logged with :meth:`add_audit_run`; records carry the time the client gave them.
    """

    def __init__(
        self,
        tracking_uri: str = "memory://fake",
        *,
        clock: Callable[[], int] | None = None,
        store: Store | None = None,
    ) -> None:
        if store is not None and clock is not None:
            raise TypeError("give a clock or a store, not both: the store's clock stamps what it holds")
        self._tracking_uri = tracking_uri
        self.store = Store(clock or wall_clock_ms) if store is None else store
        self.calls: Counter[str] = Counter()
        self.log: list[Call] = []
        self._foreign_audit_runs = 0
        self._claims: dict[tuple[str, int], str] = {}

    # Arranging and inspecting state (not part of the protocol, not counted) ----------------------------

    def another_client(self) -> InMemoryRegistry:
        """A second client of the same store (its own calls, claims and skipped-run count)."""
        return InMemoryRegistry(self._tracking_uri, store=self.store)

    def add_model(self, name: str, *, tags: Mapping[str, str] | None = None) -> None:
        """Create the registered model ``name`` (no versions), or add ``tags`` to it if it exists."""
        self.store.models.setdefault(name, _Model(name)).tags.update(tags or {})

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
        """Register a new version of ``name`` (creating the model) backed by a fresh training run that logged
        ``metrics`` and ``params`` and carries ``run_tags``; return its registry version.

        ``semver`` becomes the version's semantic version tag (``None`` leaves it without one); ``tags``
        are further version tags; ``status`` is the registration status (``"FAILED_REGISTRATION"``...).
        """
        run_id = self.add_run(metrics=metrics, tags=run_tags, params=params)
        version_tags = dict(tags or {})
        if semver is not None:
            version_tags[VERSION_TAG] = semver
        return self._create_version(name, version_tags, run_id, status)

    def add_run(
        self,
        *,
        metrics: Mapping[str, float] | None = None,
        tags: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> str:
        """Log a training run with ``metrics``, ``tags`` and ``params``; return its id, for ``runs:/ID/model``
        URIs."""
        run_id = f"run{next(self.store.run_ids):029x}"
        self.store.runs[run_id] = _Run(dict(metrics or {}), dict(tags or {}), dict(params or {}))
        return run_id

    def add_audit_run(
        self, tags: Mapping[str, str], *, start_time: int | None = None, status: str = "FINISHED"
    ) -> str:
        """Log a run with ``tags`` into the audit experiment: a run of someone else, a damaged record, or a
        record as an older version or a crashed writer left it; return its id.

        ``start_time`` defaults to the clock; ``status`` is the run's (``RUNNING`` reads as pending).
        """
        self._audit_experiment()
        run_id = self._next_audit_id()
        when = self.store.clock() if start_time is None else start_time
        self.store.audit.append(_AuditRun(run_id, when, dict(tags), status))
        return run_id

    def aliases(self, name: str) -> dict[str, int]:
        """``name``'s aliases (alias → registry version)."""
        return dict(self._model(name).aliases)

    def stage(self, name: str, version: int) -> str:
        """The legacy stage of ``name/version`` (``"None"`` if it never had one)."""
        return self._version(name, version, "inspecting").stage

    def version_tags(self, name: str, version: int) -> dict[str, str]:
        """The tags of ``name/version``."""
        return dict(self._version(name, version, "inspecting").tags)

    def snapshot(self) -> dict[str, Any]:
        """Everything stored, as plain data: equal snapshots mean nothing was written in between."""
        return self.store.state()

    @property
    def writes(self) -> list[str]:
        """The writing protocol calls received since the last :meth:`reset_calls`, in order."""
        return [call.method for call in self.log if call.method in WRITES]

    def reset_calls(self) -> None:
        """Forget the calls received so far (after arranging state through the client, say)."""
        self.calls.clear()
        self.log.clear()

    # The protocol: registered models and versions ------------------------------------------------------

    @property
    def tracking_uri(self) -> str:
        """Where the registry lives, for messages."""
        return self._tracking_uri

    def registered_model(self, name: str) -> RegisteredModel:
        """The registered model ``name``; :class:`NotFoundError` if it does not exist."""
        self._called("registered_model", name)
        return self._registered(name)

    def registered_models(self) -> list[RegisteredModel]:
        """Every registered model, by name."""
        self._called("registered_models")
        return [self._registered(name) for name in sorted(self.store.models)]

    def register(self, model_uri: str, name: str, tags: Mapping[str, str], await_seconds: int) -> int:
        """Register ``model_uri`` as a new version of ``name`` carrying ``tags``; return its version.

        A ``runs:/RUN_ID/...`` URI links the version to that run (see :meth:`add_run`); like
        ``mlflow.register_model``, the registered model is created before the run is looked up.
        """
        self._called("register", model_uri, name, dict(tags), await_seconds)
        self.store.models.setdefault(name, _Model(name))
        run_id: str | None = None
        if model_uri.startswith("runs:/"):
            run_id = model_uri[len("runs:/") :].partition("/")[0]
            if run_id not in self.store.runs:
                # What Registry reports for MLflow's "Run with id=... not found".
                raise _model_missing(name)
        return self._create_version(name, dict(tags), run_id, "READY")

    def version_semver(self, name: str, version: int) -> str | None:
        """The semantic version tag of ``name/version``; :class:`NotFoundError` if the version is missing."""
        self._called("version_semver", name, version)
        model = self.store.models.get(name)
        found = model.versions.get(version) if model is not None else None
        if found is None:  # MLflow names the version even when the model is missing
            raise _version_missing(name, version, f"reading {name}/{version}")
        return found.tags.get(VERSION_TAG)

    def set_version_tag(self, name: str, version: int, key: str, value: str) -> None:
        """Set a tag on one model version."""
        self._called("set_version_tag", name, version, key, value)
        self._version(name, version, f"tagging {name}/{version}").tags[key] = value

    def candidates(
        self,
        models: Sequence[str],
        *,
        metric: str | None = None,
        version_run_tag: str | None = None,
        registered: Sequence[RegisteredModel] = (),
        dataset: DatasetRef | None = None,
    ) -> list[Candidate]:
        """Every version of ``models`` as a candidate, with its run's metrics when ``metric`` is given (its
        scores on ``dataset`` when one is given)."""
        self._called("candidates", tuple(models), metric, version_run_tag, tuple(registered), dataset)
        known = {model.name: model for model in registered}
        registered_by_name = {name: known.get(name) or self.registered_model(name) for name in models}
        versions = [
            (name, version)
            for name in dict.fromkeys(models)
            if name in self.store.models
            for version in self.store.models[name].versions.values()
        ]
        # MLflow's order: last updated first, then name, then the higher version.
        versions.sort(key=lambda item: (-item[1].last_updated, item[0], -item[1].version))
        with_runs = (metric is not None and dataset is None) or version_run_tag is not None
        scores = self._scores(dataset, models) if dataset is not None else {}
        candidates = []
        for name, mv in versions:
            score = scores.get((name, mv.version))
            run = self.store.runs.get(mv.run_id) if with_runs and mv.run_id else None
            if dataset is not None:
                metrics = {} if score is None else dict(score.metrics)
            else:
                metrics = dict(run.metrics) if run is not None else {}
            semver = mv.tags.get(VERSION_TAG)
            if semver is None and version_run_tag is not None and run is not None:
                semver = run.tags.get(version_run_tag)
            aliases = tuple(a for a, v in registered_by_name[name].aliases.items() if v == mv.version)
            candidates.append(
                Candidate(
                    name=name,
                    version=mv.version,
                    semver=semver,
                    metrics=metrics,
                    tags=dict(mv.tags),
                    status=mv.status,
                    created_at=mv.created_at,
                    aliases=aliases,
                    run_id=mv.run_id,
                    stage=mv.stage,
                    failure=None if score is None else score.error,
                )
            )
        return candidates

    def run_params(self, run_ids: Collection[str]) -> dict[str, dict[str, str]]:
        """The parameters each of the runs ``run_ids`` logged (in one call, as ``Registry`` batches its run
        search); ids of runs that do not exist are left out."""
        self._called("run_params", tuple(run_ids))
        runs = self.store.runs
        return {run_id: dict(runs[run_id].params) for run_id in run_ids if run_id in runs}

    # Datasets and scores ------------------------------------------------------------------------------

    def add_score(
        self,
        dataset: DatasetRef,
        model: str,
        version: int,
        metrics: Mapping[str, float] | None = None,
        *,
        error: str | None = None,
    ) -> Score:
        """Record a finished score (or, with ``error``, a failure) of ``model/version`` on ``dataset``."""
        score = Score(model, version, dataset, metrics or {}, error, f"score-{len(self.store.scores) + 1}")
        self.store.scores.append(score)
        return score

    def datasets(self) -> list[DatasetInfo]:
        """Every recorded dataset, by name."""
        self._called("datasets")
        return [self.store.datasets[name] for name in sorted(self.store.datasets)]

    def dataset(self, name: str) -> DatasetInfo | None:
        """The current content of dataset ``name``, if recorded."""
        self._called("dataset", name)
        return self.store.datasets.get(name)

    def save_dataset(self, info: DatasetInfo) -> None:
        """Make ``info`` the current content of its name."""
        self._called("save_dataset", info)
        self.store.datasets[info.ref.name] = info

    def scores(self, dataset: DatasetRef, models: Sequence[str]) -> dict[tuple[str, int], Score]:
        """The newest score of each version of ``models`` on ``dataset``'s digest."""
        self._called("scores", dataset, tuple(models))
        return self._scores(dataset, models)

    def _scores(self, dataset: DatasetRef, models: Sequence[str]) -> dict[tuple[str, int], Score]:
        found: dict[tuple[str, int], Score] = {}
        for score in reversed(self.store.scores):
            if score.dataset == dataset and score.model in models:
                # As Registry reads a FAILED run: its error, none of the metrics it may have logged.
                read = replace(score, metrics={}) if score.failed else score
                found.setdefault((score.model, score.version), read)
        return found

    # Aliases and stages -------------------------------------------------------------------------------

    def set_alias(self, name: str, alias: str, version: int) -> None:
        """Point ``@alias`` of ``name`` at ``version``."""
        self._called("set_alias", name, alias, version)
        self._version(name, version, f"setting alias @{alias} on {name}/{version}")
        self.store.models[name].aliases[alias] = version

    def delete_alias(self, name: str, alias: str) -> None:
        """Remove ``@alias`` from ``name`` (nothing happens if it has no such alias)."""
        self._called("delete_alias", name, alias)
        self._model(name).aliases.pop(alias, None)

    def transition_stage(self, name: str, version: int, stage: str) -> None:
        """Move ``name/version`` to the legacy ``stage``, archiving the versions that held it."""
        self._called("transition_stage", name, version, stage)
        action = f"moving {name}/{version} to stage {stage}"
        canonical = _STAGES.get(stage.lower())
        if canonical is None:
            choices = ", ".join(_STAGES.values())
            raise InputError(
                f"MLflow refused {action}: Invalid Model Version stage: {stage}. "
                f"Value must be one of {choices}."
            )
        if canonical not in _ACTIVE_STAGES:
            raise RegistryError(
                f"MLflow failed while {action}: Model version transition cannot archive existing model "
                f"versions because '{stage}' is not an Active stage. Valid stages are {list(_ACTIVE_STAGES)}"
            )
        target = self._version(name, version, action)
        now = next(self.store.ticks)
        for other in self.store.models[name].versions.values():
            if other.version != version and other.stage == canonical:
                other.stage, other.last_updated = "Archived", now
        target.stage, target.last_updated = canonical, now

    # Allowances ---------------------------------------------------------------------------------------

    def set_model_tag(self, name: str, key: str, value: str) -> None:
        """Set a registered-model tag."""
        self._called("set_model_tag", name, key, value)
        _check_length(key, value)
        self._model(name).tags[key] = value

    def delete_model_tag(self, name: str, key: str) -> None:
        """Delete a registered-model tag (nothing happens if it has no such tag)."""
        self._called("delete_model_tag", name, key)
        self._model(name).tags.pop(key, None)

    def workspace_tags(self) -> dict[str, str]:
        """The audit experiment's tags (where defaults live); empty if it does not exist."""
        self._called("workspace_tags")
        return dict(self.store.workspace) if self.store.audit_experiment is not None else {}

    def set_workspace_tag(self, key: str, value: str) -> None:
        """Set a tag on the audit experiment, creating it if needed."""
        self._called("set_workspace_tag", key, value)
        _check_length(key, value)
        self._audit_experiment()
        self.store.workspace[key] = value

    def delete_workspace_tag(self, key: str) -> None:
        """Delete a tag of the audit experiment, if the experiment exists; a missing tag is NotFoundError."""
        self._called("delete_workspace_tag", key)
        experiment = self.store.audit_experiment
        if experiment is None:
            return
        if key not in self.store.workspace:
            raise NotFoundError(
                f"No tag with name: {key} in experiment with id {experiment.experiment_id} "
                "(while deleting a workspace allowance)"
            )
        del self.store.workspace[key]

    # Audit trail --------------------------------------------------------------------------------------

    def write_audit(self, record: AuditRecord) -> AuditRecord:
        """Store ``record`` as a run of the audit experiment (open while pending); return it with its id."""
        self._called("write_audit", record)
        self._audit_experiment()
        run_id = self._next_audit_id()
        tags = {
            "mlflow.user": record.user[:TAG_VALUE_LIMIT],
            "mlflow.runName": f"{record.kind} {record.environment}"[:250],
            **record.to_tags(),
        }
        self.store.audit.append(_AuditRun(run_id, record.time, tags, _STATUS_OF[record.state]))
        return record.with_id(run_id)

    def finish_audit(self, record: AuditRecord, state: AuditState) -> AuditRecord:
        """Mark a stored record ``complete`` (run ``FINISHED``) or ``abandoned`` (run ``FAILED``)."""
        self._called("finish_audit", record, state)
        assert record.record_id is not None, "only a stored record can be finished"
        run = next((run for run in self.store.audit if run.run_id == record.record_id), None)
        if run is None:
            raise NotFoundError(f"Run with id={record.record_id} not found (while writing the audit trail)")
        run.status = _STATUS_OF[state]
        return record.with_state(state)

    @property
    def foreign_audit_runs(self) -> int:
        """How many runs the last :meth:`read_audit` skipped because they are not audit records."""
        return self._foreign_audit_runs

    def read_audit(self, environment: str | None = None) -> Iterator[AuditRecord]:
        """Audit records, newest first (within one environment by sequence number), optionally of one
        environment; runs that are not records are skipped and counted in :attr:`foreign_audit_runs`."""
        self._called("read_audit", environment)
        return self._read_audit(environment)

    def _read_audit(self, environment: str | None) -> Iterator[AuditRecord]:
        self._foreign_audit_runs = 0  # when reading starts, as Registry's generator does
        if self.store.audit_experiment is None:
            return
        yield from self._records(self._audit_runs(environment))

    def newest_audit(self, environment: str) -> AuditRecord | None:
        """The record of ``environment`` with the highest sequence number, among one page of its runs."""
        self._called("newest_audit", environment)
        if self.store.audit_experiment is None:
            return None
        return next(self._records(self._audit_runs(environment)[:NEWEST_PAGE]), None)

    # Leases -----------------------------------------------------------------------------------------------

    def claim(self, environment: str, seq: int) -> bool:
        """Claim change number ``seq`` of ``environment``: False if it was ever claimed (even released)."""
        self._called("claim", environment, seq)
        name = lease_experiment(environment, seq)
        if name in self.store.leases:
            return False
        lease = self.store.leases[name] = self.store.experiment()
        self._claims[(environment, seq)] = lease.experiment_id
        return True

    def claimed_at(self, environment: str, seq: int) -> int | None:
        """When change number ``seq`` was claimed (released or not), or None if it never was."""
        self._called("claimed_at", environment, seq)
        lease = self.store.leases.get(lease_experiment(environment, seq))
        return None if lease is None else lease.created_at

    def release(self, environment: str, seq: int) -> None:
        """Delete the lease (its name, and so the number, stays taken).

        As with MLflow, releasing a claim this client made after someone else released it is a
        :class:`NotFoundError`; releasing another's claim that is already released does nothing.
        """
        self._called("release", environment, seq)
        lease = self.store.leases.get(lease_experiment(environment, seq))
        experiment_id = self._claims.pop((environment, seq), None)
        if experiment_id is None:
            if lease is None or lease.deleted:
                return
        elif lease is None or lease.deleted:
            raise NotFoundError(
                f"No Experiment with id={experiment_id} exists "
                f"(while releasing change {seq} of {environment})"
            )
        lease.deleted = True

    # Internals ----------------------------------------------------------------------------------------

    def _called(self, method: str, *args: object) -> None:
        self.calls[method] += 1
        self.log.append(Call(method, args))

    def _model(self, name: str) -> _Model:
        model = self.store.models.get(name)
        if model is None:
            raise _model_missing(name)
        return model

    def _version(self, name: str, version: int, action: str) -> _Version:
        found = self._model(name).versions.get(version)
        if found is None:
            raise _version_missing(name, version, action)
        return found

    def _registered(self, name: str) -> RegisteredModel:
        model = self._model(name)
        return RegisteredModel(name, dict(model.tags), dict(model.aliases))

    def _create_version(self, name: str, tags: dict[str, str], run_id: str | None, status: str) -> int:
        model = self.store.models.setdefault(name, _Model(name))
        number = max(model.versions, default=0) + 1
        now = next(self.store.ticks)
        model.versions[number] = _Version(number, tags, status, run_id, NO_STAGE, now, now)
        return number

    def _audit_experiment(self) -> None:
        if self.store.audit_experiment is None:
            self.store.audit_experiment = self.store.experiment()
            self.store.workspace = dict(_AUDIT_NOTE)

    def _next_audit_id(self) -> str:
        return f"{len(self.store.audit) + 1:032x}"

    def _audit_runs(self, environment: str | None) -> list[_AuditRun]:
        """The runs of the audit experiment (of ``environment``, if given) in the order MLflow sorts them."""
        runs = [
            (index, run)
            for index, run in enumerate(self.store.audit)
            if not environment or run.tags.get(ENVIRONMENT_TAG) == environment
        ]
        # Newest first: start time, then (for one millisecond) the run written last.
        runs.sort(key=lambda item: (item[1].start_time, item[0]), reverse=True)
        if environment:
            # Then by the sequence tag (zero-padded, compared as text), runs without one last.
            runs.sort(key=lambda item: (SEQ_TAG in item[1].tags, item[1].tags.get(SEQ_TAG, "")), reverse=True)
        return [run for _, run in runs]

    def _records(self, runs: list[_AuditRun]) -> Iterator[AuditRecord]:
        for run in runs:
            if EVENT_TAG not in run.tags:
                self._foreign_audit_runs += 1  # a run someone else logged into the audit experiment
                continue
            state = _STATE_OF.get(run.status, "abandoned")
            try:
                yield AuditRecord.from_tags(run.tags, record_id=run.run_id, state=state)
            except InputError:
                self._foreign_audit_runs += 1  # a damaged record must not make the trail unreadable


def _model_missing(name: str) -> NotFoundError:
    return NotFoundError(
        f"registered model {name!r} does not exist; register a version first, e.g. "
        f"mlflow_allowance.register_model(model_uri, {name!r}, semver='1.0')"
    )


def _version_missing(name: str, version: int, action: str) -> NotFoundError:
    return NotFoundError(f"Model Version (name={name}, version={version}) not found (while {action})")


def _check_length(key: str, value: str) -> None:
    if len(value) >= TAG_VALUE_LIMIT:
        raise InputError(f"Value for {key!r} is {len(value)} characters; the limit is {TAG_VALUE_LIMIT - 1}")
