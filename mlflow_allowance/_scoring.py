"""Scoring orchestration: which versions to score on a fixed dataset, scoring them, keeping the record.

``evaluate`` judges the versions an environment allows, scores (through the scoring seam,
``_evaluator``) those without a score on the data's digest, and moves the dataset's name to that content;
``promote`` with data to evaluate first does this, then promotes on the content just scored.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from mlflow_allowance.datasets import EVALUATOR_METRICS, DatasetRef, Score, evaluator_metric
from mlflow_allowance.errors import InputError, shown
from mlflow_allowance.outcomes import Evaluation

if TYPE_CHECKING:
    from mlflow_allowance._seam import ScoreStore, ScoringTarget
    from mlflow_allowance.selection import Selection

__all__ = ["Progress", "check_jobs", "dataset_ref", "score"]

#: ``progress(done, total, seconds)``, called after each version is scored.
Progress = Callable[[int, int, float], None]


def check_jobs(jobs: object) -> int:
    """``jobs``, checked to be a number of worker processes (at least 1)."""
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise InputError(f"Invalid jobs {shown(jobs)}: expected a whole number of processes, at least 1")
    return jobs


def score(
    registry: ScoreStore,
    target: ScoringTarget,
    environment: str,
    models: Sequence[str],
    select: Callable[[], Selection],
    data: object,
    *,
    label: str | None,
    dataset: str | DatasetRef | None,
    metrics: Sequence[str],
    model_type: str | None,
    retry_failed: bool,
    jobs: int,
    artifacts: bool,
    progress: Progress | None,
) -> Evaluation:
    """Score the versions ``select()`` finds eligible that have no score on ``data`` yet (see
    :meth:`~mlflow_allowance.AllowanceClient.evaluate`); bad data raises before anything is written."""
    from mlflow_allowance import _evaluator

    ref = None if dataset is None else DatasetRef.of(dataset)
    prepared = _evaluator.prepare(
        data, target=label, name=None if ref is None else ref.name, model_type=model_type
    )
    info = prepared.info
    if ref is not None and ref.pinned and ref != info.ref:
        where = f"the data in {str(data)!r}" if isinstance(data, str | os.PathLike) else "the data given"
        raise InputError(
            f"Invalid dataset {str(ref)!r}: {where} has digest {info.ref.digest}, not {ref.digest} (name the "
            "dataset without @DIGEST to score this content)"
        )
    _check_metrics(metrics, info.model_type)
    selection = select()
    current = registry.dataset(info.ref.name)  # first: it finds the scores experiment for the next read
    on_record = registry.scores(info.ref, models)
    to_score: list[tuple[str, int]] = []
    kept: list[Score] = []
    skipped: list[tuple[str, int, str]] = []
    for verdict in selection.candidates:
        candidate = verdict.candidate
        if not verdict.eligible:
            skipped.append((candidate.name, candidate.version, verdict.reason))
            continue
        found = on_record.get((candidate.name, candidate.version))
        if found is not None and not (found.failed and retry_failed):
            kept.append(found)
        else:
            to_score.append((candidate.name, candidate.version))
    scores: list[Score] = []
    if to_score:
        experiment_id = target.scores_experiment(create=True)
        assert experiment_id is not None  # created when missing
        scores = _evaluator.score_versions(
            sorted(to_score),
            prepared,
            tracking_uri=target.tracking_uri,
            registry_uri=target.registry_uri,
            experiment_id=experiment_id,
            jobs=jobs,
            artifacts=artifacts,
            progress=progress,
        )
    # The name moves to this content only once something is on record for it (a call that scored
    # nothing new keeps the record of when the content was first scored).
    if scores or (kept and (current is None or current.ref != info.ref)):
        registry.save_dataset(info)
    elif current is not None and current.ref == info.ref:
        info = current
    scores.sort(key=lambda s: (s.model, s.version))
    kept.sort(key=lambda s: (s.model, s.version))
    skipped.sort(key=lambda item: (item[0], item[1]))
    return Evaluation(
        environment,
        info,
        scored=tuple(s for s in scores if not s.failed),
        failed=tuple(s for s in scores if s.failed),
        kept=tuple(kept),
        skipped=tuple(skipped),
    )


def dataset_ref(value: object) -> DatasetRef:
    """A reference to ``value``; an ``mlflow.data`` dataset holding a data frame is identified by the
    digest :func:`score` gives the same data (MLflow's own digest differs)."""
    frame = getattr(value, "df", None)
    if frame is not None and not isinstance(value, str | DatasetRef):
        from mlflow_allowance import _evaluator

        prepared = _evaluator.prepare(value, target=None, name=None, model_type=None)
        return prepared.info.ref
    return DatasetRef.of(value)


def _check_metrics(metrics: Sequence[str], model_type: str) -> None:
    """Each requested metric must be one MLflow's evaluator for ``model_type`` logs."""
    if isinstance(metrics, str):
        metrics = [metrics]
    logged = EVALUATOR_METRICS[model_type]
    for name in metrics:
        if evaluator_metric(name) not in logged:
            raise InputError(
                f"Invalid metric {shown(name)}: MLflow's {model_type} evaluator logs "
                f"{', '.join(sorted(logged))} (F1, accuracy, rmse, ... name them too)"
            )
