"""Selection judged on a fixed dataset, against real MLflow: real scikit-learn models scored by MLflow's own
evaluator on an sqlite store and on the live ``mlflow server``.

The models are trained once per module on scikit-learn's wine data and logged (with their signatures) into
each test's store. The data each test scores on is a CSV in ``tmp_path``: the rows the models never saw.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from mlflow.entities import ViewType
from mlflow.tracking import MlflowClient

import mlflow_allowance
from mlflow_allowance import AllowanceClient, DatasetRef, Evaluation, InputError, _evaluator
from mlflow_allowance._schema import (
    SCORE_DATASET,
    SCORE_DIGEST,
    SCORE_ERROR,
    SCORE_MODEL,
    SCORE_VERSION,
    SCORES_EXPERIMENT,
)
from mlflow_allowance.datasets import Score

from .conftest import MakeVersion, aliases_of, registry_state

pytestmark = pytest.mark.integration

TARGET = "target"
#: Tree models are saved with skops, which loads only the types it is told to trust.
TREE_TYPES = ["sklearn.tree._tree.Tree"]


# Training, once per module -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Wine:
    """scikit-learn's wine data as data frames with named columns: rows to train on, rows held out."""

    train: pd.DataFrame
    holdout: pd.DataFrame

    @property
    def features(self) -> list[str]:
        return [c for c in self.train.columns if c != TARGET]


@dataclass(frozen=True)
class Trained:
    """A fitted model, the rows it logs as its input example (its signature), and the F1 its training run
    logs (measured on the rows it was trained on)."""

    model: Any
    example: pd.DataFrame | None
    training_f1: float
    signature_columns: tuple[str, ...] = ()


@pytest.fixture(scope="module")
def wine() -> Wine:
    from sklearn.datasets import load_wine

    features, labels = load_wine(return_X_y=True, as_frame=True)
    frame = features.assign(**{TARGET: labels})
    train = frame.sample(frac=0.6, random_state=0)
    return Wine(train.reset_index(drop=True), frame.drop(train.index).reset_index(drop=True))


@pytest.fixture(scope="module")
def models(wine: Wine) -> dict[str, Trained]:
    """``good``: logistic regression, a little below perfect on its training rows and good on the holdout.
    ``overfit``: a tree that memorised 30 rows with shuffled labels, perfect on them and poor elsewhere.
    ``needs_batch``: a good model whose signature needs a ``batch`` column the holdout lacks.
    ``wrong_width``: fitted on all 13 features, its signature naming 5 of them: it raises when it predicts."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.tree import DecisionTreeClassifier

    features = wine.features

    def f1(model: Any, rows: pd.DataFrame, columns: list[str]) -> float:
        return float(f1_score(rows[TARGET], model.predict(rows[columns]), average="weighted"))

    good = LogisticRegression(max_iter=5000).fit(wine.train[features], wine.train[TARGET])
    noisy = wine.train.head(30).copy()
    noisy[TARGET] = noisy[TARGET].sample(frac=1, random_state=1).to_numpy()
    overfit = DecisionTreeClassifier(random_state=0).fit(noisy[features], noisy[TARGET])
    batched = wine.train.assign(batch=1.0)
    with_batch = [*features, "batch"]
    needs_batch = LogisticRegression(max_iter=5000).fit(batched[with_batch], batched[TARGET])
    wrong_width = LogisticRegression(max_iter=5000).fit(wine.train[features].to_numpy(), wine.train[TARGET])
    return {
        "good": Trained(good, wine.train[features].head(3), f1(good, wine.train, features)),
        "overfit": Trained(overfit, noisy[features].head(3), f1(overfit, noisy, features)),
        "needs_batch": Trained(
            needs_batch, batched[with_batch].head(3), f1(needs_batch, batched, with_batch)
        ),
        "wrong_width": Trained(wrong_width, None, 0.99, tuple(features[:5])),
    }


@dataclass
class Trainer:
    """Logs trained models into the store MLflow's current URIs name, and registers them with a semantic
    version as people do: ``mlflow_allowance.register_model``."""

    experiment_id: str

    def version(self, name: str, semver: str, trained: Trained) -> int:
        """Log ``trained`` in a training run of its F1 and register it as ``name`` at ``semver``."""
        import mlflow
        import mlflow.sklearn
        from mlflow.models import infer_signature

        tree = type(trained.model).__module__.startswith("sklearn.tree")
        signature = None
        if trained.example is None:
            signature = infer_signature(pd.DataFrame({c: [0.0] for c in trained.signature_columns}))
        with warnings.catch_warnings():
            # What MLflow says while it infers a signature; the models are what is under test here.
            warnings.filterwarnings("ignore", "Hint: Inferred schema contains integer column", UserWarning)
            warnings.filterwarnings("ignore", "Operation with range is deprecated")  # pandas 3, on MLflow
            warnings.filterwarnings("ignore", ".*Any type hint is inferred as AnyType", UserWarning)  # import
            with mlflow.start_run(experiment_id=self.experiment_id):
                mlflow.log_metric("F1", trained.training_f1)
                info = mlflow.sklearn.log_model(
                    trained.model,
                    name="model",
                    input_example=trained.example,
                    signature=signature,
                    pip_requirements=["scikit-learn"],
                    skops_trusted_types=TREE_TYPES if tree else None,
                )
        return mlflow_allowance.register_model(info.model_uri, name, semver=semver).version


@pytest.fixture
def trainer(tracking_uri: str, mlflow_client: MlflowClient, monkeypatch: pytest.MonkeyPatch) -> Trainer:
    """A trainer on the store under test, made MLflow's current one for the test (and put back after)."""
    from mlflow.tracking._model_registry import utils as registry_utils
    from mlflow.tracking._tracking_service import utils as tracking_utils

    monkeypatch.setattr(tracking_utils, "_tracking_uri", tracking_uri)
    monkeypatch.setattr(registry_utils, "_registry_uri", tracking_uri)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_uri)
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", tracking_uri)
    return Trainer(mlflow_client.create_experiment(f"training-{uuid.uuid4().hex[:8]}"))


