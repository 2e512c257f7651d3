"""The selection engine: among the candidates an environment allows, pick the best and explain the rest.

Pure: candidates are plain records, loaded by the adapter (or built by hand, as here).

>>> from mlflow_allowance import Candidate, SelectionPolicy, VersionAllowance, evaluate
>>> candidates = [
...     Candidate("AImodel", 1, "1.0", metrics={"F1": 0.93}),
...     Candidate("AImodel", 2, "1.0", metrics={"F1": 0.98}),
...     Candidate("AImodel", 3, "2.0", metrics={"F1": 0.99}),
...     Candidate("AImodel", 4, "1.0", metrics={}),
... ]
>>> selection = evaluate(candidates, SelectionPolicy(VersionAllowance.parse("<=1.0"), metric="F1"))
>>> selection.winner.candidate.version
2
>>> for verdict in selection.candidates:
...     print(verdict.candidate.version, verdict.eligible, verdict.reason)
2 True winner: highest F1 (0.98)
1 True F1 0.93 is worse than the winner's 0.98
3 False 2.0 is outside <=1.0
4 False no metric 'F1'
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from mlflow_allowance.allowance import VersionAllowance
from mlflow_allowance.errors import InvalidVersionError
from mlflow_allowance.versions import SemanticVersion

__all__ = ["Candidate", "Selection", "SelectionPolicy", "Verdict", "evaluate"]

READY = "READY"


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class Candidate:
    """One registry version that may compete for an environment.

    ``version`` is the registry's integer version; ``semver`` the semantic version text it carries (or
    ``None``); ``created_at`` milliseconds since the epoch, as MLflow reports it; ``stage`` the legacy
    registry stage (``Production``, ``Staging``, ...), if any.
    """

    name: str
    version: int
    semver: str | None = None
    metrics: Mapping[str, float] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    status: str = READY
    created_at: int = 0
    aliases: tuple[str, ...] = ()
    run_id: str | None = None
    stage: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "metrics", _frozen(self.metrics))
        object.__setattr__(self, "tags", _frozen(self.tags))
        object.__setattr__(self, "aliases", tuple(self.aliases))

    @property
    def key(self) -> str:
        """``name/version``, how people refer to a registry version."""
        return f"{self.name}/{self.version}"


@dataclass(frozen=True)
class SelectionPolicy:
    """What an environment wants: an allowance, and a metric to maximise or minimise (else the latest).

    ``required_tags`` must all be present on the candidate with exactly these values. ``prereleases``
    overrides the allowance's own pre-release default. ``model_allowances`` maps a registered-model name to
    an allowance that replaces ``allowance`` for that model's candidates (a per-model override).
    """

    allowance: VersionAllowance = field(default_factory=VersionAllowance)
    metric: str | None = None
    maximize: bool = True
    required_tags: Mapping[str, str] = field(default_factory=dict)
    prereleases: bool | None = None
    model_allowances: Mapping[str, VersionAllowance] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "required_tags", _frozen(self.required_tags))
        object.__setattr__(self, "model_allowances", _frozen(self.model_allowances))

    def allowance_for(self, model: str) -> VersionAllowance:
        """The allowance that applies to candidates of registered model ``model``."""
        return self.model_allowances.get(model, self.allowance)

    @property
    def strategy(self) -> str:
        """``"metric"`` when a metric decides, ``"latest"`` when the highest semantic version does."""
        return "latest" if self.metric is None else "metric"

    def describe(self) -> str:
        """One line for people: ``highest F1 within <=1.0``."""
        if self.metric is None:
            how = "latest semantic version"
        else:
            how = f"{'highest' if self.maximize else 'lowest'} {self.metric}"
        return f"{how} within {self.allowance}"


@dataclass(frozen=True)
class Verdict:
    """What the engine concluded about one candidate, and why."""

    candidate: Candidate
    semver: SemanticVersion | None
    metric: float | None
    eligible: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; ``version`` is a string, as MLflow's REST API has it."""
        return {
            "name": self.candidate.name,
            "version": str(self.candidate.version),
            "semver": self.candidate.semver,
            "metric": _json_number(self.metric),
            "eligible": self.eligible,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Selection:
    """The winner (or none) and a verdict for every candidate: the winner first, then eligible ones by
    rank, then the ineligible ones in the order they were given."""

    policy: SelectionPolicy
    candidates: tuple[Verdict, ...]

    @property
    def winner(self) -> Verdict | None:
        """The verdict of the chosen candidate, or ``None`` when no candidate is eligible."""
        first = self.candidates[0] if self.candidates else None
        return first if first is not None and first.eligible else None

    @property
    def eligible(self) -> tuple[Verdict, ...]:
        """Eligible verdicts, best first."""
        return tuple(v for v in self.candidates if v.eligible)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with ``allowance``, ``metric``, ``maximize``, ``winner`` and ``candidates``."""
        winner = self.winner
        return {
            "allowance": self.policy.allowance.canonical,
            "metric": self.policy.metric,
            "maximize": self.policy.maximize,
            "winner": None if winner is None else _winner_dict(winner),
            "candidates": [verdict.to_dict() for verdict in self.candidates],
        }


def evaluate(candidates: Iterable[Candidate], policy: SelectionPolicy) -> Selection:
    """Judge every candidate against ``policy`` and rank the eligible ones.

    Best by metric when the policy names one, else the highest semantic version. Ties break on the higher
    semantic version, then the higher registry version, then the model name (alphabetically first wins).
    NaN, infinite and missing metrics never win; a version tag that does not parse never raises.
    """
    eligible: list[tuple[Candidate, SemanticVersion, float | None]] = []
    rejected: list[Verdict] = []
    for candidate in candidates:
        semver, metric, reason = _judge(candidate, policy)
        if reason is None and semver is not None:
            eligible.append((candidate, semver, metric))
        else:
            rejected.append(Verdict(candidate, semver, metric, False, reason or "not eligible"))
    # Stable sorts, least significant key first.
    eligible.sort(key=lambda item: item[0].name)
    eligible.sort(key=lambda item: (item[1], item[0].version), reverse=True)
    if policy.metric is not None:
        eligible.sort(key=lambda item: _metric(item[2]), reverse=policy.maximize)
    ranked: list[Verdict] = []
    for index, (candidate, semver, metric) in enumerate(eligible):
        if index == 0:
            reason = _winner_reason(policy, semver, metric)
        else:
            reason = _loser_reason(policy, semver, metric, eligible[0])
        ranked.append(Verdict(candidate, semver, metric, True, reason))
    return Selection(policy, (*ranked, *rejected))


def _judge(
    candidate: Candidate, policy: SelectionPolicy
) -> tuple[SemanticVersion | None, float | None, str | None]:
    metric = candidate.metrics.get(policy.metric) if policy.metric is not None else None
    if candidate.status != READY:
        return None, metric, f"status {candidate.status}"
    if candidate.semver is None:
        return None, metric, "no semantic version"
    try:
        semver = SemanticVersion.parse(candidate.semver)
    except InvalidVersionError:
        return None, metric, f"version tag {candidate.semver!r} is not a valid version"
    allowance = policy.allowance_for(candidate.name)
    if not allowance.allows(semver, prereleases=policy.prereleases):
        if semver.is_prerelease and allowance.allows(semver, prereleases=True):
            if policy.prereleases is False:
                return semver, metric, f"{semver} is a pre-release; the policy excludes pre-releases"
            return semver, metric, f"{semver} is a pre-release; {allowance} does not name one"
        return semver, metric, f"{semver} is outside {allowance}"
    for tag, wanted in policy.required_tags.items():
        actual = candidate.tags.get(tag)
        if actual != wanted:
            found = "missing" if actual is None else repr(actual)
            return semver, metric, f"tag {tag!r} is {found}, not {wanted!r}"
    if policy.metric is not None:
        if metric is None:
            return semver, None, f"no metric {policy.metric!r}"
        if math.isnan(metric) or math.isinf(metric):
            return semver, metric, f"metric {policy.metric!r} is {metric}"
    return semver, metric, None


def _metric(value: float | None) -> float:
    return value if value is not None else math.nan


def _winner_reason(policy: SelectionPolicy, semver: SemanticVersion, metric: float | None) -> str:
    if policy.metric is None:
        return f"winner: latest within {policy.allowance} ({semver})"
    best = "highest" if policy.maximize else "lowest"
    return f"winner: {best} {policy.metric} ({metric:.4g})"


def _loser_reason(
    policy: SelectionPolicy,
    semver: SemanticVersion,
    metric: float | None,
    winner: tuple[Candidate, SemanticVersion, float | None],
) -> str:
    _, top_semver, top_metric = winner
    if policy.metric is not None and metric != top_metric:
        return f"{policy.metric} {metric:.4g} is worse than the winner's {top_metric:.4g}"
    tie = f"ties with the winner on {policy.metric}; " if policy.metric is not None else ""
    if semver != top_semver:
        return f"{tie}{semver} is older than the winner's {top_semver}"
    return f"{tie}same semantic version; the tie breaks on registry version, then model name"


def _json_number(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) or math.isinf(value) else value


def _winner_dict(verdict: Verdict) -> dict[str, Any]:
    full = verdict.to_dict()
    return {key: full[key] for key in ("name", "version", "semver", "metric")}
