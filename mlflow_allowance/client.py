"""``AllowanceClient``: the Python API, one instance per MLflow backend (like ``MlflowClient``).

It validates input, asks the registry adapter for plain records, lets the pure core decide, and writes the
outcome back. MLflow is imported only when a client is constructed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, get_args

from mlflow_allowance._deprecation import renamed_keyword
from mlflow_allowance._environments import validate_environment, validate_model_name
from mlflow_allowance._reconcile import Reconciler
from mlflow_allowance._schema import VERSION_TAG, allowance_tag, environments_of
from mlflow_allowance._scoring import check_jobs, dataset_ref, score
from mlflow_allowance._seam import ScoringTarget
from mlflow_allowance._writeahead import (
    Move,
    WriteAhead,
    allowance_text,
    retrying,
    split_key,
    wait_seconds,
)
from mlflow_allowance.allowance import VersionAllowance
from mlflow_allowance.audit import ALIAS_KINDS, AuditKind, AuditRecord
from mlflow_allowance.datasets import DatasetInfo, DatasetRef
from mlflow_allowance.errors import (
    InputError,
    MissingExtraError,
    NoEligibleCandidateError,
    NotFoundError,
    RollbackRefusedError,
    shown,
)
from mlflow_allowance.outcomes import (
    AllowanceChange,
    CheckReport,
    EffectiveAllowance,
    Evaluation,
    ModelVersionInfo,
    Promotion,
    Violation,
    resolve_allowance,
)
from mlflow_allowance.request import SelectionRequest
from mlflow_allowance.selection import Candidate, Selection, SelectionPolicy, rank_candidates, within
from mlflow_allowance.versions import BumpPart, SemanticVersion, _parse_or_none

if TYPE_CHECKING:
    from mlflow_allowance._seam import RegisteredModel, RegistryProtocol

__all__ = ["AllowanceClient"]


@dataclass(frozen=True)
class AliasMove:
    """An environment's alias moving to ``new``: the kind of record, the versions holding the alias now
    (one per model), the legacy stage to mirror, why, and what the record keeps besides."""

    kind: AuditKind
    environment: str
    holders: tuple[Candidate, ...]
    new: Candidate
    stage: str | None
    reason: str
    details: Mapping[str, Any]


class AllowanceClient:
    """Allowances, selection, promotion, audit and rollback against one MLflow tracking server/registry.

    ``tracking_uri`` and ``registry_uri`` default to MLflow's current ones (``MLFLOW_TRACKING_URI``, else
    ``sqlite:///mlflow.db``), exactly as for ``mlflow.MlflowClient``. Environment names are MLflow alias
    names, case-insensitive (``PROD`` is ``@prod``). ``registry`` replaces MLflow with any object that
    has the seam's methods (:class:`~mlflow_allowance._seam.RegistryProtocol`), e.g. an in-memory fake
    in fast tests; it excludes the URIs.
    """

    def __init__(
        self,
        tracking_uri: str | None = None,
        registry_uri: str | None = None,
        *,
        registry: RegistryProtocol | None = None,
    ) -> None:
        if registry is not None:
            if tracking_uri is not None or registry_uri is not None:
                raise InputError(
                    "AllowanceClient takes either tracking/registry URIs or a registry, not both"
                )
            self._registry: RegistryProtocol = registry
        else:
            self._registry = _mlflow_registry(tracking_uri, registry_uri)
        self._ahead = WriteAhead(self._registry)
        self._reconciler = Reconciler(self._registry, self._ahead, self._fix)

    @property
    def tracking_uri(self) -> str:
        """The tracking URI this client talks to."""
        return self._registry.tracking_uri

    # Semantic versions ------------------------------------------------------------------------------

    @renamed_keyword("version", "semver")  # until 0.3.0: register_model(..., version=) was 0.1.0's spelling
    def register_model(
        self,
        model_uri: str,
        name: str,
        *,
        semver: str | None = None,
        bump: BumpPart | None = None,
        tags: Mapping[str, str] | None = None,
        await_registration_for: int = 300,
    ) -> ModelVersionInfo:
        """Register ``model_uri`` as a new version of ``name`` carrying semantic version ``semver``.

        Like ``mlflow.register_model``, plus the semantic version, written in the same call. Give either
        ``semver`` (``"2.0"``) or ``bump`` (``"major"``/``"minor"``/``"patch"`` from the model's highest
        semantic version). An invalid version is rejected before anything is written.
        """
        name = validate_model_name(name)
        if (semver is None) == (bump is None):
            raise InputError("register_model needs exactly one of semver='1.0' or bump='minor'")
        if semver is not None:
            parsed = SemanticVersion.parse(semver)
        else:
            assert bump is not None
            parsed = self.next_semver(name, bump)
        all_tags = {**(tags or {}), VERSION_TAG: parsed.text}
        registered = self._registry.register(model_uri, name, all_tags, await_registration_for)
        return ModelVersionInfo(name, registered, parsed.text)

    def set_version(self, name: str, version: int | str, semver: str) -> ModelVersionInfo:
        """Set (or change) the semantic version ``semver`` of registry version ``version`` of ``name``."""
        name = validate_model_name(name)
        number = _registry_version(version)
        parsed = SemanticVersion.parse(semver)
        self._registry.version_semver(name, number)  # raises NotFoundError before writing
        self._registry.set_version_tag(name, number, VERSION_TAG, parsed.text)
        return ModelVersionInfo(name, number, parsed.text)

    def get_version(self, name: str, version: int | str) -> ModelVersionInfo:
        """The semantic version registry version ``version`` of ``name`` carries (``semver`` may be None)."""
        name = validate_model_name(name)
        number = _registry_version(version)
        return ModelVersionInfo(name, number, self._registry.version_semver(name, number))

    def next_semver(self, name: str, bump: BumpPart) -> SemanticVersion:
        """The next semantic version of ``name``: its highest valid one (or ``0.0``) bumped by ``bump``."""
        if bump not in get_args(BumpPart):
            raise InputError(f"Invalid bump {shown(bump)}: expected 'major', 'minor' or 'patch'")
        try:
            existing = self._registry.candidates([validate_model_name(name)])
        except NotFoundError:
            existing = []
        parsed = [_parse_or_none(c.semver) for c in existing]
        valid = [v for v in parsed if v is not None]
        return max(valid, default=SemanticVersion("0.0")).bump(bump)

    # Allowances ------------------------------------------------------------------------------------

    def set_allowance(
        self,
        environment: str,
        allowance: str | VersionAllowance,
        *,
        model: str | None = None,
        reason: str = "",
        wait: float = 0.0,
    ) -> AllowanceChange:
        """Set ``environment``'s allowance: workspace-wide, or for one registered ``model`` (an override).

        Returns the change; its :meth:`~AllowanceChange.describe` says whether it widened or narrowed the
        old allowance. Setting the same allowance again writes nothing. ``wait`` is how many seconds to
        wait for another writer of the environment to finish (else :class:`EnvironmentBusyError`).
        """
        env = validate_environment(environment)
        new = VersionAllowance.parse(allowance)
        model = None if model is None else validate_model_name(model)
        reason = _reason(reason)
        return retrying(wait, lambda: self._change_allowance(env, model, new, reason))

    def unset_allowance(
        self, environment: str, *, model: str | None = None, reason: str = "", wait: float = 0.0
    ) -> AllowanceChange:
        """Remove ``environment``'s workspace-wide allowance, or ``model``'s override of it."""
        env = validate_environment(environment)
        model = None if model is None else validate_model_name(model)
        reason = _reason(reason)
        return retrying(wait, lambda: self._change_allowance(env, model, None, reason))

    def get_allowance(self, environment: str, *, model: str | None = None) -> EffectiveAllowance:
        """The allowance ``environment`` applies (to ``model``, if given) and where it comes from."""
        env = validate_environment(environment)
        model_tags = None
        if model is not None:
            model_tags = self._registry.registered_model(validate_model_name(model)).tags
        return resolve_allowance(env, model, self._registry.workspace_tags(), model_tags)

    def list_allowances(self, *, model: str | None = None) -> list[EffectiveAllowance]:
        """Every stored allowance: the workspace defaults and the per-model overrides (of ``model`` only,
        if given), sorted by environment then model."""
        workspace = self._registry.workspace_tags()
        found = [resolve_allowance(env, None, workspace) for env in environments_of(workspace)]
        models = (
            [self._registry.registered_model(validate_model_name(model))]
            if model is not None
            else self._registry.registered_models()
        )
        for registered in models:
            found.extend(
                resolve_allowance(env, registered.name, workspace, registered.tags)
                for env in environments_of(registered.tags)
            )
        return sorted(found, key=lambda a: (a.environment, a.model or ""))

    # What the registry holds ------------------------------------------------------------------------------

    def registered_models(self) -> list[RegisteredModel]:
        """Every registered model: its name, tags (allowance overrides among them) and aliases."""
        return self._registry.registered_models()

    def run_params(self, run_ids: Collection[str]) -> dict[str, dict[str, str]]:
        """The parameters each of the training runs ``run_ids`` logged (run id → {param: value}); runs
        that do not exist are left out."""
        return self._registry.run_params(run_ids)

    # Selection and promotion --------------------------------------------------------------------------

    def select(
        self,
        environment: str,
        models: str | Sequence[str] | SelectionRequest,
        *,
        metric: str | None = None,
        maximize: bool = True,
        required_tags: Mapping[str, str] | None = None,
        prereleases: bool | None = None,
        version_run_tag: str | None = None,
        dataset: str | DatasetRef | object | None = None,
    ) -> Selection:
        """Pick the best version of ``models`` that ``environment`` allows; write nothing.

        ``models`` is a model name, a sequence of names, or a whole :class:`SelectionRequest` (then the
        keyword options must be left out). With ``metric``, the best by that metric of each version's
        training run (``maximize=False`` for losses); without, the highest semantic version.
        ``required_tags`` must be on a version with exactly these values; ``prereleases`` overrides the
        allowance's pre-release default; ``version_run_tag`` names a run tag to read the semantic version
        from when a model version carries none of its own. ``dataset`` (a name, ``name@digest``, a
        :class:`DatasetRef` or an ``mlflow.data`` dataset) judges ``metric`` on the scores :meth:`evaluate`
        recorded on that dataset instead: a version without one is not eligible.
        """
        env = validate_environment(environment)
        request = SelectionRequest.build(
            models,
            metric=metric,
            maximize=maximize,
            required_tags=required_tags,
            prereleases=prereleases,
            version_run_tag=version_run_tag,
            dataset=None if dataset is None else dataset_ref(dataset),
        )
        return self._select(env, request)

    def promote(
        self,
        environment: str,
        models: str | Sequence[str] | SelectionRequest,
        *,
        metric: str | None = None,
        maximize: bool = True,
        required_tags: Mapping[str, str] | None = None,
        prereleases: bool | None = None,
        version_run_tag: str | None = None,
        dataset: str | DatasetRef | object | None = None,
        dry_run: bool = False,
        stage: str | None = None,
        reason: str = "",
        wait: float = 0.0,
        data: object | None = None,
        target: str | None = None,
        jobs: int = 1,
        retry_failed: bool = False,
        progress: Callable[[int, int, float], None] | None = None,
    ) -> Promotion:
        """Point ``@environment`` at the version :meth:`select` picks, and record it in the audit trail.

        Takes what :meth:`select` takes, plus: ``dry_run`` says what would change and writes nothing;
        ``stage`` also mirrors the legacy registry stage (``"Production"`` or ``"Staging"``), archiving its
        previous holders; ``reason`` goes into the audit record; ``wait`` is how many seconds to wait for
        another writer of the environment (else :class:`EnvironmentBusyError`). Only the winner's model
        holds the alias afterwards. When the winner already holds the alias nothing is written. Raises
        :class:`NoEligibleCandidateError` (alias unchanged) when no candidate is eligible.

        With ``data`` (and ``target``, ``jobs``, ``retry_failed``, ``progress`` as :meth:`evaluate` takes
        them), the versions within the allowance are first scored on it, and the winner is the best
        ``metric`` on that content (``dataset`` then names it); the result's ``evaluation`` says what was
        scored (also on the :class:`NoEligibleCandidateError`).

        The move is recorded before it is made (a ``pending`` record), then the alias, the other models'
        aliases and the stage are written, then the record is marked ``complete``: whatever point a crash
        stops at, the trail names the change, and ``check`` finds and settles it.
        """
        env = validate_environment(environment)
        request = SelectionRequest.build(
            models,
            metric=metric,
            maximize=maximize,
            required_tags=required_tags,
            prereleases=prereleases,
            version_run_tag=version_run_tag,
            dataset=None if dataset is None or data is not None else dataset_ref(dataset),
        )
        stage, reason = _stage(stage), _reason(reason)
        wait = wait_seconds(wait)  # a bad wait is refused before anything is scored
        evaluation = None
        if data is not None:
            if request.metric is None:
                raise InputError(
                    "evaluating before promoting needs a metric to promote on, e.g. F1", hints=("metric",)
                )
            named = dataset if dataset is not None else request.dataset
            evaluation = self.evaluate(
                env,
                request.models,
                data,
                target=target,
                dataset=None if named is None else str(named),
                metrics=[request.metric],
                retry_failed=retry_failed,
                jobs=jobs,
                progress=progress,
            )
            # Pinned: the content just scored, whatever is evaluated under its name next.
            request = dataclasses.replace(request, dataset=evaluation.dataset.ref)
        elif target is not None:
            raise InputError("a target column goes with data to evaluate first (or use evaluate)")
        try:
            promotion = retrying(
                wait, lambda: self._promote(env, request, stage=stage, dry_run=dry_run, reason=reason)
            )
        except NoEligibleCandidateError as exc:
            exc.evaluation = evaluation
            raise
        return dataclasses.replace(promotion, evaluation=evaluation)

    def rollback(
        self, environment: str, model: str, *, force: bool = False, reason: str = "", wait: float = 0.0
    ) -> Promotion:
        """Point ``@environment`` back at its previous holder, as recorded by the last completed move.

        Refuses (:class:`RollbackRefusedError`) when there is nothing to go back to or when the previous
        holder no longer satisfies the current allowance, unless ``force``. ``wait`` as for :meth:`promote`.
        """
        env = validate_environment(environment)
        name = validate_model_name(model)
        reason = _reason(reason)
        return retrying(wait, lambda: self._rollback(env, name, force=force, reason=reason))

    def _rollback(self, env: str, name: str, *, force: bool, reason: str) -> Promotion:
        self._registry.registered_model(name)  # unknown model: NotFoundError, not "nothing to roll back"
        newest = self._ahead.newest(env)
        last = next(
            (r for r in self.history(env, model=name) if r.kind in ALIAS_KINDS and r.done and r.new),
            None,
        )
        if last is None:
            raise RollbackRefusedError(f"nothing to roll back: no promotion of {name} to {env} is recorded")
        if last.old is None:
            raise RollbackRefusedError(f"nothing to roll back to: {last.new} was the first holder of @{env}")
        target_name, target_version = split_key(last.old)
        models = list(_recorded_models(last) or [name])
        for needed in (name, target_name):
            if needed not in models:
                models.append(needed)
        candidates = self._registry.candidates(models)
        target = next((c for c in candidates if (c.name, c.version) == (target_name, target_version)), None)
        if target is None:
            raise RollbackRefusedError(f"cannot roll back {env} to {last.old}: that version no longer exists")
        allowance = self.get_allowance(env, model=target_name).allowance
        semver = _parse_or_none(target.semver)
        if not force and (semver is None or not within(allowance, semver)):
            raise RollbackRefusedError(
                f"cannot roll back {env} to {last.old}: its version {target.semver} is outside the current "
                f"allowance {allowance}; force the rollback to make it anyway",
                hints=("force",),
            )
        stage = last.details.get("stage")
        move = AliasMove(
            "rollback",
            env,
            holders=tuple(c for c in candidates if env in c.aliases),
            new=target,
            stage=_stage(stage) if isinstance(stage, str) else None,
            reason=reason or f"rollback of {last.kind} {last.old} → {last.new}",
            details={"models": models, "stage": stage, "undoes": last.record_id, "forced": force},
        )
        return self._move_alias(move, newest)

    # Scores on a fixed dataset --------------------------------------------------------------------------

    def evaluate(
        self,
        environment: str,
        models: str | Sequence[str],
        data: object,
        *,
        target: str | None = None,
        dataset: str | DatasetRef | None = None,
        metrics: Sequence[str] = (),
        model_type: str | None = None,
        retry_failed: bool = False,
        jobs: int = 1,
        artifacts: bool = False,
        progress: Callable[[int, int, float], None] | None = None,
    ) -> Evaluation:
        """Score every version of ``models`` within ``environment``'s allowance that has no score on
        ``data`` yet, with MLflow's own evaluator (``mlflow.models.evaluate``); needs the ``evaluate`` extra.

        ``data`` is a CSV or Parquet path, a pandas DataFrame or an ``mlflow.data`` dataset; ``target`` its
        label column; ``dataset`` the name it is known by (default: the file's stem, or the mlflow.data
        dataset's name; ``NAME@DIGEST`` must name this very content). Its content is identified by MLflow's
        digest, and the name then means that content for :meth:`select` (``dataset="wine-holdout"``): new
        data under the same name is scored afresh and the scores on the old data stop counting. Each
        version is loaded as ``models:/NAME/VERSION`` and scored in a run of the ``mlflow-allowance.scores``
        experiment, with the dataset logged as its input. ``metrics`` (``F1``, ``f1_score``, ...) are checked
        to be ones the evaluator logs; ``model_type`` is ``classifier`` or ``regressor`` (default: from the
        target).

        A version that cannot be loaded or scored is recorded as failed with its error, never wins, and
        is not retried unless ``retry_failed``. ``jobs`` worker processes score in parallel; ``artifacts``
        keeps MLflow's plots and tables (slow); ``progress(done, total, seconds)`` is called after each
        version. Bad data raises :class:`InputError` before anything is written.
        """
        env = validate_environment(environment)
        request = SelectionRequest(models)
        jobs = check_jobs(jobs)
        if not isinstance(self._registry, ScoringTarget):
            raise InputError("evaluate scores models through MLflow: it needs a client over a tracking URI")
        return score(
            self._registry,
            self._registry,
            env,
            request.models,
            lambda: self._select(env, request),
            data,
            label=target,
            dataset=dataset,
            metrics=metrics,
            model_type=model_type,
            retry_failed=retry_failed,
            jobs=jobs,
            artifacts=artifacts,
            progress=progress,
        )

    def list_datasets(self) -> list[DatasetInfo]:
        """Every dataset :meth:`evaluate` recorded, by name, with the digest of its current content."""
        return self._registry.datasets()

    def check(
        self,
        environment: str | None = None,
        models: str | Sequence[str] | None = None,
        *,
        fix: bool = False,
        dataset: str | DatasetRef | object | None = None,
        wait: float = 0.0,
    ) -> CheckReport:
        """Reconcile the registry with the audit trail and the allowances; optionally repair.

        Checks ``environment`` (else every environment with an allowance or an audit record) on ``models``
        (else every registered model) and reports a :class:`Violation` for each of: an alias pointing at a
        version outside its current allowance (a pre-release holder counts as inside when the allowance's
        range contains it); a change recorded but left ``pending`` longer than the lease; an alias not where
        the newest completed record put it; two models holding one alias; a holder whose legacy stage is
        behind the one its promotion mirrored; an allowance tag that is not what the newest allowance record
        set.

        With ``fix``: pending changes are completed (if the registry already shows them) or marked
        abandoned; extra holders lose the alias; a drifted alias or allowance is adopted into the trail by a
        ``repair`` record; a lagging stage is mirrored; then each environment still outside its allowance is
        re-promoted with the selection request its last promotion made (else the latest version of the
        violating model); ``dataset`` judges that request's metric on this dataset instead. Every repair
        is itself recorded, and running ``fix`` again changes nothing.
        """
        envs = {validate_environment(environment)} if environment is not None else None
        if dataset is not None and not fix:
            raise InputError("a dataset applies to the re-promotions of a fix: add fix=True", hints=("fix",))
        override = None if dataset is None else self._pinned(dataset_ref(dataset))
        scoped = models is not None
        registered = (
            [self._registry.registered_model(n) for n in SelectionRequest(models).models]
            if models is not None
            else self._registry.registered_models()
        )
        return self._reconciler.check(envs, registered, scoped=scoped, fix=fix, dataset=override, wait=wait)

    def history(
        self, environment: str | None = None, *, model: str | None = None, limit: int | None = None
    ) -> list[AuditRecord]:
        """Audit records (allowance changes, promotions, rollbacks), newest first.

        ``environment`` and ``model`` narrow them to one environment and to records about one model (as
        the moved model or a competitor); ``limit`` caps how many (``0`` gives none).
        """
        env = validate_environment(environment) if environment is not None else None
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
            raise InputError(f"Invalid limit {shown(limit)}: expected a whole number of records, 0 or more")
        if limit == 0:
            return []
        records = []
        for record in self._registry.read_audit(env):
            if model is not None and model != record.model and model not in _recorded_models(record):
                continue
            records.append(record)
            if limit is not None and len(records) >= limit:
                break
        return records

    # Internals ----------------------------------------------------------------------------------------

    def _policy(
        self,
        env: str,
        request: SelectionRequest,
        registered: Sequence[RegisteredModel],
        workspace: Mapping[str, str],
        dataset: DatasetRef | None = None,
    ) -> SelectionPolicy:
        default = resolve_allowance(env, None, workspace).allowance
        per_model = {m.name: resolve_allowance(env, m.name, workspace, m.tags).allowance for m in registered}
        return request.policy(default, per_model, dataset)

    def _select(
        self, env: str, request: SelectionRequest, workspace: Mapping[str, str] | None = None
    ) -> Selection:
        if workspace is None:
            workspace = self._registry.workspace_tags()
        registered = [self._registry.registered_model(name) for name in request.models]
        dataset = self._pinned(request.dataset)
        policy = self._policy(env, request, registered, workspace, dataset)
        candidates = self._registry.candidates(
            request.models,
            metric=request.metric,
            version_run_tag=request.version_run_tag,
            registered=registered,
            # Only when judging on a dataset: registries written for 0.1.0 take no such argument.
            **({"dataset": dataset} if dataset is not None else {}),
        )
        return rank_candidates(candidates, policy, environment=env)

    def _pinned(self, dataset: DatasetRef | None) -> DatasetRef | None:
        """``dataset`` with its digest: as given, or the content last evaluated under its name."""
        if dataset is None or dataset.pinned:
            return dataset
        info = self._registry.dataset(dataset.name)
        if info is None:
            raise NotFoundError(
                f"no dataset {dataset.name!r} has been evaluated on {self.tracking_uri}: score the versions "
                f"on it first, evaluating them on its data under the name {dataset.name}",
                hints=("evaluate",),
            )
        return info.ref

    def _promote(
        self, env: str, request: SelectionRequest, *, stage: str | None, dry_run: bool, reason: str
    ) -> Promotion:
        # The newest record is read before the aliases: a claim on the next number then proves that no
        # other writer moved anything in between (see docs/guarantees.md). The workspace tags are read
        # first, which also finds the audit experiment for the newest record's search.
        workspace = self._registry.workspace_tags()
        newest = None if dry_run else self._ahead.newest(env)
        selection = self._select(env, request, workspace)
        winner = selection.winner
        if winner is None:
            raise NoEligibleCandidateError(
                f"no eligible candidate for {env} among {', '.join(request.models)} "
                f"({selection.policy.describe()}); @{env} is unchanged",
                selection,
            )
        move = AliasMove(
            "promotion",
            env,
            holders=tuple(c for c in (v.candidate for v in selection.candidates) if env in c.aliases),
            new=winner.candidate,
            stage=stage,
            reason=reason or selection.policy.describe(),
            details={
                **selection.summary(),
                "request": request.to_dict(),
                "models": list(request.models),
                "stage": stage,
                "description": selection.policy.describe(),
            },
        )
        return self._move_alias(move, newest, dry_run=dry_run, selection=selection, request=request)

    def _move_alias(
        self,
        move: AliasMove,
        newest: AuditRecord | None,
        *,
        dry_run: bool = False,
        selection: Selection | None = None,
        request: SelectionRequest | None = None,
    ) -> Promotion:
        env, new, holders, stage = move.environment, move.new, move.holders, move.stage
        old = next((h.key for h in holders if h.name == new.name), holders[0].key if holders else None)
        others = [h for h in holders if h.name != new.name]
        needs_alias = env not in new.aliases or bool(others)
        needs_stage = stage is not None and new.stage != stage
        if dry_run or not (needs_alias or needs_stage):
            return Promotion(env, old, new.key, False, dry_run, stage, selection, None, request)
        details = {**move.details, "losers": [h.name for h in others]}

        def write() -> None:
            if env not in new.aliases:
                self._registry.set_alias(new.name, env, new.version)
            for other in others:
                self._registry.delete_alias(other.name, env)
            if stage is not None and needs_stage:
                self._registry.transition_stage(new.name, new.version, stage)

        record = self._ahead.write(
            Move(move.kind, env, new.name, old, new.key, move.reason, details), newest, write
        )
        return Promotion(env, old, new.key, True, False, stage, selection, record, request)

    def _change_allowance(
        self, env: str, model: str | None, new: VersionAllowance | None, reason: str
    ) -> AllowanceChange:
        newest = self._ahead.newest(env)
        old = self._ahead.stored_allowance(env, model)
        changed = old != new  # one equality rule: `<=1` over a stored `<=1.0` changes nothing
        change = AllowanceChange(env, model, old, new, changed=changed)
        if not changed:
            return change
        key = allowance_tag(env)

        def write() -> None:
            if new is not None and model is None:
                self._registry.set_workspace_tag(key, new.canonical)
            elif new is not None and model is not None:
                self._registry.set_model_tag(model, key, new.canonical)
            elif model is None:
                self._registry.delete_workspace_tag(key)
            else:
                self._registry.delete_model_tag(model, key)

        text = reason or change.describe()
        self._ahead.write(
            Move("allowance", env, model, allowance_text(old), allowance_text(new), text), newest, write
        )
        return change

    def _fix(self, violation: Violation, dataset: DatasetRef | None = None) -> Promotion:
        """Re-promote a violated environment with the request its last promotion made (judged on
        ``dataset`` when given and the request names a metric)."""
        last = next(
            (
                r
                for r in self.history(violation.environment, model=violation.model)
                if r.kind == "promotion" and r.done
            ),
            None,
        )
        assert violation.model is not None
        request = _replayed_request(last) or SelectionRequest(violation.model)
        if dataset is not None and request.metric is not None:
            request = dataclasses.replace(request, dataset=dataset)
        stage = last.details.get("stage") if last is not None else None
        return self._promote(
            violation.environment,
            request,
            stage=_stage(stage) if isinstance(stage, str) else None,
            dry_run=False,
            reason=f"check --fix: {violation.problem}",
        )


def _replayed_request(record: AuditRecord | None) -> SelectionRequest | None:
    """The request a promotion record made; rebuilt from the fields records of 0.1.0 kept."""
    if record is None:
        return None
    try:
        request = record.request
        if request is not None:
            return request
        details = record.details
        models = details.get("models")
        if not models:
            return None
        return SelectionRequest(
            models,
            metric=details.get("metric"),
            maximize=bool(details.get("maximize", True)),
            required_tags=details.get("required_tags") or None,
            prereleases=details.get("prereleases"),
            version_run_tag=details.get("version_run_tag"),
        )
    except (InputError, TypeError):
        return None  # a damaged record: fall back to the latest version of the violating model


def _recorded_models(record: AuditRecord) -> tuple[str, ...]:
    models = record.details.get("models")
    if isinstance(models, tuple) and all(isinstance(name, str) for name in models):
        return models
    return ()


def _registry_version(value: int | str) -> int:
    """A registry version number: a positive int, or its ASCII digits (not ``True``, ``1.9`` or ``٣``)."""
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        number = int(value.strip())
    else:
        number = None
    if number is None or not 1 <= number <= _MAX_REGISTRY_VERSION:
        raise InputError(f"Invalid registry version {shown(value)}: expected a positive integer like 3")
    return number


#: The largest registry version MLflow's stores can hold (a 32-bit signed integer column).
_MAX_REGISTRY_VERSION = 2**31 - 1

# Stages a promotion may mirror; "Archived" and "None" would take the model out of service.
_STAGES = {"production": "Production", "staging": "Staging"}


def _reason(reason: str | None) -> str:
    """The reason for the audit trail: text (``None`` is none), at most one tag value long."""
    if reason is None:
        return ""
    if not isinstance(reason, str):
        raise InputError(f"Invalid reason {shown(reason)}: expected text")
    return reason


def _stage(stage: str | None) -> str | None:
    if stage is None:
        return None
    if not isinstance(stage, str) or stage.strip().lower() not in _STAGES:
        raise InputError(f"Invalid stage {shown(stage)}: expected 'Production' or 'Staging'")
    return _STAGES[stage.strip().lower()]


def _mlflow_registry(tracking_uri: str | None, registry_uri: str | None) -> RegistryProtocol:
    """The MLflow-backed registry; :class:`MissingExtraError` naming the ``skinny`` extra when no MLflow
    client (``mlflow`` or ``mlflow-skinny``) is installed."""
    try:
        from mlflow_allowance._registry import Registry
    except ImportError as exc:
        if (exc.name or "").partition(".")[0] != "mlflow":
            raise
        raise MissingExtraError(
            "mlflow-allowance needs an MLflow client, and none is installed: "
            "pip install 'mlflow-allowance[skinny]' (or mlflow)"
        ) from None
    return Registry(tracking_uri, registry_uri)
