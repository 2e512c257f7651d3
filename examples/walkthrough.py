"""The seed article's story, end to end, on an embedded sqlite MLflow store in a fresh temporary folder.

AImodel 1.0 runs in PROD, chosen by F1 on a fixed external dataset (``wine-holdout``: wines no training
job ever sees, scored by MLflow's own evaluator); retraining adds more 1.0 versions and promotion keeps the
best in PROD; new code is registered as 2.0 and goes to INT (``==2.0``) while PROD (``<=1.0``) keeps 1.0;
once INT's tests pass, ``mlflow allowance set prod "<=2.0"`` lets PROD move to 2.0; a rollback and a
roll-forward; a new model, MLmodel 1.0, competes for the PROD slot. Finally the external test set itself
changes (newly labelled wines join the hold-out, under the same name): every version PROD may run is
scored again on it, and the scores on the old content stop counting.

Pipelines mix the two faces, as real ones do: people and CI jobs type ``mlflow allowance ...``; the
training job calls the Python API. Run it with ``python3 scripts/dev.py walkthrough``.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shlex
import subprocess
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import mlflow.sklearn
import numpy as np
import pandas as pd
from sklearn import datasets
from sklearn.base import ClassifierMixin
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import mlflow_allowance as allowance
from mlflow_allowance.report import evaluation, explain, history_table, promotion_line, winner_line

#: The article's names for the wine data's 13 features, and its label column.
COLUMNS = [
    "Alcohol",
    "Malic acid",
    "Ash",
    "Alcalinity of ash",
    "Magnesium",
    "Total phenols",
    "Flavanoids",
    "Nonflavanoid phenols",
    "Proanthocyanins",
    "Color intensity",
    "Hue",
    "OD280/OD315 of diluted wines",
    "Proline",
]
TARGET = "class"
#: AImodel 1.0's code uses the six features of the first proof of concept; 2.0's code uses all 13.
V1_FEATURES = 6
#: The fixed external dataset every promotion is judged on: its name, and the file it is kept in.
DATASET = "wine-holdout"
HOLDOUT_CSV = f"{DATASET}.csv"
#: Wines in the first hold-out, and wines labelled later that join it in the last scenario.
HOLDOUT_ROWS = 45
LATER_ROWS = 45
SPLIT_SEED = 2
TRUSTED = ["sklearn.tree._tree.Tree"]


@dataclass(frozen=True)
class Wine:
    """The wine data, split once: what the training jobs see, and what they never do."""

    train: pd.DataFrame  # the training jobs' data (each splits off its own validation quarter)
    holdout: pd.DataFrame  # the fixed external test set
    later: pd.DataFrame  # wines labelled later, which join the hold-out in the last scenario


def load_data() -> Wine:
    """The article's data frame of the wine data, split into training data, hold-out and later wines."""
    wine = datasets.load_wine()
    data = pd.DataFrame(wine.data, columns=COLUMNS).assign(**{TARGET: wine.target})
    rest, holdout = train_test_split(
        data, test_size=HOLDOUT_ROWS, stratify=data[TARGET], random_state=SPLIT_SEED
    )
    train, later = train_test_split(
        rest, test_size=LATER_ROWS, stratify=rest[TARGET], random_state=SPLIT_SEED
    )
    return Wine(train, holdout, later)


def save_holdout(frame: pd.DataFrame) -> None:
    """Write the external dataset (all 13 features and the label) where every job reads it."""
    frame.to_csv(HOLDOUT_CSV, index=False)
    features = f"{len(COLUMNS)} features and {TARGET!r}"
    print(f"  saved {HOLDOUT_CSV}: {len(frame)} wines no training job sees, {features}")