@pytest.fixture
def dataset() -> str:
    """A dataset name no other test uses (the server's scores experiment is shared)."""
    return f"wine-holdout-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def holdout_csv(wine: Wine, tmp_path: Path) -> Path:
    path = tmp_path / "wine-holdout.csv"
    wine.holdout.to_csv(path, index=False)
    return path


def mlflow_dataset(frame: pd.DataFrame, name: str | None = None) -> Any:
    """``mlflow.data.from_pandas`` of ``frame`` with its target (quietly: MLflow's digest code warns on
    pandas 3)."""
    import mlflow.data

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Starting with pandas version 4.0 all arguments of all")
        return mlflow.data.from_pandas(frame, name=name, targets=TARGET)  # type: ignore[attr-defined]


# What was recorded -----------------------------------------------------------------------------------


def by_version(scores: Sequence[Score]) -> dict[int, Score]:
    return {score.version: score for score in scores}


def score_runs(client: MlflowClient, name: str) -> list[Any]:
    """Every run of the scores experiment about model ``name``, any status."""
    experiment = client.get_experiment_by_name(SCORES_EXPERIMENT)
    if experiment is None:
        return []
    return list(
        client.search_runs(
            [experiment.experiment_id],
            filter_string=f"tags.`{SCORE_MODEL}` = '{name}'",
            run_view_type=ViewType.ALL,
            max_results=1000,
        )
    )


def reasons(api: AllowanceClient, env: str, name: str, dataset: str) -> dict[int, str]:
    selection = api.select(env, name, metric="F1", dataset=dataset)
    return {verdict.candidate.version: verdict.reason for verdict in selection.candidates}


def evaluate(
    api: AllowanceClient, env: str, name: str, data: object, dataset: str, **options: Any
) -> Evaluation:
    return api.evaluate(env, name, data, target=TARGET, dataset=dataset, metrics=["F1"], **options)


# (a) the fixed dataset decides -------------------------------------------------------------------------


