"""``AllowanceClient``: the Python API, one instance per MLflow backend (like ``MlflowClient``).

It validates input, asks the registry adapter for plain records, lets the pure core decide, and writes the
outcome back. MLflow is imported only when a client is constructed.
"""

from __future__ import annotations

import getpass
import os
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mlflow_allowance._environments import validate_environment, validate_model_name
from mlflow_allowance._schema import VERSION_TAG, allowance_tag, environment_of_allowance_tag
from mlflow_allowance.allowance import VersionAllowance
from mlflow_allowance.audit import AuditKind, AuditRecord
from mlflow_allowance.errors import (
    InputError,
    NoEligibleCandidateError,
    NotFoundError,
    RollbackRefusedError,
    shown,
)
from mlflow_allowance.outcomes import (
    AllowanceChange,
    CheckReport,
    EffectiveAllowance,
    ModelVersionInfo,
    Promotion,
    Violation,
    resolve_allowance,
)
from mlflow_allowance.request import SelectionRequest
from mlflow_allowance.selection import Candidate, Selection, SelectionPolicy, rank_candidates
from mlflow_allowance.versions import BumpPart, SemanticVersion

if TYPE_CHECKING:
    from mlflow_allowance._seam import RegisteredModel, RegistryProtocol

__all__ = ["AllowanceClient"]

