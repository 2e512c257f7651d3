"""Reconciliation: where the registry, the audit trail and the allowances disagree, and the repairs.

``check`` reads the registry and the trail once, reports a :class:`~mlflow_allowance.Violation` for each
disagreement, and with ``fix`` settles or repairs each one through the write-ahead protocol (every repair a
record of its own), then re-promotes the environments still outside their allowance.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mlflow_allowance import _writeahead
from mlflow_allowance._schema import allowance_tag, environments_of
from mlflow_allowance._writeahead import Move, WriteAhead, allowance_text, retrying, split_key
from mlflow_allowance.allowance import VersionAllowance
from mlflow_allowance.audit import ALIAS_KINDS, AuditRecord
from mlflow_allowance.errors import InputError, NotFoundError, shown
from mlflow_allowance.outcomes import CheckReport, Promotion, Violation, resolve_allowance
from mlflow_allowance.selection import within
from mlflow_allowance.versions import _parse_or_none, version_key

if TYPE_CHECKING:
    from mlflow_allowance._seam import RegisteredModel, RegistryProtocol
    from mlflow_allowance.datasets import DatasetRef

__all__ = ["Reconciler"]

#: Re-promotes an environment a violation names (on a dataset, when given): the client's ``promote``.
Repromote = Callable[[Violation, "DatasetRef | None"], Promotion]


class Reconciler:
    """``check`` over one registry: find the violations, and with ``fix`` repair them."""

    def __init__(self, registry: RegistryProtocol, ahead: WriteAhead, repromote: Repromote) -> None:
        self._registry = registry
        self._ahead = ahead
        self._repromote = repromote

    def check(
        self,
        envs: set[str] | None,
        registered: list[RegisteredModel],
        *,
        scoped: bool,
        fix: bool,
        dataset: DatasetRef | None,
        wait: float,
    ) -> CheckReport:
        """The violations in ``envs`` (else every environment) on ``registered``; with ``fix``, each
        repaired, each environment still outside its allowance re-promoted, and what remains after."""
        workspace = self._registry.workspace_tags()
        records = list(self._registry.read_audit(None if envs is None else next(iter(envs))))
        foreign = self._registry.foreign_audit_runs
        trail = _by_environment(records)
        drift = self._reconcile(envs, registered, workspace, trail, scoped=scoped)
        outside, checked = self._outside_allowance(envs, registered, workspace)
        violations = (*drift, *outside)
        if not fix:
            return CheckReport(violations, (), checked, (), foreign, remaining=violations)
        repairs: list[AuditRecord] = []
        scope = [m.name for m in registered] if scoped else None
        for violation in drift:
            repairs.extend(retrying(wait, functools.partial(self._repair, violation, trail, scope)))
        if repairs:
            registered = [self._registry.registered_model(m.name) for m in registered]
            workspace = self._registry.workspace_tags()
            outside, _ = self._outside_allowance(envs, registered, workspace)
        fixes = tuple(
            retrying(wait, functools.partial(self._repromote, v, dataset))
            for v in _one_per_environment(outside)
        )
        remaining: tuple[Violation, ...] = ()
        if violations:
            # What a check run now would still report: the count a caller (the CLI's exit status) acts on.
            after = self.check(
                envs, self._refreshed(registered, scoped), scoped=scoped, fix=False, dataset=None, wait=0
            )
            remaining = after.violations
        return CheckReport(violations, fixes, checked, tuple(repairs), foreign, remaining=remaining)

    def _refreshed(self, registered: Sequence[RegisteredModel], scoped: bool) -> list[RegisteredModel]:
        if scoped:
            return [self._registry.registered_model(m.name) for m in registered]
        return self._registry.registered_models()

    def _outside_allowance(
        self, envs: set[str] | None, registered: Sequence[RegisteredModel], workspace: Mapping[str, str]
    ) -> tuple[list[Violation], int]:
        environments = set(environments_of(workspace))
        violations: list[Violation] = []
        checked = 0
        for model in registered:
            ours = environments | set(environments_of(model.tags))
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
                        else f"invalid version {shown(semver_text)}"
                    )
                elif not within(allowance, semver):
                    problem = f"{semver} is outside {allowance}"
                else:
                    continue
                violations.append(Violation(env, model.name, version, semver_text, allowance, problem))
        return violations, checked

    def _reconcile(
        self,
        envs: set[str] | None,
        registered: Sequence[RegisteredModel],
        workspace: Mapping[str, str],
        trail: Mapping[str, list[AuditRecord]],
        *,
        scoped: bool,
    ) -> list[Violation]:
        """Where the registry and the trail disagree, environment by environment."""
        found: list[Violation] = []
        models = {m.name: m for m in registered}
        for env, records in sorted(trail.items()):
            if envs is not None and env not in envs:
                continue
            allowance = functools.partial(_effective, env, workspace, models)
            for record in records:
                if (
                    record.state == "pending"
                    and (_writeahead.now_ms() - record.time) / 1000 >= _writeahead.lease_seconds()
                ):
                    if scoped and record.model is not None and record.model not in models:
                        continue  # a change of a model outside the scope asked for
                    found.append(
                        Violation(
                            env,
                            record.model,
                            None,
                            None,
                            allowance(record.model),
                            f"{record.kind} {record.old or '-'} → {record.new or '-'} (record {record.seq}) "
                            f"was left unfinished by {record.user}",
                            "pending",
                            record.record_id,
                        )
                    )
            holders = sorted((m.name, m.aliases[env]) for m in registered if env in m.aliases)
            last = next((r for r in records if r.kind in ALIAS_KINDS and r.done), None)
            expected = split_key(last.new) if last is not None and last.new else None
            if len(holders) > 1:
                found.append(
                    Violation(
                        env,
                        expected[0] if expected else holders[0][0],
                        None,
                        None,
                        allowance(expected[0] if expected else holders[0][0]),
                        "@{} is held by {} models: {}".format(
                            env, len(holders), ", ".join(version_key(n, v) for n, v in holders)
                        ),
                        "two-holders",
                        None if last is None else last.record_id,
                    )
                )
            elif last is not None and expected is not None:
                if scoped and expected[0] not in models and not holders:
                    pass  # the recorded holder is a model outside the scope asked for
                elif not holders or holders[0] != expected:
                    actual = f"{holders[0][0]}/{holders[0][1]}" if holders else "no model"
                    found.append(
                        Violation(
                            env,
                            holders[0][0] if holders else expected[0],
                            holders[0][1] if holders else None,
                            None,
                            allowance(holders[0][0] if holders else expected[0]),
                            f"@{env} is on {actual} but the trail's newest move (record {last.seq}) put it "
                            f"on {last.new}",
                            "alias-drift",
                            last.record_id,
                        )
                    )
                elif isinstance(last.details.get("stage"), str):
                    stage = last.details["stage"]
                    name, version = expected
                    current = self._ahead.stage_of(name, version)
                    if _writeahead.stage_behind(current, stage):
                        found.append(
                            Violation(
                                env,
                                name,
                                version,
                                None,
                                allowance(name),
                                f"{name}/{version} is in stage {current} but its move mirrored {stage}",
                                "stage-behind",
                                last.record_id,
                            )
                        )
            found.extend(self._allowance_drift(env, records, workspace, models, scoped=scoped))
        return found

    def _allowance_drift(
        self,
        env: str,
        records: Sequence[AuditRecord],
        workspace: Mapping[str, str],
        models: Mapping[str, RegisteredModel],
        *,
        scoped: bool,
    ) -> list[Violation]:
        found = []
        scopes = {r.model for r in records if r.kind == "allowance"}
        for scope in sorted(scopes, key=lambda m: m or ""):
            if scope is not None and scope not in models:
                if scoped:
                    continue
                try:
                    models = {**models, scope: self._registry.registered_model(scope)}
                except NotFoundError:
                    continue  # the model was deleted, and its override with it
            last = next((r for r in records if r.kind == "allowance" and r.model == scope and r.done), None)
            if last is None:
                continue
            tags = workspace if scope is None else models[scope].tags
            stored = tags.get(allowance_tag(env))
            stored_text = None if stored is None else _canonical_or_raw(stored)
            if stored_text != last.new:
                where = f"{scope}'s override" if scope else "the workspace default"
                found.append(
                    Violation(
                        env,
                        scope,
                        None,
                        None,
                        _effective(env, workspace, models, scope),
                        f"{where} is {stored_text or 'unset'} but the trail's newest allowance record "
                        f"(record {last.seq}) set {last.new or 'unset'}",
                        "allowance-drift",
                        last.record_id,
                    )
                )
        return found

    def _repair(
        self, violation: Violation, trail: Mapping[str, list[AuditRecord]], scope: Sequence[str] | None
    ) -> list[AuditRecord]:
        """Settle or repair what one reconciliation violation found; return the records written."""
        env = violation.environment
        records = trail.get(env, [])
        concerned = next((r for r in records if r.record_id == violation.record_id), None)
        if violation.kind == "pending" and concerned is not None:
            current = self._registry.newest_audit(env)
            if current is not None and current.record_id == concerned.record_id and not current.done:
                return [self._ahead.settle(concerned)]
            if current is not None and (current.seq or 0) > (concerned.seq or 0):
                # Superseded by later changes (its writer outlived its lease): it never took effect.
                still = next(
                    (r for r in self._registry.read_audit(env) if r.record_id == concerned.record_id), None
                )
                if still is not None and still.state == "pending":
                    return [self._registry.finish_audit(still, "abandoned")]
            return []  # settled meanwhile (by the next writer)
        # Judge again from what the registry and the trail say now, after the newest record: a repair then
        # claims the next number, so nothing can change between this judgement and its writes.
        newest = self._ahead.newest(env)
        fresh_records = list(self._registry.read_audit(env))
        fresh = self._reconcile(
            {env},
            self._models(scope),
            self._registry.workspace_tags(),
            {env: fresh_records},
            scoped=False,
        )
        same = next((v for v in fresh if (v.kind, v.model) == (violation.kind, violation.model)), None)
        if same is None:
            return []  # repaired meanwhile
        violation = same
        concerned = next((r for r in fresh_records if r.record_id == violation.record_id), None)
        if violation.kind == "two-holders":
            holders = [
                c
                for c in self._registry.candidates([m.name for m in self._holders(env, scope)])
                if env in c.aliases
            ]
            if len(holders) < 2:
                return []
            keep_name = violation.model
            keep = next((h for h in holders if h.name == keep_name), holders[0])
            others = [h for h in holders if h is not keep]
            reason = f"check --fix: {violation.problem}; kept {keep.key}"
            details = {"models": [h.name for h in holders], "stage": None, "losers": [h.name for h in others]}

            def drop() -> None:
                for other in others:
                    self._registry.delete_alias(other.name, env)

            old = others[0].key
            return [
                self._ahead.write(
                    Move("repair", env, keep.name, old, keep.key, reason, details), newest, drop
                )
            ]
        if violation.kind == "alias-drift" and concerned is not None:
            held = self._holders(env, scope)
            new = f"{held[0].name}/{held[0].aliases[env]}" if len(held) == 1 else None
            if new == concerned.new:
                return []
            reason = f"check --fix: adopted {new or 'no holder'}; {violation.problem}"
            adopted: dict[str, Any] = {"models": [m.name for m in held], "stage": None, "adopted": True}
            model = held[0].name if held else violation.model
            return [
                self._ahead.write(
                    Move("repair", env, model, concerned.new, new, reason, adopted), newest, lambda: None
                )
            ]
        if violation.kind == "stage-behind" and concerned is not None and violation.model is not None:
            stage = concerned.details.get("stage")
            if not isinstance(stage, str) or violation.version is None:
                return []
            name, version = violation.model, violation.version
            reason = f"check --fix: {violation.problem}"
            mirrored: dict[str, Any] = {"models": [name], "stage": stage}
            key = version_key(name, version)

            def mirror() -> None:
                self._registry.transition_stage(name, version, stage)

            return [self._ahead.write(Move("repair", env, name, key, key, reason, mirrored), newest, mirror)]
        if violation.kind == "allowance-drift" and concerned is not None:
            stored = self._ahead.stored_allowance(env, violation.model)
            if allowance_text(stored) == concerned.new:
                return []
            reason = f"check --fix: adopted the allowance set outside mlflow-allowance; {violation.problem}"
            return [
                self._ahead.write(
                    Move("allowance", env, violation.model, concerned.new, allowance_text(stored), reason),
                    newest,
                    lambda: None,
                )
            ]
        return []

    def _models(self, scope: Sequence[str] | None) -> list[RegisteredModel]:
        """The registered models in ``scope`` (names), else all of them."""
        if scope is None:
            return self._registry.registered_models()
        return [self._registry.registered_model(name) for name in scope]

    def _holders(self, env: str, scope: Sequence[str] | None) -> list[RegisteredModel]:
        return [m for m in self._models(scope) if env in m.aliases]


def _effective(
    env: str, workspace: Mapping[str, str], models: Mapping[str, RegisteredModel], model: str | None
) -> VersionAllowance:
    """The allowance ``env`` applies to ``model`` (its override when it has one), as a violation shows it."""
    registered = None if model is None else models.get(model)
    tags = None if registered is None else registered.tags
    try:
        return resolve_allowance(env, model, workspace, tags).allowance
    except InputError:  # an override that does not parse: the drift itself, reported beside the default
        return resolve_allowance(env, None, workspace).allowance


def _by_environment(records: Iterable[AuditRecord]) -> dict[str, list[AuditRecord]]:
    """Records grouped by environment, each group newest first (by sequence number, then time)."""
    grouped: dict[str, list[AuditRecord]] = {}
    for record in records:
        grouped.setdefault(record.environment, []).append(record)
    for group in grouped.values():
        group.sort(key=lambda r: (r.seq or 0, r.time), reverse=True)
    return grouped


def _one_per_environment(violations: Iterable[Violation]) -> list[Violation]:
    """The first violation of each environment: one re-promotion fixes the environment's alias."""
    seen: set[str] = set()
    first = []
    for violation in violations:
        if violation.environment not in seen:
            seen.add(violation.environment)
            first.append(violation)
    return first


def _canonical_or_raw(text: str) -> str:
    try:
        return VersionAllowance.parse(text).canonical
    except InputError:
        return text