def test_the_fixed_dataset_decides_not_the_training_runs(
    api: AllowanceClient,
    mlflow_client: MlflowClient,
    env: str,
    unique_name: str,
    trainer: Trainer,
    models: dict[str, Trained],
    holdout_csv: Path,
    dataset: str,
) -> None:
    good, overfit = models["good"], models["overfit"]
    assert overfit.training_f1 > good.training_f1  # the premise: the training runs favour the overfit tree
    assert trainer.version(unique_name, "1.0", good) == 1
    assert trainer.version(unique_name, "1.1", overfit) == 2

    evaluation = evaluate(api, env, unique_name, holdout_csv, dataset)
    ref = evaluation.dataset.ref
    assert (ref.name, ref.pinned) == (dataset, True)
    assert (evaluation.dataset.target, evaluation.dataset.rows) == (TARGET, 71)
    assert (evaluation.dataset.model_type, evaluation.dataset.source) == ("classifier", str(holdout_csv))
    assert (evaluation.failed, evaluation.kept, evaluation.skipped) == ((), (), ())
    scored = by_version(evaluation.scored)
    assert sorted(scored) == [1, 2]
    best, worst = scored[1].metrics["f1_score"], scored[2].metrics["f1_score"]
    assert best > 0.9 > 0.5 > worst

    trained = api.select(env, unique_name, metric="F1").winner
    assert trained is not None
    assert trained.candidate.version == 2
    on_data = api.select(env, unique_name, metric="F1", dataset=dataset)
    assert on_data.policy.dataset == ref
    assert on_data.winner is not None
    assert (on_data.winner.candidate.version, on_data.winner.metric) == (1, best)
    assert on_data.winner.reason == f"winner: highest F1 ({best:.4g}) on {ref} within *"
    assert (
        reasons(api, env, unique_name, dataset)[2] == f"F1 {worst:.4g} is worse than the winner's {best:.4g}"
    )
    for pinned in (str(ref), ref):
        assert api.select(env, unique_name, metric="F1", dataset=pinned) == on_data

    promotion = api.promote(env, unique_name, metric="F1", dataset=dataset)
    assert (promotion.new, aliases_of(mlflow_client, unique_name)) == (f"{unique_name}/1", {env: 1})
    (record,) = api.history(env)
    assert record.request is not None
    assert record.request.dataset == DatasetRef(dataset)
    assert record.details["dataset"] == ref.to_dict()


def test_each_score_is_a_run_mlflow_shows_with_its_dataset(
    api: AllowanceClient,
    mlflow_client: MlflowClient,
    env: str,
    unique_name: str,
    trainer: Trainer,
    models: dict[str, Trained],
    holdout_csv: Path,
    dataset: str,
) -> None:
    trainer.version(unique_name, "1.0", models["good"])
    (score,) = evaluate(api, env, unique_name, holdout_csv, dataset).scored
    run = mlflow_client.get_run(str(score.run_id))
    assert run.info.status == "FINISHED"
    tags = run.data.tags
    assert (tags[SCORE_MODEL], tags[SCORE_VERSION]) == (unique_name, "1")
    assert (tags[SCORE_DATASET], tags[SCORE_DIGEST]) == (dataset, score.dataset.digest)
    assert run.data.metrics["f1_score"] == score.metrics["f1_score"]
    assert run.inputs is not None
    (logged,) = run.inputs.dataset_inputs
    assert (logged.dataset.name, logged.dataset.digest) == (dataset, score.dataset.digest)
    assert [info.ref for info in api.list_datasets() if info.ref.name == dataset] == [score.dataset]


def test_an_mlflow_dataset_is_scored_under_its_name_and_target(
    api: AllowanceClient,
    env: str,
    unique_name: str,
    trainer: Trainer,
    models: dict[str, Trained],
    wine: Wine,
    holdout_csv: Path,
    dataset: str,
) -> None:
    """An ``mlflow.data`` dataset names itself and its target; the CSV of its rows is the same content."""
    trainer.version(unique_name, "1.0", models["good"])
    evaluation = api.evaluate(env, unique_name, mlflow_dataset(wine.holdout, dataset), metrics=["F1"])
    assert (evaluation.dataset.ref.name, evaluation.dataset.target) == (dataset, TARGET)
    assert [s.version for s in evaluation.scored] == [1]
    from_csv = evaluate(api, env, unique_name, holdout_csv, dataset)
    assert (from_csv.dataset.ref, from_csv.scored, from_csv.kept) == (
        evaluation.dataset.ref,
        (),
        evaluation.scored,
    )