_ALIAS_EVENTS = ("promotion", "rollback")


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
            return
        from mlflow_allowance._registry import Registry

        self._registry = Registry(tracking_uri, registry_uri)

    @property
    def tracking_uri(self) -> str:
        """The tracking URI this client talks to."""
        return self._registry.tracking_uri

    # Semantic versions ------------------------------------------------------------------------------

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
        parsed = SemanticVersion.parse(semver) if semver is not None else self.next_semver(name, bump)
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

    def next_semver(self, name: str, bump: BumpPart | None) -> SemanticVersion:
        """The next semantic version of ``name``: its highest valid one (or ``0.0``) bumped by ``bump``."""
        if bump not in ("major", "minor", "patch"):
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
    ) -> AllowanceChange:
        """Set ``environment``'s allowance: workspace-wide, or for one registered ``model`` (an override).

        Returns the change; its :meth:`~AllowanceChange.describe` says whether it widened or narrowed the
        old allowance. Setting the same allowance again writes nothing.
        """
        env = validate_environment(environment)
        new = VersionAllowance.parse(allowance)
        model = None if model is None else validate_model_name(model)
        old = self._stored_allowance(env, model)
        change = AllowanceChange(env, model, old, new, changed=old is None or old.canonical != new.canonical)
        if change.changed:
            key = allowance_tag(env)
            if model is None:
                self._registry.set_workspace_tag(key, new.canonical)
            else:
                self._registry.set_model_tag(model, key, new.canonical)
            self._audit("allowance", env, model, _text(old), new.canonical, reason or change.describe())
        return change

    def unset_allowance(
        self, environment: str, *, model: str | None = None, reason: str = ""
    ) -> AllowanceChange:
        """Remove ``environment``'s workspace-wide allowance, or ``model``'s override of it."""
        env = validate_environment(environment)
        model = None if model is None else validate_model_name(model)
        old = self._stored_allowance(env, model)
        change = AllowanceChange(env, model, old, None, changed=old is not None)
        if change.changed:
            key = allowance_tag(env)
            if model is None:
                self._registry.delete_workspace_tag(key)
            else:
                self._registry.delete_model_tag(model, key)
            self._audit("allowance", env, model, _text(old), None, reason or change.describe())
        return change

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
        found = [resolve_allowance(env, None, workspace) for env in _environments(workspace)]
        models = (
            [self._registry.registered_model(validate_model_name(model))]
            if model is not None
            else self._registry.registered_models()
        )
        for registered in models:
            found.extend(
                resolve_allowance(env, registered.name, workspace, registered.tags)
                for env in _environments(registered.tags)
            )
        return sorted(found, key=lambda a: (a.environment, a.model or ""))

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
    ) -> Selection:
        """Pick the best version of ``models`` that ``environment`` allows; write nothing.

        ``models`` is a model name, a sequence of names, or a whole :class:`SelectionRequest` (then the
        keyword options must be left out). With ``metric``, the best by that metric of each version's
        training run (``maximize=False`` for losses); without, the highest semantic version.
        ``required_tags`` must be on a version with exactly these values; ``prereleases`` overrides the
        allowance's pre-release default; ``version_run_tag`` names a run tag to read the semantic version
        from when a model version carries none of its own.
        """
        env = validate_environment(environment)
        request = _request(models, metric, maximize, required_tags, prereleases, version_run_tag)
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
        dry_run: bool = False,
        stage: str | None = None,
        reason: str = "",
    ) -> Promotion:
        """Point ``@environment`` at the version :meth:`select` picks, and record it in the audit trail.

        Takes what :meth:`select` takes, plus: ``dry_run`` says what would change and writes nothing;
        ``stage`` also mirrors the legacy registry stage (``"Production"`` or ``"Staging"``), archiving its
        previous holders; ``reason`` goes into the audit record. Only the winner's model holds the alias
        afterwards. When the winner already holds the alias nothing is written. Raises
        :class:`NoEligibleCandidateError` (alias unchanged) when no candidate is eligible.
        """
        env = validate_environment(environment)
        request = _request(models, metric, maximize, required_tags, prereleases, version_run_tag)
        return self._promote(env, request, stage=_stage(stage), dry_run=dry_run, reason=reason)

    def rollback(self, environment: str, model: str, *, force: bool = False, reason: str = "") -> Promotion:
        """Point ``@environment`` back at its previous holder, as recorded by the last promotion or rollback.

        Refuses (:class:`RollbackRefusedError`) when there is nothing to go back to or when the previous
        holder no longer satisfies the current allowance, unless ``force``.
        """
        env = validate_environment(environment)
        name = validate_model_name(model)
        self._registry.registered_model(name)  # unknown model: NotFoundError, not "nothing to roll back"
        last = next((r for r in self.history(env, model=name) if r.kind in _ALIAS_EVENTS), None)
        if last is None:
            raise RollbackRefusedError(f"nothing to roll back: no promotion of {name} to {env} is recorded")
        if last.old is None:
            raise RollbackRefusedError(f"nothing to roll back to: {last.new} was the first holder of @{env}")
        target_name, target_version = _split_key(last.old)
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
        if not force and (semver is None or not allowance.allows(semver, prereleases=True)):
            raise RollbackRefusedError(
                f"cannot roll back {env} to {last.old}: its version {target.semver} is outside the current "
                f"allowance {allowance}; pass force=True (--force) to roll back anyway"
            )
        holders = [c for c in candidates if env in c.aliases]
        stage = last.details.get("stage")
        details = {"models": models, "stage": stage, "undoes": last.record_id, "forced": force}
        text = reason or f"rollback of {last.kind} {last.old} → {last.new}"
        return self._move_alias("rollback", env, holders, target, stage, False, text, details, None, None)

    def check(
        self,
        environment: str | None = None,
        models: str | Sequence[str] | None = None,
        *,
        fix: bool = False,
    ) -> CheckReport:
        """Find environment aliases pointing at versions outside their current effective allowance.

        Checks ``environment`` (else every environment that has an allowance) on ``models`` (else every
        registered model). A pre-release holder counts as inside when the allowance's range contains it:
        the pre-release default only governs automatic selection (a ``prereleases=True`` promotion is not a
        violation). With ``fix``, re-promotes each violated environment with the selection request its
        last promotion made (the same models, metric, required tags, pre-release choice and stage), else
        the latest version of the violating model.
        """
        envs = {validate_environment(environment)} if environment is not None else None
        registered = (
            [self._registry.registered_model(n) for n in SelectionRequest(models).models]
            if models is not None
            else self._registry.registered_models()
        )
        workspace = self._registry.workspace_tags()
        environments = set(_environments(workspace))
        violations: list[Violation] = []
        checked = 0
        for model in registered:
            ours = environments | set(_environments(model.tags))
            for env, version in sorted(model.aliases.items()):
                if (envs is not None and env not in envs) or env not in ours:
                    continue  # an alias that is not an environment of ours
                checked += 1
                allowance = resolve_allowance(env, model.name, workspace, model.tags).allowance
                semver_text = self._registry.version_semver(model.name, version)
                semver = _parse_or_none(semver_text)
                if semver is None:
                    problem = (
                        "no valid semantic version"
                        if semver_text is None
                        else f"invalid version {semver_text!r}"
                    )
                elif not allowance.allows(semver, prereleases=True):
                    problem = f"{semver} is outside {allowance}"
                else:
                    continue
                violations.append(Violation(env, model.name, version, semver_text, allowance, problem))
        fixes = tuple(self._fix(v) for v in violations) if fix else ()
        return CheckReport(tuple(violations), fixes, checked)

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

    def _stored_allowance(self, env: str, model: str | None) -> VersionAllowance | None:
        """The allowance stored exactly at this scope (the model's override, or the default), if any."""
        workspace = self._registry.workspace_tags() if model is None else {}
        model_tags = None if model is None else self._registry.registered_model(model).tags
        effective = resolve_allowance(env, model, workspace, model_tags)
        return None if effective.source == "unset" else effective.allowance

    def _policy(
        self, env: str, request: SelectionRequest, registered: Sequence[RegisteredModel]
    ) -> SelectionPolicy:
        workspace = self._registry.workspace_tags()
        default = resolve_allowance(env, None, workspace).allowance
        per_model = {m.name: resolve_allowance(env, m.name, workspace, m.tags).allowance for m in registered}
        return request.policy(default, per_model)

    def _select(self, env: str, request: SelectionRequest) -> Selection:
        registered = [self._registry.registered_model(name) for name in request.models]
        policy = self._policy(env, request, registered)
        candidates = self._registry.candidates(
            request.models,
            metric=request.metric,
            version_run_tag=request.version_run_tag,
            registered=registered,
        )
        return rank_candidates(candidates, policy, environment=env)

    def _promote(
        self, env: str, request: SelectionRequest, *, stage: str | None, dry_run: bool, reason: str
    ) -> Promotion:
        selection = self._select(env, request)
        winner = selection.winner
        if winner is None:
            raise NoEligibleCandidateError(
                f"no eligible candidate for {env} among {', '.join(request.models)} "
                f"({selection.policy.describe()}); @{env} is unchanged",
                selection,
            )
        holders = [c for c in (v.candidate for v in selection.candidates) if env in c.aliases]
        details = {
            **selection.summary(),
            "request": request.to_dict(),
            "models": list(request.models),
            "stage": stage,
            "description": selection.policy.describe(),
        }
        return self._move_alias(
            "promotion",
            env,
            holders,
            winner.candidate,
            stage,
            dry_run,
            reason or selection.policy.describe(),
            details,
            selection,
            request,
        )

    def _move_alias(
        self,
        kind: AuditKind,
        env: str,
        holders: Sequence[Candidate],
        new: Candidate,
        stage: str | None,
        dry_run: bool,
        reason: str,
        details: dict[str, Any],
        selection: Selection | None,
        request: SelectionRequest | None,
    ) -> Promotion:
        old = holders[0].key if holders else None
        others = [h for h in holders if h.name != new.name]
        needs_alias = env not in new.aliases or bool(others)
        needs_stage = stage is not None and new.stage != stage
        if dry_run or not (needs_alias or needs_stage):
            return Promotion(env, old, new.key, False, dry_run, stage, selection, None, request)
        self._registry.set_alias(new.name, env, new.version)
        for other in others:
            self._registry.delete_alias(other.name, env)
        if stage is not None and needs_stage:
            self._registry.transition_stage(new.name, new.version, stage)
        record = self._audit(kind, env, new.name, old, new.key, reason, details)
        return Promotion(env, old, new.key, True, False, stage, selection, record, request)

    def _fix(self, violation: Violation) -> Promotion:
        """Re-promote a violated environment with the request its last promotion made."""
        last = next(
            (r for r in self.history(violation.environment, model=violation.model) if r.kind == "promotion"),
            None,
        )
        request = _replayed_request(last) or SelectionRequest(violation.model)
        stage = last.details.get("stage") if last is not None else None
        return self._promote(
            violation.environment,
            request,
            stage=_stage(stage),
            dry_run=False,
            reason=f"check --fix: {violation.problem}",
        )

    def _audit(
        self,
        kind: AuditKind,
        env: str,
        model: str | None,
        old: str | None,
        new: str | None,
        reason: str,
        details: Mapping[str, Any] | None = None,
    ) -> AuditRecord:
        record = AuditRecord(
            kind, env, model, old, new, current_user(), int(time.time() * 1000), reason, details or {}
        )
        return self._registry.write_audit(record)


