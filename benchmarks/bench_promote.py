"""Count the HTTP requests of ``promote``, ``set`` and ``rollback`` on a live server: this tree vs a baseline.

The baseline is the package at another git revision (default ``acca0a0``, 0.1.0 before the write-ahead
audit trail), exported with ``git archive`` and run in a subprocess, so both are measured in the same run
against the same server state. Each operation runs through a counting loopback proxy; the table shows the
requests by endpoint and the difference. Not part of CI::

    PYTHONPATH=. .venv/bin/python benchmarks/bench_promote.py [--baseline REV]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import uuid
from pathlib import Path

os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from faults import FaultProxy  # type: ignore[import-not-found]  # noqa: E402 (a test helper)
from mlflow import MlflowClient  # noqa: E402

from mlflow_allowance.testing import local_server  # noqa: E402

# Run in a subprocess with the revision under test first on sys.path: ARGS = uri env model other operation.
SCRIPT = """
import sys
uri, env, model, other, operation = sys.argv[1:6]
import mlflow_allowance as allowance
client = allowance.AllowanceClient(uri, uri)
if operation == "promote":
    client.promote(env, [model, other], metric="F1")
elif operation == "promote-stage":
    client.promote(env, [model, other], metric="F1", stage="Staging")
elif operation == "set":
    client.set_allowance(env, "<=2.0")
elif operation == "rollback":
    client.rollback(env, model)
print(allowance.__file__)
"""


def arrange(uri: str) -> tuple[str, str, str]:
    """Two models; ``other``/1 holds @env; the allowance admits ``model``/2 (best F1) next."""
    mlflow = MlflowClient(uri, uri)
    suffix = uuid.uuid4().hex[:8]
    env, model, other = f"prod-{suffix}", f"model-{suffix}", f"other-{suffix}"
    experiment = mlflow.create_experiment(f"training-{suffix}")
    for name, semver, f1 in ((model, "1.0", 0.9), (model, "2.0", 0.99), (other, "1.0", 0.95)):
        run = mlflow.create_run(experiment)
        mlflow.log_metric(run.info.run_id, "F1", f1)
        mlflow.set_terminated(run.info.run_id)
        if not mlflow.search_registered_models(f"name = '{name}'"):
            mlflow.create_registered_model(name)
        mlflow.create_model_version(
            name, f"runs:/{run.info.run_id}/m", run.info.run_id, tags={"mlflow_allowance.version": semver}
        )
    mlflow.set_registered_model_alias(other, env, "1")
    if mlflow.get_experiment_by_name("mlflow-allowance") is None:  # as in any workspace after its first use
        mlflow.create_experiment("mlflow-allowance")
    return env, model, other


def measure(proxy: FaultProxy, uri: str, tree: Path, operation: str) -> collections.Counter[str]:
    """Requests one operation of the package in ``tree`` makes, by endpoint, on freshly arranged state."""
    env, model, other = arrange(uri)
    if operation == "rollback":
        run(tree, proxy.uri, env, model, other, "promote")  # something to roll back
    proxy.plan()
    run(tree, proxy.uri, env, model, other, operation)
    return collections.Counter(proxy.log)


def run(tree: Path, uri: str, *args: str) -> None:
    # cwd=tree as well: `python -c` puts the working directory first on sys.path.
    environment = {**os.environ, "PYTHONPATH": str(tree)}
    command = [sys.executable, "-c", SCRIPT, uri, *args]
    done = subprocess.run(command, check=True, env=environment, capture_output=True, text=True, cwd=tree)
    assert done.stdout.strip().startswith(str(tree)), f"ran {done.stdout.strip()}, not the tree {tree}"


def export(revision: str, into: Path) -> Path:
    archive = into / "baseline.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "archive", revision, "mlflow_allowance"], cwd=ROOT, check=True, stdout=out)
    with tarfile.open(archive) as tar:
        tar.extractall(into / "baseline", filter="data")
    return into / "baseline"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--baseline", default="acca0a0", help="git revision to compare with")
    parser.add_argument("--json", action="store_true", help="print the counts as JSON too")
    args = parser.parse_args()
    operations = ["promote", "promote-stage", "set", "rollback"]
    with tempfile.TemporaryDirectory() as tmp, local_server(Path(tmp) / "server") as uri:
        baseline = export(args.baseline, Path(tmp))
        proxy = FaultProxy(uri)
        proxy.start()
        try:
            counts = {
                (name, operation): measure(proxy, uri, tree, operation)
                for name, tree in (("baseline", baseline), ("ours", ROOT))
                for operation in operations
            }
        finally:
            proxy.stop()
    print(f"| operation | {args.baseline} | ours | difference | requests added (+) and removed (-) |")
    print("|---|---:|---:|---:|---|")
    for operation in operations:
        before, after = counts[("baseline", operation)], counts[("ours", operation)]
        added = after - before
        removed = before - after
        change = ", ".join(
            [f"+{n} {k}" for k, n in sorted(added.items())]
            + [f"-{n} {k}" for k, n in sorted(removed.items())]
        )
        total_before, total_after = sum(before.values()), sum(after.values())
        print(
            f"| {operation} | {total_before} | {total_after} | {total_after - total_before:+d} | {change} |"
        )
    if args.json:
        print(json.dumps({f"{k[0]} {k[1]}": dict(v) for k, v in counts.items()}, indent=2))


if __name__ == "__main__":
    main()
