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
>>> fake.writes, fake.aliases("AImodel")
(['set_alias', 'write_audit'], {'prod': 1})
"""

from __future__ import annotations

import copy
import itertools
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mlflow_allowance import AuditRecord, Candidate, InputError, NotFoundError, RegisteredModel, RegistryError
from mlflow_allowance._schema import TAG_VALUE_LIMIT, VERSION_TAG
from mlflow_allowance.audit import ENVIRONMENT_TAG, EVENT_TAG

__all__ = ["WRITES", "Call", "InMemoryRegistry"]

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
    }
)
#: What MLflow stores as the stage of a version that never had one (a string, not ``None``).
NO_STAGE = "None"
_STAGES = {"none": "None", "staging": "Staging", "production": "Production", "archived": "Archived"}
_ACTIVE_STAGES = ("Staging", "Production")
_AUDIT_EXPERIMENT_ID = "1"
_AUDIT_NOTE = {"mlflow.note.content": "Allowances and audit trail of mlflow-allowance."}
#: Start of the fake's clock (milliseconds since the epoch); each change advances it by one.
EPOCH_MS = 1_700_000_000_000


@dataclass(frozen=True)
class Call:
    """One protocol call the fake received, with its arguments (for asserting what was asked)."""

    method: str
    args: tuple[object, ...]


@dataclass
class _Run:
    metrics: dict[str, float]
    tags: dict[str, str]


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


class InMemoryRegistry:
    """A model registry and tracking store in memory, implementing ``RegistryProtocol``.

    Mirrors ``Registry``: missing models and versions raise :class:`NotFoundError` with its messages; tag
    values of :data:`TAG_VALUE_LIMIT` characters or more are an :class:`InputError`; versions stage
    ``"None"`` until transitioned, and a transition archives the versions that held the stage;
    ``candidates`` lists versions most recently updated first (MLflow's order) and fills metrics only when
    a metric or a version run tag is asked for; the audit experiment exists only once something was
    written to it (its tags, the workspace defaults, then include MLflow's note); ``read_audit`` yields
    newest first and skips runs that are not (or no longer) audit records.

    Audit ids are increasing 32-digit hex strings, like run ids. Records written in the same millisecond
    come back latest-written first; MLflow breaks such ties on its random run ids instead.

    ``calls`` counts each protocol call (``candidates`` counts a ``registered_model`` for every model it
    had to look up itself, as ``Registry`` makes that request); ``log`` keeps them in order, and
    :attr:`writes` names the writing ones. :meth:`reset_calls` forgets them after arranging a test.
    """

    def __init__(self, tracking_uri: str = "memory://fake") -> None:
        self._tracking_uri = tracking_uri
        self.calls: Counter[str] = Counter()
        self.log: list[Call] = []
        self._models: dict[str, _Model] = {}
        self._runs: dict[str, _Run] = {}
        self._workspace: dict[str, str] | None = None  # None: the audit experiment does not exist
        self._audit: list[_AuditRun] = []
        self._clock = itertools.count(EPOCH_MS)
        self._run_ids = itertools.count(1)

    # Arranging and inspecting state (not part of the protocol, not counted) ----------------------------

    def add_model(self, name: str, *, tags: Mapping[str, str] | None = None) -> None:
        """Create the registered model ``name`` (no versions), or add ``tags`` to it if it exists."""
        self._models.setdefault(name, _Model(name)).tags.update(tags or {})

    def add_version(
        self,
        name: str,
        semver: str | None = None,
        *,
        metrics: Mapping[str, float] | None = None,
        tags: Mapping[str, str] | None = None,
        run_tags: Mapping[str, str] | None = None,
        status: str = "READY",
    ) -> int:
        """Register a new version of ``name`` (creating the model) backed by a fresh training run that logged
        ``metrics`` and carries ``run_tags``; return its registry version.

        ``semver`` becomes the version's semantic version tag (``None`` leaves it without one); ``tags``
        are further version tags; ``status`` is the registration status (``"FAILED_REGISTRATION"``...).
        """
        run_id = self.add_run(metrics=metrics, tags=run_tags)
        version_tags = dict(tags or {})
        if semver is not None:
            version_tags[VERSION_TAG] = semver
        return self._create_version(name, version_tags, run_id, status)

    def add_run(
        self, *, metrics: Mapping[str, float] | None = None, tags: Mapping[str, str] | None = None
    ) -> str:
        """Log a training run with ``metrics`` and ``tags``; return its id, for ``runs:/ID/model`` URIs."""
        run_id = f"run{next(self._run_ids):029x}"
        self._runs[run_id] = _Run(dict(metrics or {}), dict(tags or {}))
        return run_id

    def add_audit_run(self, tags: Mapping[str, str], *, start_time: int | None = None) -> str:
        """Log a run with ``tags`` into the audit experiment: a run of someone else, or a damaged record.

        ``start_time`` (milliseconds since the epoch) defaults to now, as the client stamps its records.
        """
        self._audit_experiment()
        run_id = self._next_audit_id()
        when = int(time.time() * 1000) if start_time is None else start_time
        self._audit.append(_AuditRun(run_id, when, dict(tags)))
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
        return copy.deepcopy(
            {
                "models": {
                    name: (model.tags, model.aliases, {n: vars(v) for n, v in model.versions.items()})
                    for name, model in self._models.items()
                },
                "runs": {run_id: vars(run) for run_id, run in self._runs.items()},
                "workspace": self._workspace,
                "audit": [vars(run) for run in self._audit],
            }
        )

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
        return [self._registered(name) for name in sorted(self._models)]

    def register(self, model_uri: str, name: str, tags: Mapping[str, str], await_seconds: int) -> int:
        """Register ``model_uri`` as a new version of ``name`` carrying ``tags``; return its version.

        A ``runs:/RUN_ID/...`` URI links the version to that run (see :meth:`add_run`); like
        ``mlflow.register_model``, the registered model is created before the run is looked up.
        """
        self._called("register", model_uri, name, dict(tags), await_seconds)
        self._models.setdefault(name, _Model(name))
        run_id: str | None = None
        if model_uri.startswith("runs:/"):
            run_id = model_uri[len("runs:/") :].partition("/")[0]
            if run_id not in self._runs:
                # What Registry reports for MLflow's "Run with id=... not found".
                raise _model_missing(name)
        return self._create_version(name, dict(tags), run_id, "READY")

    def version_semver(self, name: str, version: int) -> str | None:
        """The semantic version tag of ``name/version``; :class:`NotFoundError` if the version is missing."""
        self._called("version_semver", name, version)
        model = self._models.get(name)
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
    ) -> list[Candidate]:
        """Every version of ``models`` as a candidate, with its run's metrics when ``metric`` is given."""
        self._called("candidates", tuple(models), metric, version_run_tag, tuple(registered))
        known = {model.name: model for model in registered}
        registered_by_name = {name: known.get(name) or self.registered_model(name) for name in models}
        versions = [
            (name, version)
            for name in dict.fromkeys(models)
            if name in self._models
            for version in self._models[name].versions.values()
        ]
        # MLflow's order: last updated first, then name, then the higher version.
        versions.sort(key=lambda item: (-item[1].last_updated, item[0], -item[1].version))
        with_runs = metric is not None or version_run_tag is not None
        candidates = []
        for name, mv in versions:
            run = self._runs.get(mv.run_id) if with_runs and mv.run_id else None
            semver = mv.tags.get(VERSION_TAG)
            if semver is None and version_run_tag is not None and run is not None:
                semver = run.tags.get(version_run_tag)
            aliases = tuple(a for a, v in registered_by_name[name].aliases.items() if v == mv.version)
            candidates.append(
                Candidate(
                    name=name,
                    version=mv.version,
                    semver=semver,
                    metrics=dict(run.metrics) if run is not None else {},
                    tags=dict(mv.tags),
                    status=mv.status,
                    created_at=mv.created_at,
                    aliases=aliases,
                    run_id=mv.run_id,
                    stage=mv.stage,
                )
            )
        return candidates

    # Aliases and stages -------------------------------------------------------------------------------

    def set_alias(self, name: str, alias: str, version: int) -> None:
        """Point ``@alias`` of ``name`` at ``version``."""
        self._called("set_alias", name, alias, version)
        self._version(name, version, f"setting alias @{alias} on {name}/{version}")
        self._models[name].aliases[alias] = version

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
        now = next(self._clock)
        for other in self._models[name].versions.values():
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
        return dict(self._workspace or {})

    def set_workspace_tag(self, key: str, value: str) -> None:
        """Set a tag on the audit experiment, creating it if needed."""
        self._called("set_workspace_tag", key, value)
        _check_length(key, value)
        self._audit_experiment()[key] = value

    def delete_workspace_tag(self, key: str) -> None:
        """Delete a tag of the audit experiment, if the experiment exists; a missing tag is NotFoundError."""
        self._called("delete_workspace_tag", key)
        if self._workspace is None:
            return
        if key not in self._workspace:
            raise NotFoundError(
                f"No tag with name: {key} in experiment with id {_AUDIT_EXPERIMENT_ID} "
                "(while deleting a workspace allowance)"
            )
        del self._workspace[key]

    # Audit trail --------------------------------------------------------------------------------------

    def write_audit(self, record: AuditRecord) -> AuditRecord:
        """Store ``record`` as a run of the audit experiment; return it with the run's id."""
        self._called("write_audit", record)
        self._audit_experiment()
        run_id = self._next_audit_id()
        tags = {
            "mlflow.user": record.user[:TAG_VALUE_LIMIT],
            "mlflow.runName": f"{record.kind} {record.environment}"[:250],
            **record.to_tags(),
        }
        self._audit.append(_AuditRun(run_id, record.time, tags))
        return record.with_id(run_id)

    def read_audit(self, environment: str | None = None) -> Iterator[AuditRecord]:
        """Audit records, newest first, optionally of one environment; foreign and damaged runs skipped."""
        self._called("read_audit", environment)
        # Newest first; within one millisecond, the run written last first.
        runs = sorted(enumerate(self._audit), key=lambda item: (item[1].start_time, item[0]), reverse=True)
        return _records([run for _, run in runs], environment)

    # Internals ----------------------------------------------------------------------------------------

    def _called(self, method: str, *args: object) -> None:
        self.calls[method] += 1
        self.log.append(Call(method, args))

    def _model(self, name: str) -> _Model:
        model = self._models.get(name)
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
        model = self._models.setdefault(name, _Model(name))
        number = max(model.versions, default=0) + 1
        now = next(self._clock)
        model.versions[number] = _Version(number, tags, status, run_id, NO_STAGE, now, now)
        return number

    def _audit_experiment(self) -> dict[str, str]:
        if self._workspace is None:
            self._workspace = dict(_AUDIT_NOTE)
        return self._workspace

    def _next_audit_id(self) -> str:
        return f"{len(self._audit) + 1:032x}"


def _records(runs: list[_AuditRun], environment: str | None) -> Iterator[AuditRecord]:
    for run in runs:
        if environment and run.tags.get(ENVIRONMENT_TAG) != environment:
            continue
        if EVENT_TAG not in run.tags:
            continue  # a run someone else logged into the audit experiment
        try:
            yield AuditRecord.from_tags(run.tags, record_id=run.run_id)
        except InputError:
            continue  # a damaged record must not make the whole trail unreadable


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
