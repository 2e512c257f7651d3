"""The seam's protocol: what :class:`~mlflow_allowance.AllowanceClient` needs from a registry.

``mlflow_allowance._registry.Registry`` implements it over ``MlflowClient``; any other object with these
methods (an in-memory fake in the fast tests, say) can stand in for it:
``AllowanceClient(registry=MyRegistry())``. Pure: records only, no MLflow.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from mlflow_allowance._frozen import FrozenDict
from mlflow_allowance.audit import AuditRecord, AuditState
from mlflow_allowance.datasets import DatasetInfo, DatasetRef, Score
from mlflow_allowance.selection import Candidate

__all__ = [
    "AuditTrail",
    "ModelRegistry",
    "RegisteredModel",
    "RegistryProtocol",
    "ScoreStore",
    "ScoringTarget",
]


@dataclass(frozen=True)
class RegisteredModel:
    """A registered model's name, tags and aliases (alias → registry version)."""

    name: str
    tags: Mapping[str, str] = field(default_factory=FrozenDict)
    aliases: Mapping[str, int] = field(default_factory=FrozenDict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tags", FrozenDict(self.tags))
        object.__setattr__(self, "aliases", FrozenDict(self.aliases))


class ModelRegistry(Protocol):
    """The model registry's side: registered models, their versions, aliases, stages and tags, and the
    workspace tags that hold default allowances.

    Each method raises the package's errors (``NotFoundError`` for a missing model or version,
    ``RegistryError`` when the backend fails), never the backend's own.
    """

    @property
    def tracking_uri(self) -> str:
        """Where the registry lives, for messages (credentials removed)."""
        ...

    def registered_model(self, name: str) -> RegisteredModel:
        """The registered model ``name``; ``NotFoundError`` if it does not exist."""
        ...

    def registered_models(self) -> list[RegisteredModel]:
        """Every registered model."""
        ...

    def register(self, model_uri: str, name: str, tags: Mapping[str, str], await_seconds: int) -> int:
        """Register ``model_uri`` as a new version of ``name`` carrying ``tags``; return its version."""
        ...

    def version_semver(self, name: str, version: int) -> str | None:
        """The semantic version tag of ``name/version``; ``NotFoundError`` if the version is missing."""
        ...

    def set_version_tag(self, name: str, version: int, key: str, value: str) -> None:
        """Set a tag on one model version."""
        ...

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
        scores on ``dataset``, a pinned reference, when one is given)."""
        ...

    def run_params(self, run_ids: Collection[str]) -> dict[str, dict[str, str]]:
        """The parameters logged by each of the runs ``run_ids`` (run id → {param: value}; ``{}`` for a run
        that logged none); ids of runs that do not exist are left out. Batched as ``candidates`` reads runs
        (``Registry``: one ``search_runs`` per ``RUN_BATCH`` run ids); no request for no ids."""
        ...

    def set_alias(self, name: str, alias: str, version: int) -> None:
        """Point ``@alias`` of ``name`` at ``version``."""
        ...

    def delete_alias(self, name: str, alias: str) -> None:
        """Remove ``@alias`` from ``name``."""
        ...

    def transition_stage(self, name: str, version: int, stage: str) -> None:
        """Move ``name/version`` to the legacy ``stage``, archiving the versions that held it."""
        ...

    def set_model_tag(self, name: str, key: str, value: str) -> None:
        """Set a registered-model tag."""
        ...

    def delete_model_tag(self, name: str, key: str) -> None:
        """Delete a registered-model tag."""
        ...

    def workspace_tags(self) -> dict[str, str]:
        """The tags holding workspace-wide defaults (empty if none were ever set)."""
        ...

    def set_workspace_tag(self, key: str, value: str) -> None:
        """Set a workspace tag."""
        ...

    def delete_workspace_tag(self, key: str) -> None:
        """Delete a workspace tag, if it exists."""
        ...


class ScoreStore(Protocol):
    """Scores of versions on fixed datasets, and the dataset records, as ``evaluate`` keeps them."""

    def datasets(self) -> list[DatasetInfo]:
        """Every dataset recorded by ``evaluate``, by name (its current content)."""
        ...

    def dataset(self, name: str) -> DatasetInfo | None:
        """The current content of dataset ``name``, if one was recorded."""
        ...

    def save_dataset(self, info: DatasetInfo) -> None:
        """Make ``info`` the current content of its dataset name."""
        ...

    def scores(self, dataset: DatasetRef, models: Sequence[str]) -> dict[tuple[str, int], Score]:
        """The newest finished score or failure of each version of ``models`` on ``dataset``'s digest."""
        ...


class AuditTrail(Protocol):
    """The audit trail and the leases of the write-ahead protocol (see ``_writeahead``)."""

    def write_audit(self, record: AuditRecord) -> AuditRecord:
        """Store ``record`` in its state (a ``pending`` one stays open); return it with its id."""
        ...

    def finish_audit(self, record: AuditRecord, state: AuditState) -> AuditRecord:
        """Mark a stored record ``complete`` or ``abandoned``; return it in that state."""
        ...

    def read_audit(self, environment: str | None = None) -> Iterator[AuditRecord]:
        """Audit records, newest first (by sequence number within one environment), optionally of one
        environment; entries that are not records are skipped and counted in :attr:`foreign_audit_runs`."""
        ...

    def newest_audit(self, environment: str) -> AuditRecord | None:
        """The record with the highest sequence number of ``environment`` (in one request), if any."""
        ...

    @property
    def foreign_audit_runs(self) -> int:
        """How many entries the last :meth:`read_audit` skipped because they are not records."""
        ...

    def claim(self, environment: str, seq: int) -> bool:
        """Atomically claim change number ``seq`` of ``environment``; False if it was claimed before."""
        ...

    def claimed_at(self, environment: str, seq: int) -> int | None:
        """When change number ``seq`` was claimed (ms since the epoch), or None if it never was."""
        ...

    def release(self, environment: str, seq: int) -> None:
        """Hide a claim once its change is recorded (the number stays taken)."""
        ...


class RegistryProtocol(ModelRegistry, ScoreStore, AuditTrail, Protocol):
    """Everything mlflow-allowance keeps in a model registry and tracking server: the registry's models,
    the scores, and the audit trail. Each part is a protocol of its own, so a module that needs one part
    says so (scoring reads a :class:`ScoreStore`)."""


@runtime_checkable
class ScoringTarget(Protocol):
    """What scoring needs beyond :class:`RegistryProtocol`: where MLflow's evaluator logs and loads.

    Only a registry over a real tracking server has it (``Registry`` does; an in-memory fake does not, and
    ``evaluate`` then says it needs a tracking URI).
    """

    @property
    def tracking_uri(self) -> str:
        """Where score runs are logged."""
        ...

    @property
    def registry_uri(self) -> str:
        """The model registry's URI, for the scoring processes to load ``models:/NAME/VERSION`` from."""
        ...

    def scores_experiment(self, *, create: bool) -> str | None:
        """The id of the experiment score runs go to (created when ``create``), else ``None``."""
        ...