def train_winedata(
    data: pd.DataFrame,
    model: ClassifierMixin,
    params: dict[str, Any],
    *,
    name: str,
    version: str,
    features: int,
) -> allowance.ModelVersionInfo:
    """The article's wrapper: fit on a split of ``data``, log hyperparameters, F1 and accuracy on the other
    quarter (the job's own validation split), tags and the model with its column signature; register it."""
    columns = COLUMNS[:features]
    fit, validation = train_test_split(data, stratify=data[TARGET], random_state=40)
    with mlflow.start_run():
        model.fit(fit[columns], fit[TARGET])
        predicted = model.predict(validation[columns])
        f1 = f1_score(validation[TARGET], predicted, average="weighted")
        mlflow.log_metric("F1", f1)
        mlflow.log_metric("Accuracy", accuracy_score(validation[TARGET], predicted))
        mlflow.log_params({**params, "features": features})
        mlflow.set_tags({"model_name": name, "model_version": version})
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            input_example=fit[columns].head(3),  # the signature names the columns the model reads
            skops_trusted_types=TRUSTED,
            pip_requirements=["scikit-learn"],
        )
    with contextlib.redirect_stderr(io.StringIO()):  # MLflow's own "Successfully registered ..." chatter
        registered = allowance.register_model(info.model_uri, name, semver=version)
    print(
        f"  trained {name} {version} {params} → registry version {registered.version}, "
        f"F1 {f1:.3f} on its own validation split"
    )
    return registered


def forest(n_estimators: int, max_features: float) -> tuple[ClassifierMixin, dict[str, Any]]:
    """The article's RandomForestClassifier with its two hyperparameters."""
    params = {"n_estimators": n_estimators, "max_features": max_features}
    return RandomForestClassifier(**params, random_state=0), params


def cli(*args: str) -> None:
    """Run ``mlflow allowance ...`` through MLflow's own ``mlflow`` executable, as a person would."""
    mlflow_exe = Path(sys.executable).with_name("mlflow")
    print(f"\n$ mlflow allowance {shlex.join(args)}")
    completed = subprocess.run(
        [str(mlflow_exe), "allowance", *args], capture_output=True, text=True, check=False
    )
    print(completed.stdout.rstrip())
    if completed.returncode:
        sys.exit(f"mlflow allowance {args[0]} failed ({completed.returncode}): {completed.stderr.strip()}")


def evaluate(environment: str, models: list[str]) -> allowance.Evaluation:
    """Score (Python API) the versions ``environment`` allows that have no score on the file's content yet."""
    result = allowance.evaluate(
        environment, models, HOLDOUT_CSV, target=TARGET, dataset=DATASET, metrics=["F1"]
    )
    print(
        f"\n>>> allowance.evaluate({environment!r}, {models!r}, {HOLDOUT_CSV!r}, target={TARGET!r}, "
        f"dataset={DATASET!r})"
    )
    print(evaluation(result))
    return result


def promote(environment: str, models: list[str], **options: Any) -> allowance.Promotion:
    """Promote on the dataset's F1 with the Python API and show the explain table, as the job's log would."""
    promotion = allowance.promote(environment, models, metric="F1", dataset=DATASET, **options)
    assert promotion.selection is not None
    print(f"\n>>> allowance.promote({environment!r}, {models!r}, metric='F1', dataset={DATASET!r})")
    print(explain(environment, promotion.selection))
    print(promotion_line(promotion))
    return promotion


def chapter(title: str) -> None:
    """A heading in the story's output."""
    print(f"\n{'=' * 100}\n{title}\n{'=' * 100}")


