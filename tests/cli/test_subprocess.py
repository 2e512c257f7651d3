"""Real processes: ``python -m mlflow_allowance`` with the repository on PYTHONPATH, against sqlite.

What CliRunner cannot show: the exit status the shell sees, that stderr holds exactly one line (no MLflow log
lines, no warnings), and what a bad argument costs (MLflow is never imported). Each process that imports
MLflow costs seconds, so there are few; the in-process tests cover the rest.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import USER

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]


def _environ(extra: dict[str, str] | None = None) -> dict[str, str]:
    environ = {key: value for key, value in os.environ.items() if not key.startswith(("MLFLOW_", "PYTEST_"))}
    environ.update(PYTHONPATH=str(REPO), MLFLOW_ALLOWANCE_USER=USER, **(extra or {}))
    return environ


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=_environ(env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_bad_input_fails_fast_without_importing_mlflow(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from mlflow_allowance.cli import main\n"
        "try:\n"
        "    main()\n"
        "finally:\n"
        "    print(sorted(m for m in sys.modules if m.split('.')[0] in ('mlflow', 'sklearn', 'pandas')))\n"
    )
    done = run(["-c", code, "set", "prod", "<=abc"], tmp_path)
    assert done.returncode == 2
    assert done.stdout == "[]\n"
    assert done.stderr.startswith("Error: Invalid allowance '<=abc': expected ")
    assert len(done.stderr.splitlines()) == 1
    assert not list(tmp_path.iterdir()), "nothing written, not even an empty mlflow.db"


def test_prog_name_in_usage(tmp_path: Path) -> None:
    done = run(["-m", "mlflow_allowance", "get"], tmp_path)
    assert done.returncode == 2
    assert done.stderr == "Error: Missing argument 'ENV'. (see python -m mlflow_allowance get --help)\n"


#: Processes that import MLflow (seconds each), so they run side by side; see ``finished``.
CASES: dict[str, tuple[list[str], int, str, str]] = {
    "get-0": (["get", "prod"], 0, "<=1.0\n", ""),
    "no-eligible-1": (
        ["promote", "prod", "--model", "Other"],
        1,
        "",
        "Error: no eligible candidate for prod among Other (latest semantic version within <=1.0); "
        "@prod is unchanged; run with --explain to see why\n",
    ),
}


@pytest.fixture(scope="module")
def finished(
    promoted_db: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, subprocess.CompletedProcess[str]]:
    """Every CASES process, started at once against its own copy of the promoted store."""
    started = {}
    for case, (args, *_) in CASES.items():
        cwd = tmp_path_factory.mktemp(case)
        shutil.copyfile(promoted_db, cwd / "mlflow.db")
        env = {"MLFLOW_TRACKING_URI": f"sqlite:///{cwd / 'mlflow.db'}"}
        argv = [sys.executable, "-m", "mlflow_allowance", *args]
        started[case] = subprocess.Popen(
            argv, cwd=cwd, env=_environ(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    done = {}
    for case, process in started.items():
        stdout, stderr = process.communicate(timeout=180)
        done[case] = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    return done


@pytest.mark.parametrize("case", list(CASES))
def test_exit_status_and_at_most_one_line_on_stderr(
    finished: dict[str, subprocess.CompletedProcess[str]], case: str
) -> None:
    _, status, stdout, stderr = CASES[case]
    done = finished[case]
    assert (done.returncode, done.stdout) == (status, stdout), done.stderr
    assert done.stderr.startswith(stderr)
    assert len(done.stderr.splitlines()) == (1 if stderr else 0), done.stderr


#: Runs the CLI with pandas made unimportable (as on a base install, where only mlflow-skinny is present).
_WITHOUT_PANDAS = (
    "import sys\n"
    "sys.modules['pandas'] = None\n"
    "from mlflow_allowance.cli import main\n"
    "try:\n"
    "    main()\n"
    "finally:\n"
    "    print('pandas imported' if sys.modules.get('pandas') is not None else 'no pandas')\n"
)


def test_evaluate_without_the_extra_names_it_in_one_line(promoted_db: Path, tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    shutil.copyfile(promoted_db, store)
    data = tmp_path / "holdout.csv"
    data.write_text("a,y\n1,0\n2,1\n")
    args = ["evaluate", "prod", "-m", "AImodel", "--data", str(data), "--target", "y"]
    done = run(["-c", _WITHOUT_PANDAS, *args], tmp_path, {"MLFLOW_TRACKING_URI": f"sqlite:///{store}"})
    assert done.returncode == 2, done.stderr
    assert done.stderr == (
        "Error: scoring needs the evaluate extra (missing pandas): pip install 'mlflow-allowance[evaluate]'\n"
    )


def test_select_on_a_dataset_needs_no_pandas(promoted_db: Path, tmp_path: Path) -> None:
    from mlflow.tracking import MlflowClient

    from mlflow_allowance import DatasetRef
    from mlflow_allowance._registry import Registry
    from mlflow_allowance._schema import SCORE_DATASET, SCORE_DIGEST, SCORE_MODEL, SCORE_VERSION
    from mlflow_allowance.datasets import DatasetInfo

    store = tmp_path / "store.db"
    shutil.copyfile(promoted_db, store)
    uri = f"sqlite:///{store}"
    ref = DatasetRef("holdout", "0a64f9dd")
    registry = Registry(uri, uri)
    experiment_id = registry.scores_experiment(create=True)
    assert experiment_id is not None
    client = MlflowClient(uri, uri)
    for version, f1 in ((1, 0.7), (2, 0.9)):
        tags = {
            SCORE_MODEL: "AImodel",
            SCORE_VERSION: str(version),
            SCORE_DATASET: "holdout",
            SCORE_DIGEST: ref.digest,
        }
        run_id = client.create_run(experiment_id, tags=tags).info.run_id
        client.log_metric(run_id, "f1_score", f1)
        client.set_terminated(run_id)
    registry.save_dataset(DatasetInfo(ref, "holdout.csv", "y", 2, "classifier", 0))
    args = ["select", "prod", "-m", "AImodel", "--metric", "F1", "--dataset", "holdout"]
    done = run(["-c", _WITHOUT_PANDAS, *args], tmp_path, {"MLFLOW_TRACKING_URI": uri})
    assert done.returncode == 0, done.stderr
    winner = "prod: AImodel/2 (version 1.0) — winner: highest F1 (0.9) on holdout@0a64f9dd within <=1.0"
    assert done.stdout == f"{winner}\nno pandas\n"
