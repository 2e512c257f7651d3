"""The seam's protocol: what :class:`~mlflow_allowance.AllowanceClient` needs from a registry.

``mlflow_allowance._registry.Registry`` implements it over ``MlflowClient``; any other object with these
methods (an in-memory fake in the fast tests, say) can stand in for it:
``AllowanceClient(registry=MyRegistry())``. Pure: records only, no MLflow.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from mlflow_allowance._frozen import FrozenDict
from mlflow_allowance.audit import AuditRecord, AuditState
from mlflow_allowance.datasets import DatasetInfo, DatasetRef, Score
from mlflow_allowance.selection import Candidate

__all__ = ["RegisteredModel", "RegistryProtocol"]


@dataclass(frozen=True)
class RegisteredModel:
    """A registered model's name, tags and aliases (alias → registry version)."""

    name: str
    tags: Mapping[str, str] = field(default_factory=FrozenDict)
    aliases: Mapping[str, int] = field(default_factory=FrozenDict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tags", FrozenDict(self.tags))
        object.__setattr__(self, "aliases", FrozenDict(self.aliases))


class RegistryProtocol(Protocol):
    """Reads and writes of everything mlflow-allowance keeps in a model registry and tracking server.

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
