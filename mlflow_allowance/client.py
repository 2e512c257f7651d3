"""``AllowanceClient``: the Python API, one instance per MLflow backend (like ``MlflowClient``).

It validates input, asks the registry adapter for plain records, lets the pure core decide, and writes the
outcome back. MLflow is imported only when a client is constructed.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mlflow_allowance.allowance import VersionAllowance
from mlflow_allowance.audit import AuditKind, AuditRecord
from mlflow_allowance.environments import validate_environment, validate_model_name
from mlflow_allowance.errors import (
    InputError,
    NoEligibleCandidateError,
    NotFoundError,
    RollbackRefusedError,
)
from mlflow_allowance.outcomes import (
    AllowanceChange,
    CheckReport,
    EffectiveAllowance,
    ModelVersionInfo,
    Promotion,
    Violation,
)
from mlflow_allowance.schema import VERSION_TAG, allowance_tag, environment_of_allowance_tag
from mlflow_allowance.selection import Candidate, Selection, SelectionPolicy, evaluate
from mlflow_allowance.versions import BumpPart, SemanticVersion

if TYPE_CHECKING:
    from mlflow_allowance.registry import RegisteredModel, Registry

__all__ = ["AllowanceClient"]

_ALIAS_EVENTS = ("promotion", "rollback")


class AllowanceClient:
    """Allowances, selection, promotion, audit and rollback against one MLflow tracking server/registry.

    ``tracking_uri`` and ``registry_uri`` default to MLflow's current ones (``MLFLOW_TRACKING_URI``, else
    ``sqlite:///mlflow.db``), exactly as for ``mlflow.MlflowClient``. Environment names are MLflow alias
    names, case-insensitive (``PROD`` is ``@prod``).
    """

    def __init__(self, tracking_uri: str | None = None, registry_uri: str | None = None) -> None:
        from mlflow_allowance.registry import Registry

        self._registry: Registry = Registry(tracking_uri, registry_uri)

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
        version: str | None = None,
        bump: BumpPart | None = None,
        tags: Mapping[str, str] | None = None,
        await_registration_for: int = 300,
    ) -> ModelVersionInfo:
        """Register ``model_uri`` as a new version of ``name`` carrying semantic ``version``.

        Like ``mlflow.register_model``, plus the semantic version, written in the same call. Give either
        ``version`` (``"2.0"``) or ``bump`` (``"major"``/``"minor"``/``"patch"`` from the model's highest
        semantic version). An invalid version is rejected before anything is written.
        """
        name = validate_model_name(name)
        if (version is None) == (bump is None):
            raise InputError("register_model needs exactly one of version='1.0' or bump='minor'")
        semver = SemanticVersion.parse(version) if version is not None else self.next_version(name, bump)
        all_tags = {**(tags or {}), VERSION_TAG: semver.text}
        registered = self._registry.register(model_uri, name, all_tags, await_registration_for)
        return ModelVersionInfo(name, registered, semver.text)

    def set_version(self, name: str, registry_version: int | str, version: str) -> ModelVersionInfo:
        """Set (or change) the semantic version of an existing registry version."""
        name = validate_model_name(name)
        number = _registry_version(registry_version)
        semver = SemanticVersion.parse(version)
        self._registry.version_semver(name, number)  # raises NotFoundError before writing
        self._registry.set_version_tag(name, number, VERSION_TAG, semver.text)
        return ModelVersionInfo(name, number, semver.text)

    def get_version(self, name: str, registry_version: int | str) -> ModelVersionInfo:
        """The semantic version a registry version carries (``semver`` is ``None`` when it has none)."""
        name = validate_model_name(name)
        number = _registry_version(registry_version)
        return ModelVersionInfo(name, number, self._registry.version_semver(name, number))

    def next_version(self, name: str, bump: BumpPart | None) -> SemanticVersion:
        """The next semantic version of ``name``: its highest valid one (or ``0.0``) bumped by ``bump``."""
        if bump not in ("major", "minor", "patch"):
            raise InputError(f"Invalid bump {bump!r}: expected 'major', 'minor' or 'patch'")
        try:
            existing = self._registry.candidates([validate_model_name(name)])
        except NotFoundError:
            existing = []
        parsed = [_parse_or_none(c.semver) for c in existing]
        valid = [v for v in parsed if v is not None]
        return max(valid, default=SemanticVersion.parse("0.0")).bump(bump)

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
        new = allowance if isinstance(allowance, VersionAllowance) else VersionAllowance.parse(allowance)
        old = self._stored_allowance(env, model)
        change = AllowanceChange(env, model, old, new, changed=old != new)
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
        if model is not None:
            override = self._stored_allowance(env, model)
            if override is not None:
                return EffectiveAllowance(env, model, override, "model")
        default = self._stored_allowance(env, None)
        if default is not None:
            return EffectiveAllowance(env, model, default, "default")
        return EffectiveAllowance(env, model, VersionAllowance(), "unset")

    def list_allowances(self, *, model: str | None = None) -> list[EffectiveAllowance]:
        """Every stored allowance: the workspace defaults and the per-model overrides (of ``model`` only,
        if given), sorted by environment then model."""
        found = [
            EffectiveAllowance(env, None, VersionAllowance.parse(value), "default")
            for env, value in _allowance_tags(self._registry.workspace_tags())
        ]
        models = (
            [self._registry.registered_model(validate_model_name(model))]
            if model is not None
            else self._registry.registered_models()
        )
        for registered in models:
            found.extend(
                EffectiveAllowance(env, registered.name, VersionAllowance.parse(value), "model")
                for env, value in _allowance_tags(registered.tags)
            )
        return sorted(found, key=lambda a: (a.environment, a.model or ""))

    # Selection and promotion --------------------------------------------------------------------------

    def select(
        self,
        environment: str,
        models: str | Sequence[str],
        *,
        metric: str | None = None,
        maximize: bool = True,
        required_tags: Mapping[str, str] | None = None,
        prereleases: bool | None = None,
        version_run_tag: str | None = None,
    ) -> Selection:
        """Pick the best version of ``models`` that ``environment`` allows; write nothing.

        With ``metric``, the best by that metric of each version's training run (``maximize=False`` for
        losses); without, the highest semantic version. ``version_run_tag`` names a run tag to read the
        semantic version from when a model version carries none of its own.
        """
        env = validate_environment(environment)
        names = _model_names(models)
        registered = [self._registry.registered_model(name) for name in names]
        policy = self._policy(env, registered, metric, maximize, required_tags, prereleases)
        candidates = self._registry.candidates(
            names, metric=metric, version_run_tag=version_run_tag, registered=registered
        )
        return evaluate(candidates, policy)

    def promote(
        self,
        environment: str,
        models: str | Sequence[str],
        *,
        metric: str | None = None,
        maximize: bool = True,
        dry_run: bool = False,
        stage: str | None = None,
        reason: str = "",
        required_tags: Mapping[str, str] | None = None,
        prereleases: bool | None = None,
        version_run_tag: str | None = None,
    ) -> Promotion:
        """Point ``@environment`` at the version :meth:`select` picks, and record it in the audit trail.

        Only the winner's model holds the alias afterwards. ``stage`` also mirrors the legacy registry stage
        (``"Production"``, ``"Staging"``), archiving its previous holders. When the winner already holds
        the alias nothing is written. Raises :class:`NoEligibleCandidateError` (alias unchanged) when no
        candidate is eligible.
        """
        env = validate_environment(environment)
        names = _model_names(models)
        stage = _stage(stage)
        selection = self.select(
            env,
            names,
            metric=metric,
            maximize=maximize,
            required_tags=required_tags,
            prereleases=prereleases,
            version_run_tag=version_run_tag,
        )
        winner = selection.winner
        if winner is None:
            raise NoEligibleCandidateError(
                f"no eligible candidate for {env} among {', '.join(names)} "
                f"({selection.policy.describe()}); @{env} is unchanged",
                selection,
            )
        holders = [c for c in (v.candidate for v in selection.candidates) if env in c.aliases]
        new = winner.candidate
        details = {
            "policy": selection.policy.describe(),
            "models": list(names),
            "stage": stage,
            "required_tags": dict(required_tags or {}),
            "prereleases": prereleases,
            "version_run_tag": version_run_tag,
            **selection.to_dict(),
        }
        return self._move_alias(
            "promotion",
            env,
            holders,
            new,
            stage,
            dry_run,
            reason or selection.policy.describe(),
            details,
            selection,
        )

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
        models = _model_names(last.details.get("models") or [name, target_name])
        if target_name not in models:
            models.append(target_name)
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
        return self._move_alias("rollback", env, holders, target, stage, False, text, details, None)

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
        violation). With ``fix``, re-promotes each violated environment with the policy its last promotion
        used (metric, required tags, pre-release choice), else the latest version.
        """
        envs = {validate_environment(environment)} if environment is not None else None
        registered = (
            [self._registry.registered_model(n) for n in _model_names(models)]
            if models is not None
            else self._registry.registered_models()
        )
        defaults = dict(_allowance_tags(self._registry.workspace_tags()))
        violations: list[Violation] = []
        checked = 0
        for model in registered:
            overrides = dict(_allowance_tags(model.tags))
            for env, version in sorted(model.aliases.items()):
                if envs is not None and env not in envs:
                    continue
                text = overrides.get(env, defaults.get(env))
                if text is None:
                    continue  # an alias that is not an environment of ours
                checked += 1
                allowance = VersionAllowance.parse(text)
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
        """Audit records (allowance changes, promotions, rollbacks), newest first."""
        env = validate_environment(environment) if environment is not None else None
        records = []
        for record in self._registry.read_audit(env):
            if model is not None and model != record.model and model not in record.details.get("models", ()):
                continue
            records.append(record)
            if limit is not None and len(records) >= limit:
                break
        return records

    # Internals ----------------------------------------------------------------------------------------

    def _stored_allowance(self, env: str, model: str | None) -> VersionAllowance | None:
        if model is None:
            tags = self._registry.workspace_tags()
        else:
            tags = dict(self._registry.registered_model(validate_model_name(model)).tags)
        text = tags.get(allowance_tag(env))
        return VersionAllowance.parse(text) if text is not None else None

    def _policy(
        self,
        env: str,
        registered: Sequence[RegisteredModel],
        metric: str | None,
        maximize: bool,
        required_tags: Mapping[str, str] | None,
        prereleases: bool | None,
    ) -> SelectionPolicy:
        default = self._stored_allowance(env, None) or VersionAllowance()
        key = allowance_tag(env)
        overrides = {m.name: VersionAllowance.parse(m.tags[key]) for m in registered if key in m.tags}
        if len(registered) == 1 and registered[0].name in overrides:
            default = overrides[registered[0].name]
        return SelectionPolicy(default, metric, maximize, required_tags or {}, prereleases, overrides)

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
    ) -> Promotion:
        old = holders[0].key if holders else None
        others = [h for h in holders if h.name != new.name]
        needs_alias = env not in new.aliases or bool(others)
        needs_stage = stage is not None and new.stage != stage
        if dry_run or not (needs_alias or needs_stage):
            return Promotion(env, old, new.key, False, dry_run, stage, selection)
        self._registry.set_alias(new.name, env, new.version)
        for other in others:
            self._registry.delete_alias(other.name, env)
        if stage is not None and needs_stage:
            self._registry.transition_stage(new.name, new.version, stage)
        record = self._audit(kind, env, new.name, old, new.key, reason, details)
        return Promotion(env, old, new.key, True, False, stage, selection, record)

    def _fix(self, violation: Violation) -> Promotion:
        last = next(
            (r for r in self.history(violation.environment, model=violation.model) if r.kind == "promotion"),
            None,
        )
        details: Mapping[str, Any] = last.details if last is not None else {}
        models = details.get("models") or [violation.model]
        return self.promote(
            violation.environment,
            models,
            metric=details.get("metric"),
            maximize=bool(details.get("maximize", True)),
            stage=details.get("stage"),
            reason=f"check --fix: {violation.problem}",
            required_tags=details.get("required_tags") or None,
            prereleases=details.get("prereleases"),
            version_run_tag=details.get("version_run_tag"),
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
        from mlflow_allowance.registry import current_user

        record = AuditRecord(
            kind, env, model, old, new, current_user(), int(time.time() * 1000), reason, details or {}
        )
        return self._registry.write_audit(record)


def _model_names(models: str | Sequence[str]) -> list[str]:
    names = [models] if isinstance(models, str) else list(models)
    if not names:
        raise InputError("no model given: name at least one registered model")
    return list(dict.fromkeys(validate_model_name(n) for n in names))


def _registry_version(value: int | str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InputError(f"Invalid registry version {value!r}: expected a positive integer like 3") from None
    if number < 1:
        raise InputError(f"Invalid registry version {value!r}: expected a positive integer like 3")
    return number


def _parse_or_none(text: str | None) -> SemanticVersion | None:
    if text is None:
        return None
    try:
        return SemanticVersion.parse(text)
    except InputError:
        return None


def _allowance_tags(tags: Mapping[str, str]) -> list[tuple[str, str]]:
    found = []
    for key, value in tags.items():
        env = environment_of_allowance_tag(key)
        if env is not None:
            found.append((env, value))
    return found


def _text(allowance: VersionAllowance | None) -> str | None:
    return None if allowance is None else allowance.canonical


def _split_key(key: str) -> tuple[str, int]:
    name, _, version = key.rpartition("/")
    return name, int(version)


_STAGES = {"production": "Production", "staging": "Staging", "archived": "Archived", "none": "None"}


def _stage(stage: str | None) -> str | None:
    if stage is None:
        return None
    try:
        return _STAGES[stage.strip().lower()]
    except KeyError:
        raise InputError(f"Invalid stage {stage!r}: expected 'Production' or 'Staging'") from None
