"""The selection engine: among the candidates an environment allows, pick the best and explain the rest.

Pure: candidates are plain records, loaded by the adapter (or built by hand, as here).

>>> from mlflow_allowance.selection import Candidate, SelectionPolicy, rank_candidates
>>> candidates = [
...     Candidate("AImodel", 1, "1.0", metrics={"F1": 0.93}),
...     Candidate("AImodel", 2, "1.0", metrics={"F1": 0.98}),
...     Candidate("AImodel", 3, "2.0", metrics={"F1": 0.99}),
...     Candidate("AImodel", 4, "1.0", metrics={}),
... ]
>>> selection = rank_candidates(candidates, SelectionPolicy("<=1.0", metric="F1"), environment="prod")
>>> selection.winner.candidate.version
2
>>> for verdict in selection.candidates:
...     print(verdict.candidate.version, verdict.eligible, verdict.reason)
2 True winner: highest F1 (0.98) within <=1.0
1 True F1 0.93 is worse than the winner's 0.98
3 False 2.0 is outside <=1.0
4 False no metric 'F1'

Every value here is frozen, hashable, picklable and round-trips through JSON:

>>> import json
>>> Selection.from_dict(json.loads(json.dumps(selection.to_dict()))) == selection
True
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mlflow_allowance._frozen import FrozenDict
from mlflow_allowance._numbers import decode_number, encode_number, number_key, number_source
from mlflow_allowance.allowance import VersionAllowance
from mlflow_allowance.datasets import DatasetRef, evaluator_metric
from mlflow_allowance.errors import InputError, InputTypeError, shown
from mlflow_allowance.versions import SemanticVersion, _parse_or_none, version_key

__all__ = ["Candidate", "Selection", "SelectionPolicy", "Verdict", "rank_candidates", "within"]

READY = "READY"
#: MLflow's limit on metric keys.
_MAX_METRIC_NAME = 250
#: MLflow stores +-inf metrics as +-sys.float_info.max; such a value is as infinite as the one logged.
_MLFLOW_INFINITY = sys.float_info.max


@dataclass(frozen=True, eq=False, repr=False)
class Candidate:
    """One registry version that may compete for an environment.

    ``version`` is the registry's integer version; ``semver`` the semantic version text it carries (or
    ``None``); ``created_at`` milliseconds since the epoch, as MLflow reports it; ``stage`` the legacy
    registry stage (``Production``, ``Staging``, ...), if any. A metric must be a number (or its text);
    equality takes NaN as equal to NaN, so a candidate equals its own copies. The repr is the call that
    builds it:

    >>> Candidate("AImodel", 2, "1.0", metrics={"F1": float("nan")}, tags={"validated": "true"})
    Candidate('AImodel', 2, '1.0', metrics={'F1': float('nan')}, tags={'validated': 'true'})
    >>> Candidate("AImodel", 2, metrics={"F1": "high"})
    Traceback (most recent call last):
    ...
    mlflow_allowance.errors.InputError: Invalid metric 'F1' of AImodel/2: 'high' is not a number
    """

    name: str
    version: int
    semver: str | None = None
    metrics: Mapping[str, float] = field(default_factory=FrozenDict)
    tags: Mapping[str, str] = field(default_factory=FrozenDict)
    status: str = READY
    created_at: int = 0
    aliases: tuple[str, ...] = ()
    run_id: str | None = None
    stage: str | None = None
    failure: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise InputTypeError(f"Candidate name must be a non-empty string, not {shown(self.name)}")
        if isinstance(self.version, bool) or not isinstance(self.version, int):
            raise InputTypeError(
                f"Candidate version must be the registry's int version, not {shown(self.version)}"
            )
        if self.semver is not None and not isinstance(self.semver, str):
            raise InputTypeError(f"Candidate semver must be a string or None, not {shown(self.semver)}")
        metrics = {str(k): _decode_number(self.key, str(k), v) for k, v in self.metrics.items()}
        object.__setattr__(self, "metrics", FrozenDict(metrics))
        object.__setattr__(self, "tags", FrozenDict({str(k): str(v) for k, v in self.tags.items()}))
        object.__setattr__(self, "aliases", tuple(self.aliases))

    def _key(self) -> tuple[object, ...]:
        """What equality and hashing compare: every field, each NaN metric equal to any other."""
        metrics = frozenset((name, number_key(value)) for name, value in self.metrics.items())
        return (
            self.name,
            self.version,
            self.semver,
            metrics,
            self.tags,
            self.status,
            self.created_at,
            self.aliases,
            self.run_id,
            self.stage,
            self.failure,
        )

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Candidate)
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        """The call that builds this candidate: positional name, version and semver, then every field that
        is not its default."""
        parts = [repr(self.name), repr(self.version)]
        if self.semver is not None:
            parts.append(repr(self.semver))
        if self.metrics:
            items = ", ".join(f"{name!r}: {number_source(value)}" for name, value in self.metrics.items())
            parts.append(f"metrics={{{items}}}")
        if self.tags:
            parts.append(f"tags={dict(self.tags)!r}")
        defaults = (("status", READY), ("created_at", 0), ("aliases", ()), ("run_id", None))
        for name, default in (*defaults, ("stage", None), ("failure", None)):
            value = getattr(self, name)
            if value != default:
                parts.append(f"{name}={value!r}")
        return f"Candidate({', '.join(parts)})"

    @property
    def key(self) -> str:
        """``name/version``, how people refer to a registry version."""
        return version_key(self.name, self.version)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (non-finite metrics as the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``)."""
        return {
            "name": self.name,
            "version": self.version,
            "semver": self.semver,
            "metrics": {key: encode_number(value) for key, value in self.metrics.items()},
            "tags": dict(self.tags),
            "status": self.status,
            "created_at": self.created_at,
            "aliases": list(self.aliases),
            "run_id": self.run_id,
            "stage": self.stage,
            "failure": self.failure,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Candidate:
        """The candidate :meth:`to_dict` described."""
        return cls(
            name=data["name"],
            version=int(data["version"]),
            semver=data.get("semver"),
            metrics=data.get("metrics") or {},
            tags=data.get("tags") or {},
            status=data.get("status", READY),
            created_at=int(data.get("created_at", 0)),
            aliases=tuple(data.get("aliases") or ()),
            run_id=data.get("run_id"),
            stage=data.get("stage"),
            failure=data.get("failure"),
        )


@dataclass(frozen=True)
class SelectionPolicy:
    """What an environment wants: an allowance, and a metric to maximise or minimise (else the latest).

    ``allowance`` (a :class:`VersionAllowance` or its text) applies to every model without an entry in
    ``model_allowances``, which maps registered-model names to the allowance that applies to them (a
    per-model override, or the effective allowance the client resolved). ``required_tags`` must all be
    present on the candidate with exactly these values. ``prereleases`` overrides the allowance's own
    pre-release default. Fields are checked on construction:

    >>> SelectionPolicy("<=1.0", metric="F1").describe()
    'highest F1 within <=1.0'
    >>> SelectionPolicy(maximize="no")
    Traceback (most recent call last):
    ...
    TypeError: maximize must be True or False, not 'no'
    """

    allowance: VersionAllowance = field(default_factory=VersionAllowance)
    metric: str | None = None
    maximize: bool = True
    required_tags: Mapping[str, str] = field(default_factory=FrozenDict)
    prereleases: bool | None = None
    model_allowances: Mapping[str, VersionAllowance] = field(default_factory=FrozenDict)
    dataset: DatasetRef | None = None

    def __init__(
        self,
        allowance: VersionAllowance | str = "*",
        metric: str | None = None,
        maximize: bool = True,
        required_tags: Mapping[str, str] | None = None,
        prereleases: bool | None = None,
        model_allowances: Mapping[str, VersionAllowance | str] | None = None,
        dataset: DatasetRef | str | None = None,
    ) -> None:
        set_ = object.__setattr__
        set_(self, "allowance", _allowance(allowance, "allowance"))
        options = _judging_options(metric, maximize, required_tags, prereleases, dataset)
        for name, value in zip(_OPTION_FIELDS, options, strict=True):
            set_(self, name, value)
        if model_allowances is None:
            model_allowances = {}
        if not isinstance(model_allowances, Mapping):
            raise TypeError(
                f"SelectionPolicy model_allowances must map model names to allowances, "
                f"not {type(model_allowances).__name__}"
            )
        per_model = {str(k): _allowance(v, f"allowance of {k!r}") for k, v in model_allowances.items()}
        set_(self, "model_allowances", FrozenDict(per_model))

    @classmethod
    def _checked(
        cls,
        allowance: VersionAllowance,
        model_allowances: Mapping[str, VersionAllowance],
        options: tuple[str | None, bool, FrozenDict[str, str], bool | None, DatasetRef | None],
    ) -> SelectionPolicy:
        """A policy from options :func:`_judging_options` already checked (a :class:`SelectionRequest`'s):
        validated once, where the request was made."""
        policy = object.__new__(cls)
        object.__setattr__(policy, "allowance", allowance)
        for name, value in zip(_OPTION_FIELDS, options, strict=True):
            object.__setattr__(policy, name, value)
        object.__setattr__(policy, "model_allowances", FrozenDict(model_allowances))
        return policy

    def inside(self, model: str, semver: SemanticVersion | None) -> bool:
        """Whether ``semver`` is inside the allowance of ``model`` (see :func:`within`)."""
        return semver is not None and within(self.allowance_for(model), semver)

    def metric_of(self, candidate: Candidate) -> float | None:
        """The candidate's value of the policy's metric (on a dataset, also under MLflow's evaluator key:
        ``F1`` is found as ``f1_score``); ``None`` without a metric or a value."""
        if self.metric is None:
            return None
        value = candidate.metrics.get(self.metric)
        if value is None and self.dataset is not None:
            value = candidate.metrics.get(evaluator_metric(self.metric))
        return value

    def allowance_for(self, model: str) -> VersionAllowance:
        """The allowance that applies to candidates of registered model ``model``."""
        return self.model_allowances.get(model, self.allowance)

    @property
    def strategy(self) -> str:
        """``"metric"`` when a metric decides, ``"latest"`` when the highest semantic version does."""
        return "latest" if self.metric is None else "metric"

    def describe(self) -> str:
        """One line for people: ``highest F1 within <=1.0`` (``... within AImodel <=1.0, other ==2.0`` when
        the models' allowances differ)."""
        if self.metric is None:
            how = "latest semantic version"
        else:
            how = f"{'highest' if self.maximize else 'lowest'} {self.metric}"
            if self.dataset is not None:
                how += f" on {self.dataset}"
        return f"{how} within {self.describe_allowances()}"

    def describe_allowances(self) -> str:
        """The allowance, or each model's when they differ: ``<=1.0`` or ``AImodel <=1.0, other ==5.0``."""
        distinct = set(self.model_allowances.values()) or {self.allowance}
        if len(distinct) == 1:
            return str(next(iter(distinct)))
        return ", ".join(f"{name} {allowance}" for name, allowance in sorted(self.model_allowances.items()))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict; :meth:`from_dict` gives an equal policy back."""
        return {
            "allowance": self.allowance.canonical,
            "metric": self.metric,
            "maximize": self.maximize,
            "required_tags": dict(self.required_tags),
            "prereleases": self.prereleases,
            "model_allowances": {name: a.canonical for name, a in self.model_allowances.items()},
            "dataset": None if self.dataset is None else self.dataset.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SelectionPolicy:
        """The policy :meth:`to_dict` described."""
        return cls(
            allowance=VersionAllowance.parse(data.get("allowance", "*")),
            metric=data.get("metric"),
            maximize=data.get("maximize", True),
            required_tags=data.get("required_tags") or None,
            prereleases=data.get("prereleases"),
            model_allowances=data.get("model_allowances") or None,
            dataset=DatasetRef.from_dict(data.get("dataset")),
        )


@dataclass(frozen=True)
class Verdict:
    """What the engine concluded about one candidate, and why.

    ``semver`` is the candidate's parsed semantic version (``None`` when it has none or it is invalid);
    ``metric`` the value of the policy's metric (``None`` without one).
    """

    candidate: Candidate
    semver: SemanticVersion | None
    metric: float | None
    eligible: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; ``version`` is a string, as MLflow's REST API has it; ``candidate`` is the
        full :meth:`Candidate.to_dict`."""
        return {
            "name": self.candidate.name,
            "version": str(self.candidate.version),
            "semver": self.candidate.semver,
            "metric": _json_number(self.metric),
            "eligible": self.eligible,
            "reason": self.reason,
            "candidate": self.candidate.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], policy: SelectionPolicy) -> Verdict:
        """The verdict :meth:`to_dict` described, judged under ``policy``."""
        candidate = Candidate.from_dict(data["candidate"])
        metric = policy.metric_of(candidate)
        return cls(
            candidate, _parse_or_none(candidate.semver), metric, bool(data["eligible"]), data["reason"]
        )


