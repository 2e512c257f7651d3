"""What the dashboard shows, gathered through :class:`~mlflow_allowance.AllowanceClient` in plain records.

Reads only, and batched as ``select`` reads: per environment one ``select`` (one version search, one run
search per batch of run ids), one ``check`` and one ``history`` for the whole page, and one run search for
the parameters of the (at most three) versions compared. Nothing here writes to MLflow.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from mlflow_allowance._clock import now_ms
from mlflow_allowance._environments import validate_environment, validate_model_name
from mlflow_allowance.audit import ALIAS_KINDS, AuditRecord
from mlflow_allowance.errors import redact
from mlflow_allowance.outcomes import EffectiveAllowance, Violation, resolve_allowance
from mlflow_allowance.request import SelectionRequest
from mlflow_allowance.selection import Selection, Verdict

if TYPE_CHECKING:
    from mlflow_allowance._seam import RegisteredModel
    from mlflow_allowance.client import AllowanceClient

__all__ = [
    "MAX_POINTS",
    "Dashboard",
    "EnvironmentView",
    "Holder",
    "ParamsComparison",
    "Point",
    "gather",
    "thin",
]

#: Points per model beyond which the chart aggregates (each bucket keeps its lowest and highest value).
MAX_POINTS = 2000
#: Audit records that move an alias (the holder's "who, when, why").

#: Reads the logged parameters of runs: run id → {param: value}.
ParamsReader = Callable[[Sequence[str]], Mapping[str, Mapping[str, str]]]


@dataclass(frozen=True)
class Holder:
    """The version holding an environment's alias, and the record that put it there (if any)."""

    model: str
    version: int
    semver: str | None
    metric: float | None
    dataset: str | None
    moved_by: str | None = None
    moved_at: int | None = None
    reason: str | None = None
    kind: str | None = None

    @property
    def key(self) -> str:
        return f"{self.model}/{self.version}"


@dataclass(frozen=True)
class Point:
    """One version on the chart: registry version, creation time, metric, and where it stands."""

    model: str
    version: int
    created_at: int
    metric: float
    semver: str | None
    inside: bool
    holder: bool
    #: How many versions this point stands for (more than 1 once the chart aggregates).
    count: int = 1


@dataclass(frozen=True)
class ParamsComparison:
    """Logged parameters of the holder, the best version outside the allowance and the previous holder."""

    columns: tuple[tuple[str, str | None], ...]  # (role, "model/version" or None)
    rows: tuple[tuple[str, tuple[str | None, ...]], ...]  # (param, value per column)


@dataclass(frozen=True)
class EnvironmentView:
    """Everything the page shows about one environment."""

    name: str
    default: EffectiveAllowance
    overrides: tuple[EffectiveAllowance, ...]
    holders: tuple[Holder, ...]
    violations: tuple[Violation, ...]
    request: SelectionRequest | None
    selection: Selection | None
    points: tuple[Point, ...] = ()
    versions: int = 0
    params: ParamsComparison | None = None
    history: tuple[AuditRecord, ...] = ()

    @property
    def metric(self) -> str | None:
        return None if self.request is None else self.request.metric


@dataclass(frozen=True)
class Dashboard:
    """The whole page: where it was read from (credentials removed), when, and each environment."""

    tracking_uri: str
    generated_at: int
    environments: tuple[EnvironmentView, ...]
    timeline: tuple[AuditRecord, ...] = field(default=())
    checked: int = 0