def test_select_on_the_mlflow_dataset_that_was_evaluated(
    api: AllowanceClient,
    env: str,
    unique_name: str,
    trainer: Trainer,
    models: dict[str, Trained],
    wine: Wine,
    dataset: str,
) -> None:
    """``select(dataset=<an mlflow.data dataset>)`` judges on the scores ``evaluate`` recorded for it (whose
    digest is not MLflow's own digest of the data)."""
    trainer.version(unique_name, "1.0", models["good"])
    data = mlflow_dataset(wine.holdout, dataset)
    (score,) = api.evaluate(env, unique_name, data, metrics=["F1"]).scored
    selection = api.select(env, unique_name, metric="F1", dataset=data)
    assert selection.policy.dataset == score.dataset
    assert selection.winner is not None
    assert selection.winner.metric == score.metrics["f1_score"]


def test_an_unfinished_or_stopped_score_counts_for_nothing(
    api: AllowanceClient,
    mlflow_client: MlflowClient,
    env: str,
    unique_name: str,
    trainer: Trainer,
    models: dict[str, Trained],
    holdout_csv: Path,
    dataset: str,
) -> None:
    """A score run left RUNNING (its process died), KILLED, or FAILED without an error (stopped) says nothing
    about its version: the version is scored again, and only what was computed counts."""
    trainer.version(unique_name, "1.0", models["good"])
    trainer.version(unique_name, "1.1", models["overfit"])
    # What evaluate will find the data's digest to be (prepare writes nothing).
    digest = _evaluator.prepare(holdout_csv, target=TARGET, name=dataset, model_type=None).info.ref.digest
    experiment = mlflow_client.get_experiment_by_name(SCORES_EXPERIMENT)
    experiment_id = (
        mlflow_client.create_experiment(SCORES_EXPERIMENT) if experiment is None else experiment.experiment_id
    )
    for version, status in ((2, "RUNNING"), (2, "KILLED"), (2, "FAILED"), (1, "RUNNING")):
        tags = {
            SCORE_MODEL: unique_name,
            SCORE_VERSION: str(version),
            SCORE_DATASET: dataset,
            SCORE_DIGEST: digest,
        }
        run = mlflow_client.create_run(experiment_id, tags=tags)
        mlflow_client.log_metric(run.info.run_id, "f1_score", 1.0)
        if status != "RUNNING":
            mlflow_client.set_terminated(run.info.run_id, status=status)
    assert api.select(env, unique_name, metric="F1", dataset=f"{dataset}@{digest}").winner is None

    evaluation = evaluate(api, env, unique_name, holdout_csv, dataset)
    assert evaluation.dataset.ref.digest == digest
    assert (sorted(by_version(evaluation.scored)), evaluation.kept) == ([1, 2], ())
    selection = api.select(env, unique_name, metric="F1", dataset=dataset)
    assert {v.candidate.version: v.metric for v in selection.candidates} == {
        s.version: s.metrics["f1_score"] for s in evaluation.scored
    }
    assert selection.winner is not None
    assert selection.winner.candidate.version == 1


# (b) nothing twice; new content afresh -----------------------------------------------------------------