@dataclass(frozen=True)
class Selection:
    """The winner (or none) and a verdict for every candidate: the winner first, then eligible ones by
    rank, then the ineligible ones in the order they were given. ``environment`` is the environment it
    was made for (``None`` when ranked without one)."""

    policy: SelectionPolicy
    candidates: tuple[Verdict, ...]
    environment: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "candidates", tuple(self.candidates))

    @property
    def winner(self) -> Verdict | None:
        """The verdict of the chosen candidate, or ``None`` when no candidate is eligible."""
        first = self.candidates[0] if self.candidates else None
        return first if first is not None and first.eligible else None

    @property
    def eligible(self) -> tuple[Verdict, ...]:
        """Eligible verdicts, best first."""
        return tuple(v for v in self.candidates if v.eligible)

    @property
    def unscored(self) -> tuple[Verdict, ...]:
        """Judged on a dataset: the versions that would compete but have no score on it yet (run
        ``evaluate``); empty without a dataset."""
        if self.policy.dataset is None:
            return ()
        missing = _no_score(self.policy)
        return tuple(v for v in self.candidates if not v.eligible and v.reason == missing)

    @property
    def allowance(self) -> VersionAllowance:
        """The allowance that applied to the winner (without a winner: the policy's default)."""
        winner = self.winner
        return self.policy.allowance if winner is None else self.policy.allowance_for(winner.candidate.name)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: ``environment``, ``allowance`` (the winner's), ``allowances`` (every
        model's), ``metric``, ``maximize``, ``winner``, ``candidates`` and the full ``policy``."""
        winner = self.winner
        data: dict[str, Any] = {
            "environment": self.environment,
            "allowance": self.allowance.canonical,
            "allowances": {name: a.canonical for name, a in self.policy.model_allowances.items()},
            "metric": self.policy.metric,
            "maximize": self.policy.maximize,
            "dataset": None if self.policy.dataset is None else self.policy.dataset.to_dict(),
            "winner": None if winner is None else _winner_dict(winner),
            "candidates": [verdict.to_dict() for verdict in self.candidates],
            "policy": self.policy.to_dict(),
        }
        if self.policy.dataset is not None:
            data["unscored"] = [v.candidate.key for v in self.unscored]
        return data

    def summary(self) -> dict[str, Any]:
        """:meth:`to_dict` without each candidate's full record: what an audit record keeps."""
        data = self.to_dict()
        data["candidates"] = [
            {key: value for key, value in verdict.items() if key != "candidate"}
            for verdict in data["candidates"]
        ]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Selection:
        """The selection :meth:`to_dict` described."""
        policy = SelectionPolicy.from_dict(data["policy"])
        verdicts = tuple(Verdict.from_dict(item, policy) for item in data.get("candidates") or ())
        return cls(policy, verdicts, data.get("environment"))


def rank_candidates(
    candidates: Iterable[Candidate], policy: SelectionPolicy, *, environment: str | None = None
) -> Selection:
    """Judge every candidate against ``policy`` and rank the eligible ones.

    Best by metric when the policy names one, else the highest semantic version. Ties break on the higher
    semantic version, then the higher registry version, then the model name (alphabetically first wins).
    NaN, infinite (including MLflow's stand-in for infinity, +-1.7976931348623157e308) and missing metrics
    never win; a version tag that does not parse never raises.
    """
    if not isinstance(policy, SelectionPolicy):
        raise TypeError(f"rank_candidates needs a SelectionPolicy, not {type(policy).__name__}")
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
            reason = _winner_reason(policy, candidate, semver, metric)
        else:
            reason = _loser_reason(policy, semver, metric, eligible[0])
        ranked.append(Verdict(candidate, semver, metric, True, reason))
    return Selection(policy, (*ranked, *rejected), environment)


def within(allowance: VersionAllowance, semver: SemanticVersion) -> bool:
    """Whether ``semver`` lies inside ``allowance``: the one rule ``check``, ``rollback``, the dashboard
    and selection share. A pre-release inside the range is inside (``2.0rc1`` under ``<=2.0``); whether a
    selection may *pick* it is the policy's pre-release choice, judged on top of this.

    >>> within(VersionAllowance("<=2.0"), SemanticVersion("2.0rc1"))
    True
    >>> within(VersionAllowance("<2"), SemanticVersion("2.0"))
    False
    """
    return allowance.allows(semver, prereleases=True)


#: The fields :func:`_judging_options` checks, in its order: shared by the request and the policy.
_OPTION_FIELDS = ("metric", "maximize", "required_tags", "prereleases", "dataset")


def _judging_options(
    metric: object,
    maximize: object,
    required_tags: Mapping[str, str] | None,
    prereleases: object,
    dataset: object,
) -> tuple[str | None, bool, FrozenDict[str, str], bool | None, DatasetRef | None]:
    """How candidates are judged, checked in one place for :class:`SelectionRequest` and
    :class:`SelectionPolicy`: the metric's name, its direction, the required tags, the pre-release choice
    and the dataset (which needs a metric)."""
    name = _metric_name(metric)
    if not isinstance(maximize, bool):
        raise TypeError(f"maximize must be True or False, not {shown(maximize)}")
    tags = _required_tags(required_tags)
    if prereleases is not None and not isinstance(prereleases, bool):
        raise TypeError(f"prereleases must be True, False or None, not {shown(prereleases)}")
    ref = None if dataset is None else DatasetRef.of(dataset)
    if ref is not None and name is None:
        raise InputError(
            f"a dataset needs a metric to judge by: name one, e.g. F1 on {ref}", hints=("metric",)
        )
    return name, maximize, tags, prereleases, ref


def _required_tags(tags: Mapping[str, str] | None) -> FrozenDict[str, str]:
    """``tags`` checked to be a mapping of non-empty string keys to string values, frozen."""
    if tags is None:
        return FrozenDict()
    if not isinstance(tags, Mapping):
        raise TypeError(f"required tags must be a mapping of tag to value, not {type(tags).__name__}")
    for key, value in tags.items():
        if not isinstance(key, str) or not key.strip() or not isinstance(value, str):
            raise InputError(f"Invalid required tag {shown(key)}={shown(value)}: expected text KEY=VALUE")
    return FrozenDict(tags)


def _allowance(value: object, what: str) -> VersionAllowance:
    if isinstance(value, VersionAllowance):
        return value
    if isinstance(value, str):
        return VersionAllowance.parse(value)
    raise TypeError(f"SelectionPolicy {what} must be a VersionAllowance or its text, not {shown(value)}")


def _metric_name(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"metric must be a metric's name or None, not {shown(value)}")
    if not value.strip():
        raise InputError("Invalid metric '': expected a metric's name, e.g. F1")
    if len(value) > _MAX_METRIC_NAME:
        raise InputError(f"Invalid metric {shown(value)}: MLflow metric names have at most 250 characters")
    return value


def _judge(
    candidate: Candidate, policy: SelectionPolicy
) -> tuple[SemanticVersion | None, float | None, str | None]:
    metric = policy.metric_of(candidate)
    semver = _parse_or_none(candidate.semver)
    if candidate.status != READY:
        return semver, metric, f"status {candidate.status}"
    if candidate.semver is None:
        return None, metric, "no semantic version"
    if semver is None:
        return None, metric, f"version tag {shown(candidate.semver)} is not a valid version"
    allowance = policy.allowance_for(candidate.name)
    if not within(allowance, semver):
        return semver, metric, f"{semver} is outside {allowance}"
    if not allowance.allows(semver, prereleases=policy.prereleases):
        # Inside the range, but a pre-release the policy (or the allowance's own default) passes over.
        if policy.prereleases is False:
            return semver, metric, f"{semver} is a pre-release; the policy excludes pre-releases"
        return semver, metric, f"{semver} is a pre-release; {allowance} does not name one"
    for tag, wanted in policy.required_tags.items():
        actual = candidate.tags.get(tag)
        if actual != wanted:
            found = "missing" if actual is None else shown(actual)
            return semver, metric, f"tag {shown(tag)} is {found}, not {shown(wanted)}"
    if policy.metric is not None:
        if policy.dataset is not None and candidate.failure is not None:
            return semver, metric, f"failed on {policy.dataset}: {candidate.failure}"
        if metric is None:
            if policy.dataset is not None:
                return semver, None, _no_score(policy)
            return semver, None, f"no metric {policy.metric!r}"
        if math.isnan(metric) or math.isinf(metric):
            return semver, metric, f"metric {policy.metric!r} is {metric}"
        if abs(metric) >= _MLFLOW_INFINITY:
            sign = "-" if metric < 0 else ""
            return (
                semver,
                metric,
                f"metric {policy.metric!r} is {sign}inf (stored by MLflow as {metric:.17g})",
            )
    return semver, metric, None


def _no_score(policy: SelectionPolicy) -> str:
    """Why a version that would compete on a dataset does not: ``no F1 on wine-holdout@0a64f9dd``."""
    return f"no {policy.metric} on {policy.dataset}"


def _metric(value: float | None) -> float:
    return value if value is not None else math.nan


def _winner_reason(
    policy: SelectionPolicy, candidate: Candidate, semver: SemanticVersion, metric: float | None
) -> str:
    allowance = policy.allowance_for(candidate.name)
    if policy.metric is None:
        return f"winner: latest within {allowance} ({semver})"
    best = "highest" if policy.maximize else "lowest"
    where = "" if policy.dataset is None else f" on {policy.dataset}"
    return f"winner: {best} {policy.metric} ({metric:.4g}){where} within {allowance}"


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


def _decode_number(candidate: str, name: str, value: object) -> float:
    """Metric ``name`` of ``candidate`` as a float: a number, or its text (``"NaN"``, ``"Infinity"`` and
    ``"-Infinity"`` as :func:`~mlflow_allowance._numbers.encode_number` writes them, ``"0.93"``)."""
    what = f"Invalid metric {shown(name)} of {candidate}: {shown(value)} is not a number"
    try:
        return decode_number(value)  # type: ignore[arg-type]  # a str, or anything float() takes
    except TypeError:
        raise InputTypeError(f"{what} ({type(value).__name__})") from None
    except (ValueError, OverflowError):
        raise InputError(what) from None


def _winner_dict(verdict: Verdict) -> dict[str, Any]:
    full = verdict.to_dict()
    return {key: full[key] for key in ("name", "version", "semver", "metric")}