def gather(
    client: AllowanceClient,
    *,
    environments: Sequence[str] | None = None,
    models: Sequence[str] | None = None,
    params: ParamsReader | None = None,
) -> Dashboard:
    """Read what the dashboard shows for ``environments`` (default: every one with an allowance or an
    audit record) and ``models`` (default: every model holding one of their aliases, with an override for
    them, or competing in their last promotion). ``params`` reads runs' parameters (default: the
    registry's ``run_params``, its batched run search)."""
    envs = [validate_environment(e) for e in environments] if environments else None
    wanted = {validate_model_name(m) for m in models} if models else None
    registered = [m for m in client.registered_models() if wanted is None or m.name in wanted]
    allowances = [
        a for a in client.list_allowances() if a.model is None or wanted is None or a.model in wanted
    ]
    timeline = [r for r in client.history() if wanted is None or r.model is None or _mentions(r, wanted)]
    if envs is None:
        # Environments the package knows of; other aliases (``champion``, say) are not environments.
        envs = sorted({a.environment for a in allowances} | {r.environment for r in timeline})
    if not envs:
        return Dashboard(redact(client.tracking_uri), now_ms(), ())
    report = client.check(envs[0] if len(envs) == 1 else None)
    reader = params if params is not None else client.run_params
    views = tuple(
        _environment(client, env, registered, allowances, timeline, report.violations, reader, wanted)
        for env in envs
    )
    shown = set(envs)
    return Dashboard(
        tracking_uri=redact(client.tracking_uri),
        generated_at=now_ms(),
        environments=views,
        timeline=tuple(r for r in timeline if r.environment in shown),
        checked=report.checked,
    )


