"""What the API's operations return: plain, immutable records, ready for rendering or JSON.

Each is frozen, picklable and round-trips through JSON with ``to_dict()``/``from_dict()``, so a result can
cross a process boundary (Airflow XCom, Ray, multiprocessing):

>>> import json
>>> change = AllowanceChange("prod", None, VersionAllowance("<=1.0"), VersionAllowance("<=2.0"), True)
>>> AllowanceChange.from_dict(json.loads(json.dumps(change.to_dict()))) == change
True

:func:`resolve_allowance` is the one rule for which allowance applies: the model's override, else the
workspace default, else ``*``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal, cast

from mlflow_allowance._schema import allowance_tag
from mlflow_allowance.allowance import AllowanceComparison, VersionAllowance
from mlflow_allowance.audit import AuditRecord
from mlflow_allowance.datasets import DatasetInfo, Score
from mlflow_allowance.errors import InputError, InvalidAllowanceError, shown
from mlflow_allowance.request import SelectionRequest
from mlflow_allowance.selection import Selection

__all__ = [
    "AllowanceChange",
    "AllowanceSource",
    "CheckReport",
    "EffectiveAllowance",
    "Evaluation",
    "ModelVersionInfo",
    "Promotion",
    "Violation",
    "ViolationKind",
    "resolve_allowance",
]

AllowanceSource = Literal["model", "default", "unset"]
_SOURCES = ("model", "default", "unset")


@dataclass(frozen=True)
class ModelVersionInfo:
    """A registry version and the semantic version it carries."""

    name: str
    version: int
    semver: str | None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``version`` as a string)."""
        return {"name": self.name, "version": str(self.version), "semver": self.semver}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelVersionInfo:
        """The record :meth:`to_dict` described."""
        return cls(data["name"], int(data["version"]), data.get("semver"))


@dataclass(frozen=True)
class EffectiveAllowance:
    """The allowance an environment applies to a model, and where it came from.

    ``source`` is ``"model"`` for a per-model override, ``"default"`` for the workspace-wide default and
    ``"unset"`` when neither exists (then every final version is allowed: ``*``); any other source is an
    :class:`~mlflow_allowance.errors.InputError`:

    >>> EffectiveAllowance("prod", None, VersionAllowance("<=1.0"), "bogus")
    Traceback (most recent call last):
    ...
    mlflow_allowance.errors.InputError: Invalid allowance source 'bogus': expected one of 'model', ...
    """

    environment: str
    model: str | None
    allowance: VersionAllowance
    source: AllowanceSource

    def __post_init__(self) -> None:
        if self.source not in _SOURCES:
            raise InputError(
                f"Invalid allowance source {shown(self.source)}: expected one of {_listed(_SOURCES)}"
            )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "environment": self.environment,
            "model": self.model,
            "allowance": self.allowance.canonical,
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EffectiveAllowance:
        """The record :meth:`to_dict` described."""
        return cls(
            data["environment"],
            data.get("model"),
            VersionAllowance.parse(data["allowance"]),
            cast(AllowanceSource, data["source"]),
        )


def _listed(choices: tuple[str, ...]) -> str:
    return ", ".join(repr(choice) for choice in choices)


def resolve_allowance(
    environment: str,
    model: str | None,
    workspace_tags: Mapping[str, str],
    model_tags: Mapping[str, str] | None = None,
) -> EffectiveAllowance:
    """The allowance ``environment`` applies to ``model``: its override, else the default, else ``*``.

    ``workspace_tags`` are the audit experiment's tags (where defaults live), ``model_tags`` the registered
    model's (where overrides live). A stored allowance that does not parse is reported with its tag and
    where it is stored:

    >>> resolve_allowance("prod", "AImodel", {"mlflow_allowance.allowance.prod": "<=1.0"}, {}).to_dict()
    {'environment': 'prod', 'model': 'AImodel', 'allowance': '<=1.0', 'source': 'default'}
    >>> resolve_allowance("prod", "AImodel", {}, {"mlflow_allowance.allowance.prod": "banana"})
    Traceback (most recent call last):
    ...
    mlflow_allowance.errors.InvalidAllowanceError: Stored allowance tag 'mlflow_allowance.allowance.prod' ...
    """
    key = allowance_tag(environment)
    if model is not None and model_tags is not None and key in model_tags:
        where = f"registered model {model!r}"
        return EffectiveAllowance(environment, model, _stored(model_tags[key], key, where), "model")
    if key in workspace_tags:
        where = "the audit experiment (workspace default)"
        return EffectiveAllowance(environment, model, _stored(workspace_tags[key], key, where), "default")
    return EffectiveAllowance(environment, model, VersionAllowance(), "unset")


def _stored(text: str, key: str, where: str) -> VersionAllowance:
    try:
        return VersionAllowance.parse(text)
    except InvalidAllowanceError as exc:
        raise InvalidAllowanceError(
            f"Stored allowance tag {key!r} on {where} is invalid: {exc}; set it again with "
            "`mlflow allowance set`"
        ) from None


