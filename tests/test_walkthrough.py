"""The README's main job: the seed's story ends with PROD and INT where the story says, every promotion made
on the fixed external dataset, and the last one on its new content."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MLFLOW = Path(sys.executable).with_name("mlflow")
DATASET = "wine-holdout"


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.skipif(
    not MLFLOW.exists(),
    reason="needs MLflow's own `mlflow` executable beside this interpreter (the package installed in a venv)",
)
def test_walkthrough_tells_the_whole_story(tmp_path: Path) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    env.pop("MLFLOW_TRACKING_URI", None)
    completed = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "walkthrough.py")],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    out = completed.stdout
    assert completed.returncode == 0, completed.stderr[-3000:]
    # The story's milestones, in order: PROD on 1.0, INT scores and takes 2.0, PROD widened and moved,
    # rollback, MLmodel takes PROD on the hold-out, the hold-out grows, PROD re-scored and back on 2.0.
    milestones = [
        "prod: set <=1.0",
        "@prod nothing → AImodel/1",
        "@prod already on AImodel/1",
        "@prod AImodel/1 → AImodel/3",
        "int: set ==2.0",
        "1 scored, 0 kept, 0 failed, 3 skipped",  # promote int --evaluate scores only what ==2.0 allows
        "@int nothing → AImodel/4 (stage Staging)",
        "2.0 is outside <=1.0",
        "prod: widened <=1.0 → <=2.0",
        "@prod AImodel/3 → AImodel/4",
        "rolled back @prod AImodel/4 → AImodel/3",
        "@prod AImodel/4 → MLmodel/1",
        f"no F1 on {DATASET}@",  # the scores on the old content no longer count
        "4 scored, 1 kept, 0 failed, 0 skipped",  # PROD re-scores all but what INT scored already
        "@prod MLmodel/1 → AImodel/4",
        "ok: 2 environment aliases checked",
    ]
    positions = [out.find(milestone) for milestone in milestones]
    assert all(p >= 0 for p in positions), [m for m, p in zip(milestones, positions, strict=True) if p < 0]
    assert positions == sorted(positions)
    final = re.findall(r"^FINAL (\S+) (\S+) (\S+)$", out, flags=re.MULTILINE)
    assert final == [("prod", "AImodel/4", "2.0"), ("int", "AImodel/4", "2.0")]
    found = re.findall(rf"^FINAL dataset {DATASET}@(\w+) (\d+) rows \(was {DATASET}@(\w+)\)$", out, re.M)
    assert len(found) == 1, out[-2000:]
    new, rows, old = found[0]
    assert new != old
    assert rows == "90"

    workdir = Path(re.findall(r"^Working in (\S+) on ", out, flags=re.MULTILINE)[0])
    (page,) = re.findall(r"^DASHBOARD (\S+) ", out, flags=re.MULTILINE)
    assert Path(page) == workdir / "dashboard.html"
    html = Path(page).read_text(encoding="utf-8")
    assert "AImodel" in html
    assert "MLmodel" in html
    assert "<script src=" not in html  # one self-contained file: nothing fetched when it opens
    _check_store(f"sqlite:///{workdir / 'mlflow.db'}", new=new, old=old)


def _check_store(uri: str, *, new: str, old: str) -> None:
    """What the story left in MLflow: the dataset's record, and PROD's choices on its old and new content."""
    from mlflow_allowance import AllowanceClient, DatasetRef

    client = AllowanceClient(uri)
    (info,) = client.list_datasets()
    assert (info.ref, info.rows, info.target, info.model_type) == (
        DatasetRef(DATASET, new),
        90,
        "class",
        "classifier",
    )
    assert info.source.endswith(f"{DATASET}.csv")

    last = client.history("prod", limit=1)[0]
    assert (last.kind, last.old, last.new, last.done) == ("promotion", "MLmodel/1", "AImodel/4", True)
    assert last.details["dataset"] == {"name": DATASET, "digest": new}  # judged on the new content
    assert last.request is not None
    assert (last.request.metric, last.request.dataset) == ("F1", DatasetRef(DATASET))  # replays the name

    models = ["AImodel", "MLmodel"]
    now = client.select("prod", models, metric="F1", dataset=DATASET)
    assert now.policy.dataset == DatasetRef(DATASET, new)
    assert now.winner is not None
    assert now.winner.candidate.key == "AImodel/4"
    assert all(v.eligible for v in now.candidates)  # every version PROD may run was scored again
    before = client.select("prod", models, metric="F1", dataset=f"{DATASET}@{old}")
    assert before.winner is not None
    assert before.winner.candidate.key == "MLmodel/1"
    assert all(v.eligible for v in before.candidates)
    assert {v.candidate.key: v.metric for v in now.candidates} != {
        v.candidate.key: v.metric for v in before.candidates
    }
