"""What the API's operations return: plain, immutable records, ready for rendering or JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from mlflow_allowance.allowance import AllowanceComparison, VersionAllowance
from mlflow_allowance.audit import AuditRecord
from mlflow_allowance.selection import Selection

__all__ = [
    "AllowanceChange",
    "AllowanceSource",
    "CheckReport",
    "EffectiveAllowance",
    "ModelVersionInfo",
    "Promotion",
    "Violation",
]

AllowanceSource = Literal["model", "default", "unset"]


@dataclass(frozen=True)
class ModelVersionInfo:
    """A registry version and the semantic version it carries."""

    name: str
    version: int
    semver: str | None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``version`` as a string)."""
        return {"name": self.name, "version": str(self.version), "semver": self.semver}


@dataclass(frozen=True)
class EffectiveAllowance:
    """The allowance an environment applies to a model, and where it came from.

    ``source`` is ``"model"`` for a per-model override, ``"default"`` for the workspace-wide default and
    ``"unset"`` when neither exists (then every final version is allowed: ``*``).
    """

    environment: str
    model: str | None
    allowance: VersionAllowance
    source: AllowanceSource

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "environment": self.environment,
            "model": self.model,
            "allowance": self.allowance.canonical,
            "source": self.source,
        }


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


@dataclass(frozen=True)
class Promotion:
    """The result of ``promote`` or ``rollback``: the alias moved (or would move) ``old`` → ``new``.

    ``old``/``new`` are ``name/version`` keys; ``changed`` is false when the winner already held the alias
    or on a dry run; ``record`` is the audit record written, if any.
    """

    environment: str
    old: str | None
    new: str | None
    changed: bool
    dry_run: bool = False
    stage: str | None = None
    selection: Selection | None = None
    record: AuditRecord | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the selection's fields plus ``environment``, ``old``, ``new``, ``changed``."""
        data: dict[str, Any] = {"environment": self.environment}
        if self.selection is not None:
            data.update(self.selection.to_dict())
        data.update(
            old=self.old,
            new=self.new,
            changed=self.changed,
            dry_run=self.dry_run,
            stage=self.stage,
            record_id=None if self.record is None else self.record.record_id,
        )
        return data


@dataclass(frozen=True)
class Violation:
    """An environment alias that points at a version its current allowance does not allow."""

    environment: str
    model: str
    version: int
    semver: str | None
    allowance: VersionAllowance
    problem: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "environment": self.environment,
            "model": self.model,
            "version": str(self.version),
            "semver": self.semver,
            "allowance": self.allowance.canonical,
            "problem": self.problem,
        }


@dataclass(frozen=True)
class CheckReport:
    """Every violation found, and the promotions made to fix them when asked."""

    violations: tuple[Violation, ...] = ()
    fixes: tuple[Promotion, ...] = field(default_factory=tuple)
    checked: int = 0

    @property
    def ok(self) -> bool:
        """True when no alias violated its allowance (before any fix)."""
        return not self.violations

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "ok": self.ok,
            "checked": self.checked,
            "violations": [v.to_dict() for v in self.violations],
            "fixes": [f.to_dict() for f in self.fixes],
        }