def test_the_same_data_is_scored_once_and_new_content_afresh(
    api: AllowanceClient,
    mlflow_client: MlflowClient,
    env: str,
    unique_name: str,
    trainer: Trainer,
    models: dict[str, Trained],
    wine: Wine,
    holdout_csv: Path,
    tmp_path: Path,
    dataset: str,
) -> None:
    trainer.version(unique_name, "1.0", models["good"])
    trainer.version(unique_name, "1.1", models["overfit"])
    first = evaluate(api, env, unique_name, holdout_csv, dataset)
    old = first.dataset.ref

    again = evaluate(api, env, unique_name, holdout_csv, dataset)
    assert (again.scored, again.failed, again.skipped) == ((), (), ())
    assert by_version(again.kept) == by_version(first.scored)  # the same runs, read back
    assert again.dataset == first.dataset  # the record of when this content was first scored
    assert len(score_runs(mlflow_client, unique_name)) == 2

    changed = tmp_path / "wine-holdout-v2.csv"
    wine.holdout.iloc[::2].to_csv(changed, index=False)
    renewed = evaluate(api, env, unique_name, changed, dataset)
    new = renewed.dataset.ref
    assert (new.name, renewed.dataset.rows) == (dataset, 36)
    assert new.digest != old.digest
    assert (renewed.kept, renewed.failed) == ((), ())
    assert sorted(by_version(renewed.scored)) == [1, 2]  # every version in the allowance, again
    assert len(score_runs(mlflow_client, unique_name)) == 4

    old_f1 = by_version(first.scored)[1].metrics["f1_score"]
    new_f1 = by_version(renewed.scored)[1].metrics["f1_score"]
    assert old_f1 != new_f1  # the premise: the winner scores differently on the new rows
    by_name = api.select(env, unique_name, metric="F1", dataset=dataset)
    assert by_name.policy.dataset == new
    assert by_name.winner is not None
    assert (by_name.winner.candidate.version, by_name.winner.metric) == (1, new_f1)
    pinned = api.select(env, unique_name, metric="F1", dataset=str(old)).winner
    assert pinned is not None
    assert pinned.metric == old_f1
    assert [info.ref for info in api.list_datasets() if info.ref.name == dataset] == [new]


# (c) a version that cannot be scored -------------------------------------------------------------------


def test_a_version_that_cannot_be_scored_is_recorded_failed_and_never_wins(
    api: AllowanceClient,
    mlflow_client: MlflowClient,
    env: str,
    unique_name: str,
    trainer: Trainer,
    make_version: MakeVersion,
    models: dict[str, Trained],
    holdout_csv: Path,
    dataset: str,
) -> None:
    trainer.version(unique_name, "1.0", models["good"])
    make_version(unique_name, "1.1", metrics={"F1": 1.0})  # registered, but its run logged no model
    trainer.version(unique_name, "1.2", models["needs_batch"])
    trainer.version(unique_name, "1.3", models["wrong_width"])

    evaluation = evaluate(api, env, unique_name, holdout_csv, dataset)
    ref = evaluation.dataset.ref
    assert sorted(by_version(evaluation.scored)) == [1]
    failed = by_version(evaluation.failed)
    assert sorted(failed) == [2, 3, 4]
    assert all(not score.metrics for score in failed.values())
    assert failed[2].error is not None
    assert failed[2].error.startswith(f"cannot load models:/{unique_name}/2: ")
    assert failed[3].error == "the data lacks column(s) batch that the model's signature needs"
    assert failed[4].error is not None
    assert "5 features" in failed[4].error  # what scikit-learn said when it was asked to predict
    for score in failed.values():
        run = mlflow_client.get_run(str(score.run_id))
        assert (run.info.status, run.data.tags[SCORE_ERROR]) == ("FAILED", score.error)

    selection = api.select(env, unique_name, metric="F1", dataset=dataset)
    assert selection.winner is not None
    assert selection.winner.candidate.version == 1
    said = reasons(api, env, unique_name, dataset)
    for version in (2, 3, 4):
        assert said[version] == f"failed on {ref}: {failed[version].error}"

    again = evaluate(api, env, unique_name, holdout_csv, dataset)
    assert (again.scored, again.failed) == ((), ())
    assert by_version(again.kept) == {1: by_version(evaluation.scored)[1], **failed}
    assert len(score_runs(mlflow_client, unique_name)) == 4

    retried = evaluate(api, env, unique_name, holdout_csv, dataset, retry_failed=True)
    assert sorted(by_version(retried.failed)) == [2, 3, 4]
    assert {s.run_id for s in retried.failed}.isdisjoint(s.run_id for s in failed.values())
    assert [s.version for s in retried.kept] == [1]
    assert len(score_runs(mlflow_client, unique_name)) == 7
    newest = reasons(api, env, unique_name, dataset)  # the retried failures are the ones that count
    assert {v: newest[v] for v in (2, 3, 4)} == {
        s.version: f"failed on {ref}: {s.error}" for s in retried.failed
    }


# (d) bad input -----------------------------------------------------------------------------------------


