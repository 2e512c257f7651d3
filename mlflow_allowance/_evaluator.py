"""The scoring seam: loads evaluation data and scores model versions on it with MLflow's own evaluator.

It needs full MLflow (``mlflow.models.evaluate``, pandas, scikit-learn): the ``evaluate`` extra. Each
version is scored in a run of the scores experiment, created with tags naming the model version and the
dataset digest; the run ends ``FINISHED`` with the evaluator's metrics, or ``FAILED`` with the error that kept
the version from being scored. A run left ``RUNNING`` (its process died) counts for nothing, so the version
is scored again next time: the scores on record never disagree with what was computed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlflow_allowance._clock import now_ms
from mlflow_allowance._schema import (
    SCORE_DATASET,
    SCORE_DIGEST,
    SCORE_ERROR,
    SCORE_MODEL,
    SCORE_TARGET,
    SCORE_VERSION,
)
from mlflow_allowance.datasets import DatasetInfo, DatasetRef, Score
from mlflow_allowance.errors import InputError, MissingExtraError, redact, shown

__all__ = ["Prepared", "Progress", "prepare", "require_extra", "score_versions"]

#: ``progress(done, total, elapsed_seconds)``, called after each version is scored.
Progress = Callable[[int, int, float], None]
MODEL_TYPES = ("classifier", "regressor")
_ERROR_LIMIT = 500
_NO_URLS = "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"
_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def require_extra() -> None:
    """Raise :class:`MissingExtraError` naming the ``evaluate`` extra when what scoring needs is missing."""
    for module in ("pandas", "sklearn", "mlflow.models.evaluation", "mlflow.pyfunc"):
        try:
            with _quiet():  # MLflow's import-time warnings are not the user's business
                __import__(module)
        except ImportError as exc:
            raise MissingExtraError(
                f"scoring needs the evaluate extra (missing {exc.name or module}): "
                "pip install 'mlflow-allowance[evaluate]'"
            ) from None


@dataclass(frozen=True)
class Prepared:
    """Evaluation data checked and loaded: its record (pinned reference, source, target, rows, model type)
    and the data frame itself."""

    info: DatasetInfo
    frame: Any


def prepare(data: object, *, target: str | None, name: str | None, model_type: str | None) -> Prepared:
    """Load ``data`` (a CSV or Parquet path, a pandas DataFrame, or an ``mlflow.data`` dataset with a data
    frame) and check it can score models; :class:`InputError` with one line if not. Writes nothing."""
    require_extra()
    import pandas as pd

    source: str | None = None
    if isinstance(data, str | os.PathLike):
        path = Path(data)
        frame = _read(path)
        source = str(path.resolve())
        name = name or path.stem
    elif isinstance(data, pd.DataFrame):
        frame = data
        if not name:
            raise InputError("name the dataset (dataset='wine-holdout') when the data is a DataFrame")
    elif isinstance(getattr(data, "df", None), pd.DataFrame):  # an mlflow.data PandasDataset
        frame = data.df  # type: ignore[attr-defined]
        name = name or getattr(data, "name", None)
        target = target or getattr(data, "targets", None)
        data_source = getattr(data, "source", None)
        source = getattr(data_source, "uri", None) or getattr(data_source, "url", None)
    else:
        raise InputError(
            f"Invalid data {shown(data)}: expected a CSV or Parquet path, a pandas DataFrame or an "
            "mlflow.data dataset"
        )
    ref = DatasetRef(str(name))
    where = f"data {source or ref.name!r}"
    if not target:
        raise InputError(f"name the target column of {where}", hints=("target",))
    if len(frame) == 0:
        raise InputError(f"{where} has no rows")
    if target not in frame.columns:
        columns = ", ".join(str(c) for c in list(frame.columns)[:12])
        raise InputError(f"{where} has no target column {target!r} (columns: {columns})")
    if len(frame.columns) < 2:
        raise InputError(f"{where} has no feature columns besides the target {target!r}")
    labels = frame[target]
    if labels.isna().any():
        raise InputError(f"{where}: target column {target!r} has {int(labels.isna().sum())} missing values")
    kind = model_type or _infer_model_type(labels)
    if kind not in MODEL_TYPES:
        raise InputError(f"Invalid model type {shown(kind)}: expected classifier or regressor")
    if kind == "classifier" and labels.nunique() < 2:
        raise InputError(
            f"{where}: target column {target!r} has a single class ({labels.iloc[:1].tolist()[0]!r}); "
            "a classifier cannot be scored on it"
        )
    digest = _digest(frame, source, target, ref.name)
    info = DatasetInfo(ref.__class__(ref.name, digest), source or "", target, len(frame), kind, now_ms())
    return Prepared(info, frame)


def score_versions(
    versions: Sequence[tuple[str, int]],
    prepared: Prepared,
    *,
    tracking_uri: str,
    registry_uri: str,
    experiment_id: str,
    jobs: int = 1,
    artifacts: bool = False,
    progress: Progress | None = None,
) -> list[Score]:
    """Score each ``(model, version)`` on ``prepared`` in ``jobs`` worker processes (1: in this process).

    Returns one :class:`Score` per version, in the order they finished; a version that cannot be loaded or
    scored gives a failed score. Errors of the tracking server itself propagate.
    """
    started = time.perf_counter()
    total = len(versions)
    results: list[Score] = []

    def done(score: Score) -> None:
        results.append(score)
        if progress is not None:
            progress(len(results), total, time.perf_counter() - started)

    task = _Task(prepared, experiment_id, artifacts)
    # The first version is scored here in every case: MLflow records the dataset in the experiment on first
    # use without an upsert, so workers starting together on new data would race to insert it.
    serial = versions if jobs <= 1 or total <= 1 else versions[:1]
    # mlflow.models.evaluate takes no URI: it logs into the active run through MlflowClient(), on MLflow's
    # global URIs. So in this process they are swapped for these (under current_uris's lock) here, and only
    # here; a worker process sets them once, for itself (_start_worker).
    from mlflow_allowance._registry import current_uris  # imports mlflow: only once scoring starts

    with current_uris(tracking_uri, registry_uri):
        for model, version in serial:
            done(_score_one(task, model, version))
    if len(serial) == total:
        return results
    import multiprocessing

    context = multiprocessing.get_context("spawn")  # fork would copy MLflow's threads and locks
    with ProcessPoolExecutor(
        max_workers=min(jobs, total - 1),
        mp_context=context,
        initializer=_start_worker,
        initargs=(tracking_uri, registry_uri, task),  # the data crosses once per worker, not per version
    ) as pool:
        futures = [pool.submit(_score_in_worker, model, version) for model, version in versions[1:]]
        for future in as_completed(futures):
            done(future.result())
    return results


@dataclass(frozen=True)
class _Task:
    prepared: Prepared
    experiment_id: str
    artifacts: bool


def _score_one(task: _Task, model: str, version: int) -> Score:
    """Score one version in its own run of the scores experiment (see the module's docstring)."""
    import mlflow

    from mlflow_allowance._mlflow_errors import translated

    ref = task.prepared.info.ref
    tags = {
        SCORE_MODEL: model,
        SCORE_VERSION: str(version),
        SCORE_DATASET: ref.name,
        SCORE_DIGEST: str(ref.digest),
        SCORE_TARGET: task.prepared.info.target,
    }
    action = f"recording the score of {model}/{version} on {ref}"
    with _quiet():
        with translated(action):
            run = mlflow.start_run(
                experiment_id=task.experiment_id,
                run_name=f"{model}/{version} on {ref}"[:250],
                tags=tags,
                nested=mlflow.active_run() is not None,
            )
        run_id = run.info.run_id
        try:
            metrics = _evaluate(task, model, version)
        except Exception as exc:  # any failure of this version's model is recorded, never raised
            error = _describe(exc)
            with translated(action):
                mlflow.set_tag(SCORE_ERROR, error)
                mlflow.end_run("FAILED")
            return Score(model, version, ref, {}, error, run_id)
        except BaseException:  # interrupted: the run says so, and counts for nothing
            with contextlib.suppress(Exception):
                mlflow.end_run("KILLED")
            raise
        with translated(action):
            mlflow.end_run("FINISHED")
    return Score(model, version, ref, metrics, None, run_id)


def _evaluate(task: _Task, model: str, version: int) -> dict[str, float]:
    """Load ``models:/model/version`` and score it with ``mlflow.models.evaluate`` in the active run."""
    import mlflow
    import mlflow.pyfunc
    from mlflow.data.pandas_dataset import from_pandas

    info = task.prepared.info
    uri = f"models:/{model}/{version}"
    try:
        loaded = mlflow.pyfunc.load_model(uri)
    except Exception as exc:
        raise _Failure(f"cannot load {uri}: {_describe(exc)}") from None
    frame = _inputs(loaded, task.prepared.frame, info.target)
    dataset = from_pandas(
        frame,
        source=info.source or None,  # type: ignore[arg-type]  # None: MLflow finds the code's source
        targets=info.target,
        name=info.ref.name,
        digest=info.ref.digest,
    )
    try:
        for attempt in (1, 2):
            try:
                result = mlflow.models.evaluate(  # type: ignore[no-untyped-call]
                    loaded,
                    dataset,
                    model_type=info.model_type,
                    evaluators=_evaluators(info.model_type, task.artifacts),
                )
                break
            except Exception as exc:
                if attempt == 2 or not _lost_dataset_race(exc):
                    raise
    finally:
        clear = getattr(mlflow, "clear_active_model", None)  # MLflow 3 links the active run's model
        if clear is not None:
            clear()
    return {key: float(value) for key, value in result.metrics.items() if isinstance(value, int | float)}


def _lost_dataset_race(exc: Exception) -> bool:
    """Whether another process recorded the same dataset in the experiment at the same moment (MLflow inserts
    it without an upsert: sqlite, PostgreSQL and MySQL each word the duplicate differently)."""
    text = str(exc).lower()
    return "datasets" in text and ("unique" in text or "duplicate" in text)


class _Failure(Exception):
    """A version-level failure with a message already written for people."""


def _inputs(loaded: Any, frame: Any, target: str) -> Any:
    """The columns the model's signature names (and the target), when it has a column signature."""
    names: list[str] | None = None
    with contextlib.suppress(Exception):
        schema = loaded.metadata.get_input_schema()
        if schema is not None and schema.has_input_names():
            names = [str(n) for n in schema.input_names()]
    if not names:
        return frame
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise _Failure(f"the data lacks column(s) {', '.join(missing[:8])} that the model's signature needs")
    return frame[[*names, target]] if target not in names else frame[names]


_EVALUATORS: dict[str, str] = {}


def _evaluators(model_type: str, artifacts: bool) -> list[str] | None:
    """MLflow's evaluator for ``model_type`` with its plots and tables turned off (unless ``artifacts``).

    The metrics are MLflow's own; only the artifact logging, which costs ~1 s per version in matplotlib,
    is skipped. Feature-detected: where MLflow's layout differs, MLflow's default evaluators are used.
    """
    if artifacts:
        return None
    if model_type in _EVALUATORS:
        return [_EVALUATORS[model_type]]
    try:
        from mlflow.models.evaluation.evaluator_registry import _model_evaluation_registry as registry
    except ImportError:
        return None
    base = registry._registry.get(model_type) or registry._registry.get("default")
    if base is None or not hasattr(base, "_log_image_artifact"):
        return None

    def skip(self: Any, *args: Any, **kwargs: Any) -> None:
        return None

    name = f"mlflow_allowance_{model_type}"
    overrides = dict.fromkeys(("_log_image_artifact", "_log_pandas_df_artifact", "log_eval_table"), skip)
    registry.register(  # type: ignore[no-untyped-call]
        name, type(f"MetricsOnly{base.__name__}", (base,), overrides)
    )
    _EVALUATORS[model_type] = name
    return [name]


def _read(path: Path) -> Any:
    import pandas as pd

    kind = _SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise InputError(f"Invalid data file {str(path)!r}: expected a .csv or .parquet file")
    try:
        with _quiet():
            return pd.read_csv(path) if kind == "csv" else pd.read_parquet(path)
    except pd.errors.EmptyDataError:
        raise InputError(f"data {str(path)!r} has no rows") from None
    except (OSError, ValueError, ImportError) as exc:
        raise InputError(f"cannot read data file {str(path)!r}: {_describe(exc)}") from None


def _infer_model_type(labels: Any) -> str:
    """``regressor`` for a float target with non-integer values, else ``classifier``."""
    if labels.dtype.kind == "f" and not (labels == labels.round()).all():
        return "regressor"
    return "classifier"


def _digest(frame: Any, source: str | None, target: str, name: str) -> str:
    """A digest of the whole data: every row and column, the column names and types, and the target.

    MLflow's own dataset digest hashes only the first 10,000 rows and skips columns of mixed or boolean
    type, so changed data could keep its digest and old scores would keep counting. This one is passed to
    MLflow as the dataset's digest (``from_pandas(..., digest=...)``), so its UI shows the same id. Data
    pandas cannot hash (cells holding lists, say) falls back to MLflow's digest.
    """
    import hashlib

    import pandas as pd

    hasher = hashlib.sha256()
    hasher.update(repr([(str(c), str(t)) for c, t in frame.dtypes.items()]).encode())
    hasher.update(target.encode())
    try:
        hasher.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    except TypeError:
        from mlflow.data.pandas_dataset import from_pandas

        with _quiet():
            dataset = from_pandas(frame, source=source, targets=target, name=name)  # type: ignore[arg-type]
        hasher.update(str(dataset.digest).encode())
    return hasher.hexdigest()[:8]


def _describe(exc: BaseException) -> str:
    if isinstance(exc, _Failure):
        return redact(str(exc))[:_ERROR_LIMIT]
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    return redact(text)[:_ERROR_LIMIT]


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """MLflow's warnings and INFO lines are its own business while it scores: keep them off stderr, and its
    "View run ... at: URL" lines (printed to stdout by ``end_run`` over HTTP) out of ``--json`` output."""
    logger = logging.getLogger("mlflow")
    level = logger.level
    if not os.environ.get("MLFLOW_ALLOWANCE_DEBUG"):
        logger.setLevel(max(logger.getEffectiveLevel(), logging.WARNING + 1))
    saved = os.environ.get(_NO_URLS)
    os.environ[_NO_URLS] = "true"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)
        if saved is None:
            os.environ.pop(_NO_URLS, None)
        else:
            os.environ[_NO_URLS] = saved


_WORKER_TASK: _Task | None = None


def _start_worker(tracking_uri: str, registry_uri: str, task: _Task) -> None:
    import mlflow

    global _WORKER_TASK
    _WORKER_TASK = task
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(registry_uri)


def _score_in_worker(model: str, version: int) -> Score:
    assert _WORKER_TASK is not None, "a worker scores only after _start_worker"
    return _score_one(_WORKER_TASK, model, version)
