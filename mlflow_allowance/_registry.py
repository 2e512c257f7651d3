"""The one seam to MLflow: every call to ``MlflowClient`` lives here, each inside
:func:`~mlflow_allowance._mlflow_errors.translated`, which turns MLflow's errors into the package's own.

Everything above this module receives plain records (:class:`Candidate`, :class:`RegisteredModel`,
:class:`AuditRecord`); besides the seam's own modules (``_mlflow_errors``, ``_evaluator``) nothing imports
``mlflow``. URIs are checked before MLflow sees them (:mod:`mlflow_allowance._uris`, pure).
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import re
import threading
import warnings
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager, redirect_stdout
from typing import Any

import mlflow
from mlflow.entities import RunTag, ViewType
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import RESOURCE_DOES_NOT_EXIST
from mlflow.tracking import MlflowClient
from mlflow.tracking._model_registry import utils as registry_utils
from mlflow.tracking._tracking_service import utils as tracking_utils

from mlflow_allowance._mlflow_errors import translated
from mlflow_allowance._schema import (
    AUDIT_EXPERIMENT,
    LEASE_PREFIX,
    SCORE_DATASET,
    SCORE_DIGEST,
    SCORE_ERROR,
    SCORE_MODEL,
    SCORE_VERSION,
    SCORES_EXPERIMENT,
    TAG_VALUE_LIMIT,
    VERSION_TAG,
    dataset_of_tag,
    dataset_tag,
    lease_experiment,
)
from mlflow_allowance._seam import RegisteredModel
from mlflow_allowance._uris import check_given_uris, check_store_uri
from mlflow_allowance.audit import ENVIRONMENT_TAG, EVENT_TAG, SEQ_TAG, AuditRecord, AuditState
from mlflow_allowance.datasets import DatasetInfo, DatasetRef, Score
from mlflow_allowance.errors import InputError, InvalidModelNameError, NotFoundError, shown
from mlflow_allowance.selection import Candidate

__all__ = ["Registry", "current_uris", "quote"]

#: Run ids per ``search_runs`` request; MLflow's filter parser handles this many comfortably.
RUN_BATCH = 100
#: Model versions per ``search_model_versions`` page (MLflow's default; its maximum is 200,000).
VERSION_PAGE = 10_000
#: Score runs per ``search_runs`` page (MLflow's maximum for one page).
SCORE_PAGE = 50_000
#: Tags per create_run / log_batch request (MLflow accepts up to 1,000 per batch).
_TAGS_PER_REQUEST = 100
_STATUS_OF: dict[AuditState, str] = {"pending": "RUNNING", "complete": "FINISHED", "abandoned": "FAILED"}
_STATE_OF: dict[str, AuditState] = {"RUNNING": "pending", "SCHEDULED": "pending", "FINISHED": "complete"}
_URI_LOCK = threading.Lock()
_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def quote(value: str) -> str:
    r"""Quote ``value`` as a string literal for an MLflow ``IN (...)`` search filter.

    MLflow decodes ``IN`` lists with ``ast.literal_eval`` but never unescapes ``=`` literals, so every
    character outside a small safe set is written as a Python escape; the literal then holds no quote or
    backslash that MLflow's SQL tokenizer could misread.

    >>> quote("it's 50%")
    "'it\\x27s\\x2050\\x25'"
    """
    out: list[str] = []
    for char in value:
        code = ord(char)
        if char in _SAFE:
            out.append(char)
        elif code < 0x100:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return "'" + "".join(out) + "'"


class Registry:
    """Reads and writes everything mlflow-allowance keeps in an MLflow tracking server and registry.

    Implements :class:`~mlflow_allowance._seam.RegistryProtocol` over ``MlflowClient``.
    """

    def __init__(self, tracking_uri: str | None = None, registry_uri: str | None = None) -> None:
        with translated("connecting to MLflow"):
            # Before MlflowClient: building it creates a missing sqlite database (and its directories).
            _check_store_uris(tracking_uri, registry_uri)
            self._client = MlflowClient(tracking_uri=tracking_uri, registry_uri=registry_uri)
        self._tracking_uri: str = self._client._tracking_client.tracking_uri
        self._registry_uri: str = self._client._registry_uri or self._tracking_uri
        self._audit_experiment_id: str | None = None
        self._scores_experiment_id: str | None = None
        self._foreign_audit_runs = 0
        self._claims: dict[tuple[str, int], str] = {}
        #: Whether the registry takes ``name IN (...)`` in a version search (MLflow 3.17+); None: not tried.
        self._name_in: bool | None = None
        #: Whether experiment tags can be deleted (MLflow 3.2+ client and server); None: not tried yet.
        self._delete_tags: bool | None = None

    @property
    def tracking_uri(self) -> str:
        """The tracking URI this registry reads and writes (as resolved by ``MlflowClient``)."""
        return self._tracking_uri

    @property
    def registry_uri(self) -> str:
        """The model registry's URI (the tracking URI unless another was given or set)."""
        return self._registry_uri

    # Registered models and versions -------------------------------------------------------------------

    def registered_model(self, name: str) -> RegisteredModel:
        """The registered model ``name``; :class:`NotFoundError` if it does not exist."""
        with translated(f"reading registered model {name!r}", model=name):
            model = self._client.get_registered_model(name)
        _same_spelling(name, model.name)
        return _registered(model)

    def registered_models(self) -> list[RegisteredModel]:
        """Every registered model (paginated)."""
        with translated("listing registered models"):
            return [
                _registered(m)
                for m in _pages(_registered_model_search(self._client), max_results=1000)
                if (m.tags or {}).get(_PROMPT_TAG) != "true"
            ]

    def register(self, model_uri: str, name: str, tags: Mapping[str, str], await_seconds: int) -> int:
        """Register ``model_uri`` as a new version of ``name`` carrying ``tags``; return its version.

        Uses ``mlflow.register_model`` (it resolves ``runs:/`` and ``models:/`` URIs) against this
        registry's URIs.
        """
        with contextlib.suppress(NotFoundError):  # a new model is fine, a name held in another spelling not
            self.registered_model(name)
        with translated(f"registering {model_uri!r} as {name!r}", model=name), self._as_current():
            created = mlflow.register_model(
                model_uri, name, await_registration_for=await_seconds, tags=dict(tags)
            )
        return int(created.version)

    def version_semver(self, name: str, version: int) -> str | None:
        """The semantic version tag of ``name`` version ``version``; :class:`NotFoundError` if missing."""
        with translated(f"reading {name}/{version}", model=name):
            found = self._client.get_model_version(name, str(version))
        return found.tags.get(VERSION_TAG)

    def set_version_tag(self, name: str, version: int, key: str, value: str) -> None:
        """Set a tag on one model version."""
        with self._model_first(name), translated(f"tagging {name}/{version}", model=name):
            self._client.set_model_version_tag(name, str(version), key, value)

    def candidates(
        self,
        models: Sequence[str],
        *,
        metric: str | None = None,
        version_run_tag: str | None = None,
        registered: Sequence[RegisteredModel] = (),
        dataset: DatasetRef | None = None,
    ) -> list[Candidate]:
        """Every version of ``models`` as a :class:`Candidate`, with metrics from its training run (or,
        given a pinned ``dataset``, the scores recorded on it).

        Requests grow with N / page size: one paginated ``search_model_versions`` for all models, one
        ``get_registered_model`` per model not already given in ``registered`` (aliases are not in search
        results), and — only when a metric or a run tag is needed — ``search_runs`` batched by
        :data:`RUN_BATCH` run ids; on a dataset, one paginated ``search_runs`` of scores per model instead.
        """
        known = {model.name: model for model in registered}
        registered_by_name = {name: known.get(name) or self.registered_model(name) for name in models}
        with translated("searching model versions"):
            versions, self._name_in = search_versions(self._client, models, name_in=self._name_in)
        runs: dict[str, Any] = {}
        if (metric is not None and dataset is None) or version_run_tag is not None:
            runs = self._runs({v.run_id for v in versions if v.run_id})
        scores = self.scores(dataset, models) if dataset is not None else {}
        candidates = []
        for mv in versions:
            run = runs.get(mv.run_id) if mv.run_id else None
            metrics: dict[str, float] = dict(run.data.metrics) if run is not None else {}
            score = scores.get((mv.name, int(mv.version)))
            if dataset is not None:
                metrics = dict(score.metrics) if score is not None else {}
            semver = mv.tags.get(VERSION_TAG)
            if semver is None and version_run_tag is not None and run is not None:
                semver = run.data.tags.get(version_run_tag)
            version = int(mv.version)
            aliases = tuple(a for a, v in registered_by_name[mv.name].aliases.items() if v == version)
            candidates.append(
                Candidate(
                    name=mv.name,
                    version=version,
                    semver=semver,
                    metrics=metrics,
                    tags=dict(mv.tags),
                    status=str(mv.status),
                    created_at=int(mv.creation_timestamp or 0),
                    aliases=aliases,
                    run_id=mv.run_id or None,
                    stage=mv.current_stage or None,
                    failure=score.error if score is not None else None,
                )
            )
        return candidates

    def run_params(self, run_ids: Collection[str]) -> dict[str, dict[str, str]]:
        """The parameters logged by each of the runs ``run_ids`` (run id → {param: value}); ids of runs that
        do not exist are left out. The runs are read as ``candidates`` reads them (:meth:`_runs`:
        ``search_runs`` batched by :data:`RUN_BATCH` run ids); no request for no ids."""
        if not run_ids:
            return {}
        return {run_id: dict(run.data.params) for run_id, run in self._runs(set(run_ids)).items()}

    def _runs(self, run_ids: set[str]) -> dict[str, Any]:
        """The runs of ``run_ids``: searched in the active experiments, then (only for runs not found) in
        the deleted ones, leaving out the lease experiments, which pile up as deleted experiments."""
        found = self._runs_in(run_ids, self._experiment_ids(ViewType.ACTIVE_ONLY))
        missing = run_ids - found.keys()
        if missing:
            deleted = [
                e.experiment_id
                for e in self._experiments(ViewType.DELETED_ONLY)
                if not e.name.startswith(LEASE_PREFIX)
            ]
            found.update(self._runs_in(missing, deleted))
        return found

    def _experiment_ids(self, view_type: int) -> list[str]:
        return [e.experiment_id for e in self._experiments(view_type)]

    def _experiments(self, view_type: int) -> list[Any]:
        with translated("listing experiments"):
            return list(_pages(self._client.search_experiments, view_type=view_type, max_results=1000))

    def _runs_in(self, run_ids: set[str], experiment_ids: list[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        if not run_ids or not experiment_ids:
            return found
        ordered = sorted(run_ids)
        for start in range(0, len(ordered), RUN_BATCH):
            batch = ordered[start : start + RUN_BATCH]
            ids = ", ".join(quote(run_id) for run_id in batch)
            with translated("reading training runs"):
                for run in _pages(
                    self._client.search_runs,
                    experiment_ids=experiment_ids,
                    filter_string=f"attributes.run_id IN ({ids})",
                    run_view_type=ViewType.ALL,
                    max_results=len(batch),
                ):
                    found[run.info.run_id] = run
        return found

    # Datasets and scores -----------------------------------------------------------------------------------

    def datasets(self) -> list[DatasetInfo]:
        """Every dataset ``evaluate`` recorded, by name (its current content), in one request."""
        found = []
        for key, value in self._scores_tags().items():
            if dataset_of_tag(key) is not None:
                with contextlib.suppress(InputError):  # a damaged record names no dataset
                    found.append(DatasetInfo.from_json(value))
        return sorted(found, key=lambda info: info.ref.name)

    def dataset(self, name: str) -> DatasetInfo | None:
        """The current content of dataset ``name`` (the digest last evaluated under it), if any."""
        value = self._scores_tags().get(dataset_tag(name))
        if value is None:
            return None
        try:
            return DatasetInfo.from_json(value)
        except InputError:
            return None

    def save_dataset(self, info: DatasetInfo) -> None:
        """Make ``info`` the current content of its dataset name."""
        experiment_id = self.scores_experiment(create=True)
        assert experiment_id is not None
        with translated(f"recording dataset {info.ref}"):
            self._client.set_experiment_tag(experiment_id, dataset_tag(info.ref.name), info.to_json())

    def scores(self, dataset: DatasetRef, models: Sequence[str]) -> dict[tuple[str, int], Score]:
        """The newest finished score (or failure) of each version of ``models`` on ``dataset``'s digest.

        One paginated ``search_runs`` of the scores experiment per model, filtered by digest and model (one
        for all models, by digest only, when a model's name has characters a filter cannot quote). A run still
        ``RUNNING`` (an evaluation in progress, or one whose process died) counts for nothing.
        """
        assert dataset.digest is not None, "scores are read for a pinned dataset"
        experiment_id = self.scores_experiment(create=False)
        if experiment_id is None:
            return {}
        wanted = set(models)
        found: dict[tuple[str, int], Score] = {}
        # Digests are validated letters and digits: safe inside '...' (`=` never unescapes). Model names
        # are safe there only when made of _SAFE characters: then one search per model reads only its
        # scores; otherwise one search reads every score on the digest and the names are matched here.
        digest_filter = f"tags.`{SCORE_DIGEST}` = '{dataset.digest}'"
        filters = [digest_filter]
        if all(_SAFE.issuperset(name) for name in wanted):
            filters = [f"{digest_filter} AND tags.`{SCORE_MODEL}` = '{name}'" for name in models]
        runs = (
            run
            for filter_string in filters
            for run in _pages(
                self._client.search_runs,
                experiment_ids=[experiment_id],
                filter_string=filter_string,
                order_by=["attributes.start_time DESC"],
                max_results=SCORE_PAGE,
            )
        )
        with translated(f"reading scores on {dataset}"):
            for run in runs:
                tags = run.data.tags
                model, version = tags.get(SCORE_MODEL), tags.get(SCORE_VERSION, "")
                if tags.get(SCORE_DATASET) != dataset.name or model not in wanted or not version.isdigit():
                    continue
                key = (str(model), int(version))
                status = str(run.info.status)
                if key in found or status not in {"FINISHED", "FAILED"}:
                    continue
                error = tags.get(SCORE_ERROR)
                if status == "FAILED" and error is None:
                    continue  # stopped, not failed: it says nothing about the version
                metrics = dict(run.data.metrics) if status == "FINISHED" else {}
                found[key] = Score(key[0], key[1], dataset, metrics, error, run.info.run_id)
        return found

    def scores_experiment(self, *, create: bool) -> str | None:
        """The id of the experiment holding scores and dataset records (created when ``create``)."""
        if self._scores_experiment_id is None:
            with translated("reading the scores experiment"):
                self._scores_experiment_id = self._find_or_create(
                    SCORES_EXPERIMENT,
                    "Scores of model versions on fixed datasets, by mlflow-allowance.",
                    create=create,
                )
        return self._scores_experiment_id

    def _scores_tags(self) -> dict[str, str]:
        with translated("reading recorded datasets"):
            experiment = self._client.get_experiment_by_name(SCORES_EXPERIMENT)
        if experiment is None:
            return {}
        self._scores_experiment_id = str(experiment.experiment_id)
        return dict(experiment.tags)

    # Aliases and stages --------------------------------------------------------------------------------

    def set_alias(self, name: str, alias: str, version: int) -> None:
        """Point ``@alias`` of ``name`` at ``version``."""
        with self._model_first(name), translated(f"setting alias @{alias} on {name}/{version}", model=name):
            self._client.set_registered_model_alias(name, alias, str(version))

    @contextmanager
    def _model_first(self, name: str) -> Iterator[None]:
        """A missing version reported as a missing model when the model is what is missing: MLflow before 3
        names only the version (one more request, on that error only)."""
        try:
            yield
        except NotFoundError:
            self.registered_model(name)  # raises the missing model's NotFoundError
            raise

    def delete_alias(self, name: str, alias: str) -> None:
        """Remove ``@alias`` from ``name``."""
        with translated(f"removing alias @{alias} from {name}", model=name):
            self._client.delete_registered_model_alias(name, alias)

    def transition_stage(self, name: str, version: int, stage: str) -> None:
        """Move ``name/version`` to the legacy ``stage``, archiving the versions that held it."""
        with translated(f"moving {name}/{version} to stage {stage}", model=name), warnings.catch_warnings():
            # Stages are deprecated since MLflow 2.9; mirroring one is an explicit, documented opt-in.
            warnings.simplefilter("ignore", FutureWarning)
            self._client.transition_model_version_stage(
                name, str(version), stage, archive_existing_versions=True
            )

    # Allowances ------------------------------------------------------------------------------------------

    def set_model_tag(self, name: str, key: str, value: str) -> None:
        """Set a registered-model tag."""
        _check_length(key, value)
        with translated(f"tagging registered model {name!r}", model=name):
            self._client.set_registered_model_tag(name, key, value)

    def delete_model_tag(self, name: str, key: str) -> None:
        """Delete a registered-model tag."""
        with translated(f"untagging registered model {name!r}", model=name):
            self._client.delete_registered_model_tag(name, key)

    def workspace_tags(self) -> dict[str, str]:
        """Tags of the audit experiment (where workspace-wide defaults live); empty if it does not exist."""
        with translated("reading workspace allowances"):
            experiment = self._client.get_experiment_by_name(AUDIT_EXPERIMENT)
        if experiment is None:
            return {}
        self._audit_experiment_id = experiment.experiment_id
        # An empty value is a deleted tag (see delete_workspace_tag).
        return {key: value for key, value in experiment.tags.items() if value != ""}

    def set_workspace_tag(self, key: str, value: str) -> None:
        """Set a tag on the audit experiment, creating it if needed."""
        _check_length(key, value)
        experiment_id = self._audit_experiment(create=True)
        assert experiment_id is not None
        with translated("writing a workspace allowance"):
            self._client.set_experiment_tag(experiment_id, key, value)

    def delete_workspace_tag(self, key: str) -> None:
        """Delete a tag of the audit experiment, if it exists."""
        experiment_id = self._audit_experiment(create=False)
        if experiment_id is None:
            return
        with translated("deleting a workspace allowance"):
            if self._delete_tags is not False and hasattr(self._client, "delete_experiment_tag"):
                try:
                    self._client.delete_experiment_tag(experiment_id, key)
                    self._delete_tags = True
                    return
                except MlflowException as exc:
                    if exc.error_code != "ENDPOINT_NOT_FOUND":
                        raise
            # Before MLflow 3.2 (client or server) an experiment tag cannot be deleted: an empty value is
            # what "unset" means to workspace_tags(). A missing tag fails as MLflow's deletion fails.
            self._delete_tags = False
            if not self._client.get_experiment(experiment_id).tags.get(key):
                raise MlflowException(
                    f"No tag with name: {key} in experiment with id {experiment_id}",
                    error_code=RESOURCE_DOES_NOT_EXIST,
                )
            self._client.set_experiment_tag(experiment_id, key, "")

    # Audit trail ------------------------------------------------------------------------------------------

    def write_audit(self, record: AuditRecord) -> AuditRecord:
        """Store ``record`` as a run of the audit experiment; return it with its run id.

        The run is created with the record's tags in one request; a ``pending`` record stays ``RUNNING``
        (write-ahead: it is written before the change it announces), any other is terminated at once.
        """
        experiment_id = self._audit_experiment(create=True)
        assert experiment_id is not None
        tags = {"mlflow.user": record.user[:TAG_VALUE_LIMIT], **record.to_tags()}
        first, rest = dict(list(tags.items())[:_TAGS_PER_REQUEST]), list(tags.items())[_TAGS_PER_REQUEST:]
        with translated("writing the audit trail"):
            run = self._client.create_run(
                experiment_id,
                start_time=record.time,
                tags=first,
                run_name=f"{record.kind} {record.environment}"[:250],
            )
            for start in range(0, len(rest), _TAGS_PER_REQUEST):
                batch = dict(rest[start : start + _TAGS_PER_REQUEST])
                self._client.log_batch(run.info.run_id, tags=_run_tags(batch))
        stored = record.with_id(run.info.run_id)
        if record.state != "pending":
            self._terminate(run.info.run_id, record.state)
        return stored

    def finish_audit(self, record: AuditRecord, state: AuditState) -> AuditRecord:
        """Mark a stored record ``complete`` (run ``FINISHED``) or ``abandoned`` (run ``FAILED``)."""
        assert record.record_id is not None, "only a stored record can be finished"
        self._terminate(record.record_id, state)
        return record.with_state(state)

    def _terminate(self, run_id: str, state: AuditState) -> None:
        with translated("writing the audit trail"), redirect_stdout(io.StringIO()):
            # Over REST, set_terminated prints "View run ..." links to stdout, which would corrupt --json.
            self._client.set_terminated(run_id, status=_STATUS_OF[state])

    @property
    def foreign_audit_runs(self) -> int:
        """How many runs the last :meth:`read_audit` skipped because they are not audit records."""
        return self._foreign_audit_runs

    def read_audit(self, environment: str | None = None) -> Iterator[AuditRecord]:
        """Audit records, newest first, optionally of one environment.

        Within one environment they are ordered by sequence number (then start time, for records written
        before 0.2); across environments by start time. Runs that are not records (logged there by hand,
        or damaged) are skipped and counted in :attr:`foreign_audit_runs`.
        """
        self._foreign_audit_runs = 0
        experiment_id = self._audit_experiment(create=False)
        if experiment_id is None:
            return
        yield from self._audit_runs(experiment_id, environment, max_results=1000)

    def newest_audit(self, environment: str) -> AuditRecord | None:
        """The record of ``environment`` with the highest sequence number, in one request."""
        experiment_id = self._audit_experiment(create=False)
        if experiment_id is None:
            return None
        for record in self._audit_runs(experiment_id, environment, max_results=10, pages=False):
            return record
        return None

    def _audit_runs(
        self, experiment_id: str, environment: str | None, *, max_results: int, pages: bool = True
    ) -> Iterator[AuditRecord]:
        # Environment names are validated alias names ([\\w-]+), safe inside '...' (`=` never unescapes).
        filter_string = f"tags.`{ENVIRONMENT_TAG}` = '{environment}'" if environment else ""
        order_by = ["attributes.start_time DESC"]
        if environment:
            order_by.insert(0, f"tags.`{SEQ_TAG}` DESC")
        search = functools.partial(
            self._client.search_runs,
            experiment_ids=[experiment_id],
            filter_string=filter_string,
            order_by=order_by,
            max_results=max_results,
        )
        with translated("reading the audit trail"):
            runs = _pages(search) if pages else iter(search())
            for run in runs:
                if EVENT_TAG not in run.data.tags:
                    self._foreign_audit_runs += 1  # a run someone else logged into the audit experiment
                    continue
                state = _STATE_OF.get(str(run.info.status), "abandoned")
                try:
                    yield AuditRecord.from_tags(run.data.tags, record_id=run.info.run_id, state=state)
                except InputError:
                    self._foreign_audit_runs += 1  # a damaged record must not make the trail unreadable

    # Leases -------------------------------------------------------------------------------------------------

    def claim(self, environment: str, seq: int) -> bool:
        """Claim change number ``seq`` of ``environment`` by creating its lease experiment.

        MLflow refuses a second experiment of one name atomically in every backend store, deleted ones
        included, so of any number of concurrent claims exactly one succeeds.
        """
        name = lease_experiment(environment, seq)
        with translated(f"claiming change {seq} of {environment}"):
            try:
                self._claims[(environment, seq)] = self._client.create_experiment(name)
            except MlflowException as exc:
                if exc.error_code == "RESOURCE_ALREADY_EXISTS":
                    return False
                raise
        return True

    def claimed_at(self, environment: str, seq: int) -> int | None:
        """When change number ``seq`` was claimed (the lease experiment's creation time), if ever."""
        with translated(f"reading the claim on change {seq} of {environment}"):
            experiment = self._client.get_experiment_by_name(lease_experiment(environment, seq))
        return None if experiment is None else int(experiment.creation_time or 0)

    def release(self, environment: str, seq: int) -> None:
        """Delete the lease experiment (soft: its name, and so the number, stays taken)."""
        experiment_id = self._claims.pop((environment, seq), None)
        with translated(f"releasing change {seq} of {environment}"):
            if experiment_id is None:
                experiment = self._client.get_experiment_by_name(lease_experiment(environment, seq))
                if experiment is None or experiment.lifecycle_stage == "deleted":
                    return
                experiment_id = experiment.experiment_id
            self._client.delete_experiment(experiment_id)

    def _audit_experiment(self, *, create: bool) -> str | None:
        if self._audit_experiment_id is None:
            with translated("reading the audit experiment"):
                self._audit_experiment_id = self._find_or_create(
                    AUDIT_EXPERIMENT, "Allowances and audit trail of mlflow-allowance.", create=create
                )
        return self._audit_experiment_id

    def _find_or_create(self, name: str, note: str, *, create: bool) -> str | None:
        """The id of experiment ``name``; created (with ``note``) when missing and ``create``, else None."""
        experiment = self._client.get_experiment_by_name(name)
        if experiment is not None:
            return str(experiment.experiment_id)
        if not create:
            return None
        try:
            return str(self._client.create_experiment(name, tags={"mlflow.note.content": note}))
        except MlflowException as exc:
            # Another process created it between our lookup and our create: use theirs.
            experiment = self._client.get_experiment_by_name(name)
            if exc.error_code != "RESOURCE_ALREADY_EXISTS" or experiment is None:
                raise
            return str(experiment.experiment_id)

    def _as_current(self) -> contextlib.AbstractContextManager[None]:
        return current_uris(self.tracking_uri, self.registry_uri)


@contextmanager
def current_uris(tracking_uri: str, registry_uri: str) -> Iterator[None]:
    """Make these URIs MLflow's current ones for fluent calls, then restore them exactly.

    The one place the package touches MLflow's module-global URIs. Two calls need them and take no URI:
    ``mlflow.register_model`` (it resolves ``runs:/`` URIs and registers through ``MlflowClient()``) and
    ``mlflow.models.evaluate`` (it logs into the active run through ``MlflowClient()``); see
    :meth:`Registry.register` and ``_evaluator.score_versions``. ``mlflow.set_tracking_uri`` also writes
    ``MLFLOW_TRACKING_URI`` into the environment, so the module globals and both environment variables are
    saved and put back as they were, under a lock (two threads must not swap them at once).
    """
    names = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")
    with _URI_LOCK:
        saved_env = {name: os.environ.get(name) for name in names}
        saved = (tracking_utils._tracking_uri, registry_utils._registry_uri)
        mlflow.set_tracking_uri(tracking_uri)
        mlflow.set_registry_uri(registry_uri)
        try:
            yield
        finally:
            tracking_utils._tracking_uri, registry_utils._registry_uri = saved
            for name, value in saved_env.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def _same_spelling(asked: str, stored: str) -> None:
    """Refuse a model name that the registry matched to another spelling (MySQL and MariaDB compare names
    without regard to case or accents), so that one model is never read or written under two names."""
    if stored != asked:
        raise InvalidModelNameError(
            f"Invalid model name {shown(asked)}: this registry holds it as {shown(stored)} (its database "
            f"compares names without regard to case); use {shown(stored)}"
        )


def _registered(model: Any) -> RegisteredModel:
    return RegisteredModel(
        name=model.name,
        tags=dict(model.tags or {}),
        aliases={alias: int(version) for alias, version in (model.aliases or {}).items()},
    )


#: Where MLflow 3 marks a registered model that is a prompt (prompts are not models to allowances).
_PROMPT_TAG = "mlflow.prompt.is_prompt"
#: MLflow's answer before 3.17 to ``name IN (...)`` in a model-version search.
_NO_NAME_IN = "Only the 'run_id' attribute supports comparison with a list"


def search_versions(
    client: MlflowClient, names: Sequence[str], *, name_in: bool | None = None
) -> tuple[list[Any], bool | None]:
    """Every version of the registered models ``names`` (paginated), and whether ``name IN`` was accepted.

    One search for all models where the registry takes ``name IN (...)`` (MLflow 3.17+); before, one search
    per model. ``name_in`` is what an earlier call returned (None: try ``IN`` first).
    """
    if not names:
        return [], name_in
    if name_in is not False:
        listed = ", ".join(quote(name) for name in names)
        try:
            found = list(
                _pages(
                    client.search_model_versions,
                    filter_string=f"name IN ({listed})",
                    max_results=VERSION_PAGE,
                )
            )
            return found, True
        except MlflowException as exc:
            if _NO_NAME_IN not in str(exc):
                raise
    return [version for name in names for version in _versions_of(client, name)], False


def _versions_of(client: MlflowClient, name: str) -> list[Any]:
    """Every version of ``name`` by a one-model search that works on every MLflow.

    MLflow never unescapes an ``=`` literal, so a name with characters outside :data:`_SAFE` is searched with
    ``LIKE``, each run of such characters matched by the wildcard ``%`` (not ``_``: MySQL compares
    ``BINARY name LIKE``, where ``_`` is one byte), and the results kept by exact name.
    """
    if set(name) <= _SAFE:
        filter_string = f"name = '{name}'"
    else:
        pattern = re.sub(r"%+", "%", "".join(c if c in _SAFE else "%" for c in name))
        filter_string = f"name LIKE '{pattern}'"
    found = _pages(client.search_model_versions, filter_string=filter_string, max_results=VERSION_PAGE)
    return [version for version in found if version.name == name]


def _registered_model_search(client: MlflowClient) -> Callable[..., Any]:
    """``search_registered_models`` without the prompt filter MLflow 3 clients add to it.

    That filter (``tag.`mlflow.prompt.is_prompt` != 'true'``) matches no model at all on a server before
    MLflow 3 (a model without the tag fails ``!=`` there); prompts are left out by their tag instead. Falls
    back to the public call where the client has no registry store to ask.
    """
    registry = getattr(client, "_get_registry_client", None)
    store = getattr(registry(), "store", None) if callable(registry) else None
    search = getattr(store, "search_registered_models", None)
    if not callable(search):
        return client.search_registered_models

    def without_prompt_filter(**kwargs: Any) -> Any:
        return search(filter_string=None, order_by=None, **kwargs)

    return without_prompt_filter


def _pages(search: Callable[..., Any], **kwargs: Any) -> Iterator[Any]:
    token = None
    while True:
        page = search(**kwargs, page_token=token)
        yield from page
        token = page.token
        if not token:
            return


def _run_tags(tags: Mapping[str, str]) -> list[Any]:
    return [RunTag(key, value) for key, value in tags.items()]


def _check_length(key: str, value: str) -> None:
    if len(value) >= TAG_VALUE_LIMIT:
        raise InputError(f"Value for {key!r} is {len(value)} characters; the limit is {TAG_VALUE_LIMIT - 1}")


def _check_store_uris(tracking_uri: str | None, registry_uri: str | None) -> None:
    """Reject URIs MLflow would act on wrongly, before it acts (see :mod:`mlflow_allowance._uris`): the ones
    given, then the defaults MlflowClient would resolve them to (``MLFLOW_TRACKING_URI``,
    ``mlflow.set_registry_uri``, ...)."""
    check_given_uris(tracking_uri, registry_uri)  # before MLflow parses one to resolve the other
    resolved_tracking = tracking_utils._resolve_tracking_uri(tracking_uri)  # type: ignore[no-untyped-call]
    resolved_registry = registry_utils._resolve_registry_uri(registry_uri, tracking_uri)
    for kind, uri in (("tracking", resolved_tracking), ("registry", resolved_registry)):
        if isinstance(uri, str) and uri not in (tracking_uri, registry_uri):
            check_store_uri(kind, uri)