@dataclass(frozen=True)
class AllowanceChange:
    """The result of setting or unsetting an allowance: ``old`` → ``new`` (``None`` = not set)."""

    environment: str
    model: str | None
    old: VersionAllowance | None
    new: VersionAllowance | None
    changed: bool

    @property
    def comparison(self) -> AllowanceComparison | None:
        """How ``new`` relates to ``old`` (``WIDER`` = the change widened the allowance)."""
        old = self.old if self.old is not None else VersionAllowance()
        new = self.new if self.new is not None else VersionAllowance()
        return new.compare(old)

    def describe(self) -> str:
        """One line for people: ``prod: widened <=1.0 → <=2.0``."""
        scope = f"{self.environment} ({self.model})" if self.model else self.environment
        old = self.old.canonical if self.old is not None else "unset"
        new = self.new.canonical if self.new is not None else "unset"
        if not self.changed:
            return f"{scope}: unchanged {new}"
        if self.old is None:
            return f"{scope}: set {new} (was unset: any version)"
        if self.new is None:
            now = "the workspace default, else any version" if self.model else "any version"
            return f"{scope}: unset {old} (now: {now})"
        verb = {
            AllowanceComparison.WIDER: "widened",
            AllowanceComparison.NARROWER: "narrowed",
            AllowanceComparison.EQUAL: "rewrote (same versions)",
        }.get(self.comparison or AllowanceComparison.OVERLAPPING, "replaced")
        return f"{scope}: {verb} {old} → {new}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        comparison = self.comparison
        return {
            "environment": self.environment,
            "model": self.model,
            "old": None if self.old is None else self.old.canonical,
            "new": None if self.new is None else self.new.canonical,
            "changed": self.changed,
            "comparison": None if comparison is None else comparison.value,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AllowanceChange:
        """The record :meth:`to_dict` described."""
        old, new = data.get("old"), data.get("new")
        return cls(
            data["environment"],
            data.get("model"),
            None if old is None else VersionAllowance.parse(old),
            None if new is None else VersionAllowance.parse(new),
            bool(data["changed"]),
        )


@dataclass(frozen=True)
class Promotion:
    """The result of ``promote`` or ``rollback``: the alias moved (or would move) ``old`` → ``new``.

    ``old``/``new`` are ``name/version`` keys; ``changed`` is false when the winner already held the alias
    or on a dry run; ``record`` is the audit record written, if any; ``request`` what was asked of the
    selection (``None`` for a rollback).
    """

    environment: str
    old: str | None
    new: str | None
    changed: bool
    dry_run: bool = False
    stage: str | None = None
    selection: Selection | None = None
    record: AuditRecord | None = None
    request: SelectionRequest | None = None
    evaluation: Evaluation | None = None

    def __post_init__(self) -> None:
        selection = self.selection
        if selection is not None and selection.environment != self.environment:
            if selection.environment is not None:
                raise ValueError(
                    f"Promotion of {self.environment!r} cannot carry a selection made for "
                    f"{selection.environment!r}"
                )
            object.__setattr__(self, "selection", replace(selection, environment=self.environment))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the selection's fields plus ``environment``, ``old``, ``new``, ``changed``,
        ``record`` and ``request``."""
        data: dict[str, Any] = {}
        if self.selection is not None:
            data.update(self.selection.to_dict())
        data.update(
            environment=self.environment,
            old=self.old,
            new=self.new,
            changed=self.changed,
            dry_run=self.dry_run,
            stage=self.stage,
            record_id=None if self.record is None else self.record.record_id,
            record=None if self.record is None else self.record.to_dict(),
            request=None if self.request is None else self.request.to_dict(),
        )
        if self.evaluation is not None:
            data["evaluation"] = self.evaluation.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Promotion:
        """The promotion :meth:`to_dict` described."""
        record, request, evaluation = data.get("record"), data.get("request"), data.get("evaluation")
        return cls(
            environment=data["environment"],
            old=data.get("old"),
            new=data.get("new"),
            changed=bool(data["changed"]),
            dry_run=bool(data.get("dry_run", False)),
            stage=data.get("stage"),
            selection=Selection.from_dict(data) if "policy" in data else None,
            record=None if record is None else AuditRecord.from_dict(record),
            request=None if request is None else SelectionRequest.from_dict(request),
            evaluation=None if evaluation is None else Evaluation.from_dict(evaluation),
        )


@dataclass(frozen=True)
class Evaluation:
    """The result of ``evaluate``: what was scored on ``dataset`` for ``environment``.

    ``scored`` and ``failed`` are the scores this call recorded; ``kept`` those already on record for the
    dataset's digest (a failure is kept until asked to retry); ``skipped`` the versions left out, as
    ``(model, version, reason)`` (outside the allowance, no semantic version, ...).
    """

    environment: str
    dataset: DatasetInfo
    scored: tuple[Score, ...] = ()
    failed: tuple[Score, ...] = ()
    kept: tuple[Score, ...] = ()
    skipped: tuple[tuple[str, int, str], ...] = ()

    def __post_init__(self) -> None:
        for name in ("scored", "failed", "kept", "skipped"):
            object.__setattr__(self, name, tuple(getattr(self, name)))

    @property
    def failures(self) -> tuple[Score, ...]:
        """Every version within the allowance that could not be scored on this data: just now, or before
        (kept until ``retry_failed``)."""
        return (*self.failed, *(score for score in self.kept if score.failed))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "environment": self.environment,
            "dataset": self.dataset.to_dict(),
            "scored": [score.to_dict() for score in self.scored],
            "failed": [score.to_dict() for score in self.failed],
            "kept": [score.to_dict() for score in self.kept],
            "skipped": [{"model": m, "version": v, "reason": r} for m, v, r in self.skipped],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Evaluation:
        """The evaluation :meth:`to_dict` described."""
        return cls(
            environment=data["environment"],
            dataset=DatasetInfo.from_dict(data["dataset"]),
            scored=tuple(Score.from_dict(item) for item in data.get("scored") or ()),
            failed=tuple(Score.from_dict(item) for item in data.get("failed") or ()),
            kept=tuple(Score.from_dict(item) for item in data.get("kept") or ()),
            skipped=tuple((s["model"], int(s["version"]), s["reason"]) for s in data.get("skipped") or ()),
        )


ViolationKind = Literal[
    "outside-allowance", "pending", "alias-drift", "two-holders", "stage-behind", "allowance-drift"
]
_VIOLATION_KINDS = (
    "outside-allowance",
    "pending",
    "alias-drift",
    "two-holders",
    "stage-behind",
    "allowance-drift",
)


@dataclass(frozen=True)
class Violation:
    """Something ``check`` found wrong in one environment, and why (``problem``).

    ``kind`` says what: ``outside-allowance`` (the alias points at a version the allowance does not
    allow), ``pending`` (a change recorded but left unfinished longer than the lease), ``alias-drift`` (the
    alias is not where the newest completed record put it), ``two-holders`` (two models hold the alias),
    ``stage-behind`` (the holder's legacy stage is not the one its promotion mirrored) or
    ``allowance-drift`` (the allowance tag is not what the newest allowance record set). ``version`` and
    ``semver`` are the holder's (``None`` for allowance drift); ``record_id`` the record concerned.
    """

    environment: str
    model: str | None
    version: int | None
    semver: str | None
    allowance: VersionAllowance
    problem: str
    kind: ViolationKind = "outside-allowance"
    record_id: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in _VIOLATION_KINDS:
            raise InputError(
                f"Invalid violation kind {shown(self.kind)}: expected one of {_listed(_VIOLATION_KINDS)}"
            )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "environment": self.environment,
            "model": self.model,
            "version": None if self.version is None else str(self.version),
            "semver": self.semver,
            "allowance": self.allowance.canonical,
            "problem": self.problem,
            "kind": self.kind,
            "record_id": self.record_id,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Violation:
        """The record :meth:`to_dict` described."""
        version = data.get("version")
        return cls(
            data["environment"],
            data.get("model"),
            None if version is None else int(version),
            data.get("semver"),
            VersionAllowance.parse(data["allowance"]),
            data["problem"],
            data.get("kind", "outside-allowance"),
            data.get("record_id"),
        )


@dataclass(frozen=True)
class CheckReport:
    """Every violation found; with ``fix``, the promotions made (``fixes``) and the records that settled or
    repaired the trail (``repairs``). ``foreign_records`` counts runs in the audit experiment that are not
    records (logged there by hand, or damaged); they are ignored. ``remaining`` is what a check made right
    after would report: the violations themselves without ``fix``, what the fixes left with it."""

    violations: tuple[Violation, ...] = ()
    fixes: tuple[Promotion, ...] = ()
    checked: int = 0
    repairs: tuple[AuditRecord, ...] = ()
    foreign_records: int = 0
    remaining: tuple[Violation, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "violations", tuple(self.violations))
        # What a check run after this one would report: after ``fix``, what the repairs left; else all.
        remaining = self.violations if self.remaining is None else self.remaining
        object.__setattr__(self, "remaining", tuple(remaining))
        object.__setattr__(self, "fixes", tuple(self.fixes))
        object.__setattr__(self, "repairs", tuple(self.repairs))

    @property
    def ok(self) -> bool:
        """True when nothing was wrong (before any fix)."""
        return not self.violations

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "ok": self.ok,
            "checked": self.checked,
            "violations": [v.to_dict() for v in self.violations],
            "fixes": [f.to_dict() for f in self.fixes],
            "repairs": [r.to_dict() for r in self.repairs],
            "foreign_records": self.foreign_records,
            "remaining": [v.to_dict() for v in self.remaining or ()],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckReport:
        """The report :meth:`to_dict` described."""
        return cls(
            tuple(Violation.from_dict(v) for v in data.get("violations") or ()),
            tuple(Promotion.from_dict(f) for f in data.get("fixes") or ()),
            int(data.get("checked", 0)),
            tuple(AuditRecord.from_dict(r) for r in data.get("repairs") or ()),
            int(data.get("foreign_records", 0)),
            None if "remaining" not in data else tuple(Violation.from_dict(v) for v in data["remaining"]),
        )