def thin(points: Sequence[Point], limit: int = MAX_POINTS) -> list[Point]:
    """``points`` of one model, at most ``limit`` of them plus the holders: beyond it, consecutive versions
    are bucketed and each bucket keeps its lowest and highest metric inside the allowance and outside it;
    holders are always kept, and each kept point counts the versions it stands for.

    >>> many = [Point("m", v, 0, float(v % 7), "1.0", True, v == 5) for v in range(1, 10_001)]
    >>> few = thin(many, 100)
    >>> len(few) <= 101, any(p.holder for p in few), sum(p.count for p in few)
    (True, True, 10000)
    """
    if len(points) <= limit:
        return list(points)
    ordered = sorted(points, key=lambda p: p.version)
    # Each bucket keeps at most four points (lowest and highest, inside and outside the allowance).
    size = math.ceil(len(ordered) / max(1, limit // 4))
    kept: list[Point] = []
    for start in range(0, len(ordered), size):
        bucket = ordered[start : start + size]
        holders = [p for p in bucket if p.holder]
        others = [p for p in bucket if not p.holder]
        for inside in (True, False):
            group = [p for p in others if p.inside == inside]
            if not group:
                continue
            low = min(group, key=lambda p: p.metric)
            high = max(group, key=lambda p: p.metric)
            picks = [low] if low is high else [low, high]
            share = len(group) // len(picks)
            for index, pick in enumerate(picks):
                count = share + (len(group) - share * len(picks) if index == 0 else 0)
                kept.append(_with_count(pick, count))
        kept.extend(holders)
    return sorted(kept, key=lambda p: (p.version, p.holder))


# Internals ------------------------------------------------------------------------------------------------


def _environment(
    client: AllowanceClient,
    env: str,
    registered: Sequence[RegisteredModel],
    allowances: Sequence[EffectiveAllowance],
    timeline: Sequence[AuditRecord],
    violations: Sequence[Violation],
    reader: ParamsReader,
    wanted: set[str] | None,
) -> EnvironmentView:
    # The stored default is among the allowances already read; without one, the rule says what applies.
    stored = next((a for a in allowances if a.environment == env and a.model is None), None)
    default = stored if stored is not None else resolve_allowance(env, None, {})
    overrides = tuple(a for a in allowances if a.environment == env and a.model is not None)
    history = tuple(r for r in timeline if r.environment == env)
    last = next((r.request for r in history if r.kind == "promotion" and r.request is not None), None)
    names = [m.name for m in registered if env in m.aliases]
    names += [a.model for a in overrides if a.model is not None]
    names += list(last.models) if last is not None else []
    known = {m.name for m in registered}
    models = [n for n in dict.fromkeys(names) if n in known and (wanted is None or n in wanted)]
    mine = tuple(
        v
        for v in violations
        if v.environment == env and (wanted is None or v.model is None or v.model in wanted)
    )
    if not models:
        return EnvironmentView(env, default, overrides, (), mine, None, None, history=history)
    request = _request(models, last)
    selection = client.select(env, request)
    holders = tuple(_holders(env, selection, history, request))
    points = _points(env, selection)
    chart: list[Point] = []
    for name in models:
        chart.extend(thin([p for p in points if p.model == name]))
    return EnvironmentView(
        name=env,
        default=default,
        overrides=overrides,
        holders=holders,
        violations=mine,
        request=request,
        selection=selection,
        points=tuple(chart),
        versions=len(selection.candidates),
        params=_params(selection, holders, history, reader),
        history=history,
    )


def _request(models: Sequence[str], last: SelectionRequest | None) -> SelectionRequest:
    """What the environment's last promotion asked, over ``models``; the latest version without one."""
    if last is None:
        return SelectionRequest(models)
    return replace(last, models=tuple(models))


def _holders(
    env: str, selection: Selection, history: Sequence[AuditRecord], request: SelectionRequest
) -> Iterable[Holder]:
    dataset = None if request.dataset is None else str(request.dataset)
    for verdict in selection.candidates:
        candidate = verdict.candidate
        if env not in candidate.aliases:
            continue
        key = candidate.key
        record = next((r for r in history if r.kind in ALIAS_KINDS and r.new == key), None)
        yield Holder(
            model=candidate.name,
            version=candidate.version,
            semver=candidate.semver,
            metric=selection.policy.metric_of(candidate),
            dataset=dataset,
            moved_by=None if record is None else record.user,
            moved_at=None if record is None else record.time,
            reason=None if record is None else record.reason,
            kind=None if record is None else record.kind,
        )


def _inside(selection: Selection, verdict: Verdict) -> bool:
    """Whether the version's semantic version is inside the allowance of its model (the rule ``check``
    applies: a pre-release inside the range is inside)."""
    return selection.policy.inside(verdict.candidate.name, verdict.semver)


def _points(env: str, selection: Selection) -> list[Point]:
    points = []
    for verdict in selection.candidates:
        value = verdict.metric
        if value is None or not math.isfinite(value):
            continue
        candidate = verdict.candidate
        points.append(
            Point(
                model=candidate.name,
                version=candidate.version,
                created_at=candidate.created_at,
                metric=value,
                semver=candidate.semver,
                inside=_inside(selection, verdict),
                holder=env in candidate.aliases,
            )
        )
    return points


def _params(
    selection: Selection,
    holders: Sequence[Holder],
    history: Sequence[AuditRecord],
    reader: ParamsReader,
) -> ParamsComparison | None:
    by_key = {v.candidate.key: v for v in selection.candidates}
    holder = by_key.get(holders[0].key) if holders else None
    outside = _best_outside(selection, holder)
    previous = None
    if holder is not None:
        record = next(
            (r for r in history if r.kind in ALIAS_KINDS and r.new == holder.candidate.key and r.old), None
        )
        previous = by_key.get(record.old) if record is not None and record.old else None
    columns = (("holder", holder), ("best outside the allowance", outside), ("previous holder", previous))
    run_ids = [v.candidate.run_id for _, v in columns if v is not None and v.candidate.run_id]
    if not run_ids:
        return None
    found = reader(list(dict.fromkeys(run_ids)))
    values = [
        found.get(v.candidate.run_id, {}) if v is not None and v.candidate.run_id else {} for _, v in columns
    ]
    names = sorted({name for params in values for name in params})
    return ParamsComparison(
        columns=tuple((role, None if v is None else v.candidate.key) for role, v in columns),
        rows=tuple((name, tuple(params.get(name) for params in values)) for name in names),
    )


def _best_outside(selection: Selection, holder: Verdict | None) -> Verdict | None:
    """The version with the best metric whose semantic version the allowance excludes (the holder aside,
    which may be outside too after the allowance narrowed)."""
    policy = selection.policy
    outside = [
        v
        for v in selection.candidates
        if v.semver is not None
        and v.metric is not None
        and math.isfinite(v.metric)
        and not _inside(selection, v)
        and v is not holder
    ]
    if not outside:
        return None
    sign = 1.0 if policy.maximize else -1.0
    return max(outside, key=lambda v: (sign * (v.metric or 0.0), v.semver, v.candidate.version))


def _mentions(record: AuditRecord, models: set[str]) -> bool:
    if record.model in models:
        return True
    request = record.request
    return request is not None and bool(models.intersection(request.models))


def _with_count(point: Point, count: int) -> Point:
    return Point(
        point.model,
        point.version,
        point.created_at,
        point.metric,
        point.semver,
        point.inside,
        point.holder,
        count,
    )