def main() -> None:
    """Tell the whole story in a fresh temporary folder."""
    workdir = Path(tempfile.mkdtemp(prefix="mlflow-allowance-walkthrough-"))
    os.chdir(workdir)
    # The embedded default store, made explicit so the CLI subprocesses share it.
    os.environ["MLFLOW_TRACKING_URI"] = "sqlite:///mlflow.db"
    os.environ.setdefault("MLFLOW_ALLOWANCE_USER", "walkthrough")
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", category=FutureWarning)  # the optional legacy-stage mirror
    # MLflow's hint on signatures with integer outputs (the predicted class): nothing here is ever missing.
    warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer column")
    np.random.seed(40)
    mlflow.set_experiment("WineClassifier")
    wine = load_data()
    print(f"Working in {workdir} on {os.environ['MLFLOW_TRACKING_URI']}")

    chapter("1. PROD may run AImodel <=1.0; the first AImodel 1.0 goes to PROD, chosen by F1 on the hold-out")
    save_holdout(wine.holdout)
    cli("set", "prod", "<=1.0")
    train_winedata(wine.train, *forest(1, 0.1), name="AImodel", version="1.0", features=V1_FEATURES)
    evaluate("prod", ["AImodel"])
    promote("prod", ["AImodel"], stage="Production")

    chapter("2. Periodic retraining adds more AImodel 1.0 versions; promotion keeps the best one in PROD")
    print("  (each training run's own F1 is on its own small validation split: the fixed hold-out decides)")
    train_winedata(wine.train, *forest(1, 0.5), name="AImodel", version="1.0", features=V1_FEATURES)
    evaluate("prod", ["AImodel"])
    promote("prod", ["AImodel"], stage="Production")
    train_winedata(wine.train, *forest(100, 0.5), name="AImodel", version="1.0", features=V1_FEATURES)
    evaluate("prod", ["AImodel"])
    promote("prod", ["AImodel"], stage="Production")

    chapter(
        "3. New code is registered as AImodel 2.0: INT (=2.0) scores and takes it, PROD (<=1.0) keeps 1.0"
    )
    train_winedata(wine.train, *forest(100, 0.5), name="AImodel", version="2.0", features=13)
    cli("set", "int", "=2.0")
    cli("promote", "int", "--model", "AImodel", "--metric", "F1", "--stage", "Staging", "--explain",
        "--evaluate", "--data", HOLDOUT_CSV, "--target", TARGET, "--dataset", DATASET)  # fmt: skip
    promote("prod", ["AImodel"], stage="Production")

    chapter('4. INT\'s tests passed: `mlflow allowance set prod "<=2.0"`, and PROD moves to the better 2.0')
    cli("set", "prod", "<=2.0")
    promote("prod", ["AImodel"], stage="Production")

    chapter("5. A problem is reported in PROD: roll back in one command, then roll forward again")
    cli("rollback", "prod", "--model", "AImodel")
    promote("prod", ["AImodel"], stage="Production")

    chapter("6. A completely new model, MLmodel 1.0, competes with AImodel for the PROD slot")
    challenger = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    train_winedata(wine.train, challenger, {"classifier": "LogisticRegression"}, name="MLmodel",
                   version="1.0", features=13)  # fmt: skip
    old = evaluate("prod", ["AImodel", "MLmodel"]).dataset.ref
    promote("prod", ["AImodel", "MLmodel"], stage="Production")

    chapter(f"7. The external test set changes: {LATER_ROWS} newly labelled wines join {DATASET}, same name")
    save_holdout(pd.concat([wine.holdout, wine.later]))
    print("\nINT's job scores its candidate on the file first: from now on the name means the new content")
    evaluate("int", ["AImodel"])
    print(f"\nFor PROD the scores on {old} no longer count: a version not scored again is not eligible")
    selection = allowance.select("prod", ["AImodel", "MLmodel"], metric="F1", dataset=DATASET)
    print(f">>> allowance.select('prod', ['AImodel', 'MLmodel'], metric='F1', dataset={DATASET!r})")
    print(explain("prod", selection))
    print("\nSo PROD's job scores every version PROD may run on the new content (what INT scored is kept)")
    evaluate("prod", ["AImodel", "MLmodel"])
    cli("datasets")
    print("\nThe old scores stay on record and still count when their digest is named:")
    pinned = allowance.select("prod", ["AImodel", "MLmodel"], metric="F1", dataset=str(old))
    print(f">>> allowance.select('prod', ['AImodel', 'MLmodel'], metric='F1', dataset={str(old)!r})")
    print(winner_line("prod", pinned))
    promote("prod", ["AImodel", "MLmodel"], stage="Production")

    chapter("8. The audit trail of PROD, a check of every environment, and the final state")
    print("\n>>> print(history_table(allowance.history('prod')))")
    print(history_table(allowance.history("prod")))
    cli("check")
    print("\nFinal state")
    for environment in ("prod", "int"):
        for name in ("AImodel", "MLmodel"):
            holder = _holder(name, environment)
            if holder is not None:
                print(f"FINAL {environment} {name}/{holder.version} {holder.semver}")
    for info in allowance.list_datasets():
        print(f"FINAL dataset {info.ref} {info.rows} rows (was {old})")

    chapter("9. The dashboard: every environment, its holder, chart, candidates and audit in one page")
    page = Path.cwd() / "dashboard.html"
    cli("dashboard", "--output", str(page))
    print(f"DASHBOARD {page}  (one self-contained file: open it in a browser, no server or network needed;")
    print("`mlflow allowance dashboard` serves the same page live on http://127.0.0.1:8765)")


def _holder(name: str, environment: str) -> allowance.ModelVersionInfo | None:
    client = mlflow.MlflowClient()
    version = client.get_registered_model(name).aliases.get(environment)
    return None if version is None else allowance.get_version(name, version)


if __name__ == "__main__":
    main()