def tracking_state(client: MlflowClient, name: str) -> dict[str, object]:
    """Every experiment (deleted ones too) with its tags, the runs of the experiments evaluate could write
    to, and what the registry and audit trail hold about ``name``."""
    experiments: list[tuple[str, str, tuple[tuple[str, str], ...]]] = []
    token = None
    while True:
        page = client.search_experiments(view_type=ViewType.ALL, max_results=1000, page_token=token)
        experiments.extend((e.name, e.lifecycle_stage, tuple(sorted(e.tags.items()))) for e in page)
        token = page.token
        if not token:
            break
    runs = {}
    for experiment_name in ("Default", SCORES_EXPERIMENT):
        experiment = client.get_experiment_by_name(experiment_name)
        if experiment is not None:
            found = client.search_runs(
                [experiment.experiment_id], run_view_type=ViewType.ALL, max_results=50000
            )
            runs[experiment_name] = sorted((r.info.run_id, r.info.status) for r in found)
    return {"experiments": sorted(experiments), "runs": runs, "registry": registry_state(client, name)}


BadData = Callable[[pd.DataFrame, Path], tuple[object, dict[str, Any]]]


def _csv(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False)
    return path


def _empty(path: Path) -> Path:
    path.write_bytes(b"")
    return path


BAD_DATA: list[Any] = [
    pytest.param(lambda h, d: (d / "missing.csv", {}), "cannot read data file", id="missing-file"),
    pytest.param(lambda h, d: (_empty(d / "empty.csv"), {}), "has no rows", id="empty-file"),
    pytest.param(lambda h, d: (_csv(h.head(0), d / "header.csv"), {}), "has no rows", id="header-only"),
    pytest.param(
        lambda h, d: (_csv(h.drop(columns=[TARGET]), d / "x.csv"), {}),
        "has no target column 'target'",
        id="no-target-column",
    ),
    pytest.param(
        lambda h, d: (_csv(h[h[TARGET] == 0], d / "x.csv"), {}),
        "target column 'target' has a single class (0); a classifier cannot be scored on it",
        id="single-class",
    ),
    pytest.param(
        lambda h, d: (_csv(h[h[TARGET] == 0], d / "x.csv"), {}),
        "target column 'target' has a single class",
        id="single-class-refused",
    ),
    pytest.param(
        lambda h, d: (_csv(h.assign(target=h[TARGET].where(h.index % 7 != 0)), d / "x.csv"), {}),
        "target column 'target' has 11 missing values",
        id="missing-labels",
    ),
    pytest.param(
        lambda h, d: (_csv(h[[TARGET]], d / "x.csv"), {}), "has no feature columns", id="target-only"
    ),
    pytest.param(lambda h, d: (_csv(h, d / "x.txt"), {}), "expected a .csv or .parquet file", id="suffix"),
    pytest.param(
        lambda h, d: (_csv(h, d / "x.csv"), {"metrics": ["rmse"]}), "Invalid metric 'rmse'", id="metric"
    ),
    pytest.param(lambda h, d: (_csv(h, d / "x.csv"), {"jobs": 0}), "Invalid jobs 0", id="jobs"),
    pytest.param(lambda h, d: (h, {"dataset": None}), "name the dataset", id="unnamed-frame"),
    pytest.param(
        lambda h, d: (h, {"dataset": "wine@0a64f9dd"}),
        "Invalid dataset 'wine@0a64f9dd': the data given has digest",
        id="pinned-name",
    ),
]


@pytest.mark.parametrize(("bad", "problem"), BAD_DATA)
def test_bad_input_is_an_input_error_and_writes_nothing(
    api: AllowanceClient,
    mlflow_client: MlflowClient,
    env: str,
    unique_name: str,
    make_version: MakeVersion,
    wine: Wine,
    tmp_path: Path,
    dataset: str,
    bad: BadData,
    problem: str,
) -> None:
    make_version(unique_name, "1.0")  # never loaded: bad input is refused before any model is
    data, options = bad(wine.holdout, tmp_path)
    options = {"target": TARGET, "dataset": dataset, "metrics": ["F1"], **options}
    before = tracking_state(mlflow_client, unique_name)
    with pytest.raises(InputError) as raised:
        api.evaluate(env, unique_name, data, **options)
    assert problem in str(raised.value)
    assert tracking_state(mlflow_client, unique_name) == before


