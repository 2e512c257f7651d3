"""The seed article's story, end to end, on an embedded sqlite MLflow store in a fresh temporary folder.

AImodel 1.0 runs in PROD, chosen by F1 on a fixed held-out set; retraining adds more 1.0 versions and
promotion keeps the best in PROD; new code is registered as 2.0 and goes to INT (``==2.0``) while PROD
(``<=1.0``) keeps 1.0; once INT's tests pass, ``mlflow allowance set prod "<=2.0"`` lets PROD move to 2.0;
a rollback and a roll-forward; finally a new model, MLmodel 1.0, competes for the PROD slot.

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
from pathlib import Path
from typing import Any

import mlflow
import mlflow.sklearn
import numpy as np
from sklearn import datasets
from sklearn.base import ClassifierMixin
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import mlflow_allowance as allowance
from mlflow_allowance.report import explain, history_table, promotion_line

#: AImodel 1.0's code uses the six features of the first proof of concept; 2.0's code uses all 13.
V1_FEATURES = 6
TRUSTED = ["sklearn.tree._tree.Tree"]


def load_data() -> tuple[Any, Any, Any, Any]:
    """The wine data, split once: the held-out quarter is the fixed external test set every model faces."""
    wine = datasets.load_wine()
    x_train, x_test, y_train, y_test = train_test_split(
        wine.data, wine.target, stratify=wine.target, random_state=40
    )
    return x_train, x_test, y_train, y_test


def train_winedata(
    data: tuple[Any, Any, Any, Any],
    model: ClassifierMixin,
    params: dict[str, Any],
    *,
    name: str,
    version: str,
    features: int,
) -> allowance.ModelVersionInfo:
    """Fit, log hyperparameters, F1 and accuracy on the fixed test set, tags and the model; register it."""
    x_train, x_test, y_train, y_test = data
    with mlflow.start_run():
        model.fit(x_train[:, :features], y_train)
        predicted = model.predict(x_test[:, :features])
        f1 = f1_score(y_test, predicted, average="weighted")
        mlflow.log_metric("F1", f1)
        mlflow.log_metric("Accuracy", accuracy_score(y_test, predicted))
        mlflow.log_params({**params, "features": features})
        mlflow.set_tags({"model_name": name, "model_version": version})
        info = mlflow.sklearn.log_model(
            model, name="model", skops_trusted_types=TRUSTED, pip_requirements=["scikit-learn"]
        )
    with contextlib.redirect_stderr(io.StringIO()):  # MLflow's own "Successfully registered ..." chatter
        registered = allowance.register_model(info.model_uri, name, semver=version)
    print(f"  trained {name} {version} {params} → registry version {registered.version}, F1 {f1:.3f}")
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


def promote(environment: str, models: list[str], **options: Any) -> allowance.Promotion:
    """Promote with the Python API and show the explain table, as the training job's log would."""
    promotion = allowance.promote(environment, models, metric="F1", **options)
    assert promotion.selection is not None
    print(f"\n>>> allowance.promote({environment!r}, {models!r}, metric='F1')")
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
    np.random.seed(40)
    mlflow.set_experiment("WineClassifier")
    data = load_data()
    print(f"Working in {workdir} on {os.environ['MLFLOW_TRACKING_URI']}")

    chapter("1. PROD may run AImodel <=1.0; the first AImodel 1.0 goes to PROD, chosen by F1")
    cli("set", "prod", "<=1.0")
    train_winedata(data, *forest(1, 0.1), name="AImodel", version="1.0", features=V1_FEATURES)
    promote("prod", ["AImodel"], stage="Production")

    chapter("2. Periodic retraining adds more AImodel 1.0 versions; promotion keeps the best one in PROD")
    train_winedata(data, *forest(1, 0.5), name="AImodel", version="1.0", features=V1_FEATURES)
    promote("prod", ["AImodel"], stage="Production")
    train_winedata(data, *forest(100, 0.5), name="AImodel", version="1.0", features=V1_FEATURES)
    promote("prod", ["AImodel"], stage="Production")

    chapter("3. New code is registered as AImodel 2.0: INT (=2.0) takes it, PROD (<=1.0) keeps 1.0")
    train_winedata(data, *forest(100, 0.5), name="AImodel", version="2.0", features=13)
    cli("set", "int", "=2.0")
    cli("promote", "int", "--model", "AImodel", "--metric", "F1", "--stage", "Staging", "--explain")
    promote("prod", ["AImodel"], stage="Production")

    chapter('4. INT\'s tests passed: `mlflow allowance set prod "<=2.0"`, and PROD moves to the better 2.0')
    cli("set", "prod", "<=2.0")
    promote("prod", ["AImodel"], stage="Production")

    chapter("5. A problem is reported in PROD: roll back in one command, then roll forward again")
    cli("rollback", "prod", "--model", "AImodel")
    promote("prod", ["AImodel"], stage="Production")

    chapter("6. A completely new model, MLmodel 1.0, competes with AImodel for the PROD slot")
    challenger = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    train_winedata(data, challenger, {"classifier": "LogisticRegression"}, name="MLmodel", version="1.0",
                   features=13)  # fmt: skip
    promote("prod", ["AImodel", "MLmodel"], stage="Production")

    chapter("7. The audit trail of PROD, a check of every environment, and the final state")
    print("\n>>> print(history_table(allowance.history('prod')))")
    print(history_table(allowance.history("prod")))
    cli("check")
    print("\nFinal state")
    for environment in ("prod", "int"):
        for name in ("AImodel", "MLmodel"):
            holder = _holder(name, environment)
            if holder is not None:
                print(f"FINAL {environment} {name}/{holder.version} {holder.semver}")


def _holder(name: str, environment: str) -> allowance.ModelVersionInfo | None:
    client = mlflow.MlflowClient()
    version = client.get_registered_model(name).aliases.get(environment)
    return None if version is None else allowance.get_version(name, version)


if __name__ == "__main__":
    main()
