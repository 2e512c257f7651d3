"""The README's main job: the seed's story ends with PROD and INT where the story says."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MLFLOW = Path(sys.executable).with_name("mlflow")


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
    # The story's milestones, in order: PROD on 1.0, INT takes 2.0, PROD widened and moved, rollback, final.
    milestones = [
        "prod: set <=1.0",
        "@prod nothing → AImodel/1",
        "@prod AImodel/1 → AImodel/3",
        "int: set ==2.0",
        "@int nothing → AImodel/4 (stage Staging)",
        "2.0 is outside <=1.0",
        "prod: widened <=1.0 → <=2.0",
        "@prod AImodel/3 → AImodel/4",
        "rolled back @prod AImodel/4 → AImodel/3",
        "ties with the winner on F1; 1.0 is older than the winner's 2.0",
        "ok: 2 environment aliases checked",
    ]
    positions = [out.find(milestone) for milestone in milestones]
    assert all(p >= 0 for p in positions), [m for m, p in zip(milestones, positions, strict=True) if p < 0]
    assert positions == sorted(positions)
    final = re.findall(r"^FINAL (\S+) (\S+) (\S+)$", out, flags=re.MULTILINE)
    assert final == [("prod", "AImodel/4", "2.0"), ("int", "AImodel/4", "2.0")]