def test_data_without_a_target_points_to_the_target_setting(wine: Wine) -> None:
    """The message names no CLI flag; the ``target`` hint is what the CLI renders as ``--target COL``."""
    with pytest.raises(InputError) as raised:
        _evaluator.prepare(wine.holdout, target=None, name="wine", model_type=None)
    assert str(raised.value) == "name the target column of data 'wine'"
    assert raised.value.hints == ("target",)


# (e) outside the allowance -----------------------------------------------------------------------------


def test_versions_outside_the_allowance_are_skipped_with_a_reason(
    api: AllowanceClient,
    mlflow_client: MlflowClient,
    env: str,
    unique_name: str,
    trainer: Trainer,
    make_version: MakeVersion,
    models: dict[str, Trained],
    holdout_csv: Path,
    dataset: str,
) -> None:
    trainer.version(unique_name, "1.0", models["good"])
    make_version(unique_name, "2.0")  # none of these has a model: loading one would fail
    make_version(unique_name, None)
    make_version(unique_name, "1.5rc1")
    api.set_allowance(env, "<2.0")
    evaluation = evaluate(api, env, unique_name, holdout_csv, dataset)
    assert [s.version for s in evaluation.scored] == [1]
    assert evaluation.failed == ()
    assert sorted(evaluation.skipped) == [
        (unique_name, 2, "2.0 is outside <2.0"),
        (unique_name, 3, "no semantic version"),
        (unique_name, 4, "1.5rc1 is a pre-release; <2.0 does not name one"),
    ]
    assert [r.data.tags[SCORE_VERSION] for r in score_runs(mlflow_client, unique_name)] == ["1"]
    assert reasons(api, env, unique_name, dataset)[2] == "2.0 is outside <2.0"


# (f) in parallel ---------------------------------------------------------------------------------------


def test_parallel_scoring_gives_the_same_scores(
    api: AllowanceClient,
    env: str,
    unique_name: str,
    trainer: Trainer,
    models: dict[str, Trained],
    holdout_csv: Path,
    dataset: str,
) -> None:
    trainer.version(unique_name, "1.0", models["good"])
    trainer.version(unique_name, "1.1", models["overfit"])
    progress: list[tuple[int, int]] = []
    serial = evaluate(
        api,
        env,
        unique_name,
        holdout_csv,
        f"{dataset}-serial",
        progress=lambda d, t, _: progress.append((d, t)),
    )
    parallel = evaluate(api, env, unique_name, holdout_csv, f"{dataset}-parallel", jobs=2)
    assert progress == [(1, 2), (2, 2)]
    assert serial.dataset.ref.digest == parallel.dataset.ref.digest  # one content, two names
    assert len(serial.scored) == len(parallel.scored) == 2
    assert {s.version: dict(s.metrics) for s in parallel.scored} == {
        s.version: dict(s.metrics) for s in serial.scored
    }
    assert len({s.run_id for s in (*serial.scored, *parallel.scored)}) == 4


@pytest.fixture(autouse=True)
def _no_leaked_run() -> Iterator[None]:
    """Scoring leaves no active run behind in this process."""
    import mlflow

    yield
    assert mlflow.active_run() is None


def test_evaluate_json_is_one_document_on_a_server_too(
    tracking_uri: str,
    unique_name: str,
    trainer: Trainer,
    models: dict[str, Trained],
    holdout_csv: Path,
    dataset: str,
    env: str,
) -> None:
    """Over HTTP, MLflow's end_run prints "View run ... at: URL" to stdout; none of it may reach --json."""
    import json

    from typer.testing import CliRunner

    from mlflow_allowance.cli import app

    trainer.version(unique_name, "1.0", models["good"])
    args = ["--tracking-uri", tracking_uri, "--registry-uri", tracking_uri, "evaluate", env]
    args += [
        "-m",
        unique_name,
        "--data",
        str(holdout_csv),
        "--target",
        TARGET,
        "--dataset",
        dataset,
        "--json",
    ]
    result = CliRunner().invoke(app, args, prog_name="mlflow-allowance")
    assert (result.exit_code, result.stderr) == (0, ""), (result.stdout, result.stderr, result.exception)
    document = json.loads(result.stdout)
    assert [(s["model"], s["version"]) for s in document["scored"]] == [(unique_name, 1)]