def current_user() -> str:
    """Who is acting, for the audit trail: ``MLFLOW_ALLOWANCE_USER``, else the login name."""
    user = os.environ.get("MLFLOW_ALLOWANCE_USER")
    if user:
        return user
    try:
        return getpass.getuser()
    except Exception:  # getpass raises various errors without a login name (containers)
        return "unknown"


def _request(
    models: str | Sequence[str] | SelectionRequest,
    metric: str | None,
    maximize: bool,
    required_tags: Mapping[str, str] | None,
    prereleases: bool | None,
    version_run_tag: str | None,
) -> SelectionRequest:
    """The one selection request of a call: given whole, or built from the models and options."""
    if isinstance(models, SelectionRequest):
        if (metric, maximize, required_tags or None, prereleases, version_run_tag) != (
            None,
            True,
            None,
            None,
            None,
        ):
            raise InputError(
                "give the selection options either in the SelectionRequest or as arguments, not both"
            )
        return models
    return SelectionRequest(
        models,
        metric=metric,
        maximize=maximize,
        required_tags=required_tags,
        prereleases=prereleases,
        version_run_tag=version_run_tag,
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
    if number is None or number < 1:
        raise InputError(f"Invalid registry version {shown(value)}: expected a positive integer like 3")
    return number


def _parse_or_none(text: str | None) -> SemanticVersion | None:
    if text is None:
        return None
    try:
        return SemanticVersion.parse(text)
    except InputError:
        return None


def _environments(tags: Mapping[str, str]) -> list[str]:
    """The environments whose allowance these tags hold."""
    return [env for env in map(environment_of_allowance_tag, tags) if env is not None]


def _text(allowance: VersionAllowance | None) -> str | None:
    return None if allowance is None else allowance.canonical


def _split_key(key: str) -> tuple[str, int]:
    name, _, version = key.rpartition("/")
    return name, int(version)


# Stages a promotion may mirror; "Archived" and "None" would take the model out of service.
_STAGES = {"production": "Production", "staging": "Staging"}


def _stage(stage: str | None) -> str | None:
    if stage is None:
        return None
    if not isinstance(stage, str) or stage.strip().lower() not in _STAGES:
        raise InputError(f"Invalid stage {shown(stage)}: expected 'Production' or 'Staging'")
    return _STAGES[stage.strip().lower()]
