"""A CI/CD gate on mlflow-allowance's exit codes and ``--json`` output: which model each environment serves.

The seed article's pipelines: a merge to the ``int`` branch deploys INT, a merge to ``master`` deploys PROD,
and each environment picks its model version by itself, within its allowance. One line per pipeline:

    python examples/ci_gate.py int  --model AImodel --metric F1                # every merge to int
    python examples/ci_gate.py prod --model AImodel --metric F1 --check-first  # every merge to master

INT promotes on every merge. PROD first runs ``mlflow-allowance check prod --json`` and promotes only when it
exits 0: if someone narrowed PROD's allowance below what PROD serves, the pipeline stops for a person (who
runs ``mlflow-allowance check prod --fix`` or reverts the allowance) instead of carrying on regardless.

The job's exit status is the command line's: 0 promoted (or already current); 1 no eligible candidate or
violations found, with every reason printed; 2 bad input, an unknown model or MLflow unreachable. The MLflow
server comes from ``MLFLOW_TRACKING_URI`` (or ``--tracking-uri``), as for every MLflow client.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

#: The command line, run by this interpreter (``mlflow-allowance`` or ``mlflow allowance`` work the same).
CLI = (sys.executable, "-m", "mlflow_allowance")


def allowance(*args: str, tracking_uri: str | None = None) -> tuple[int, Any]:
    """Run ``mlflow-allowance ARGS --json``; return its exit code and its JSON document (``None`` if none).

    The command's one-line ``Error: ...`` on stderr is passed through to this job's stderr.
    """
    command = [*CLI, *(("--tracking-uri", tracking_uri) if tracking_uri else ()), *args, "--json"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    sys.stderr.write(done.stderr)
    return done.returncode, json.loads(done.stdout) if done.stdout.strip() else None


def explain(data: dict[str, Any]) -> str:
    """The candidate table of a ``select``/``promote`` JSON document: why each version won or lost."""
    rows = [["MODEL", "VERSION", "SEMVER", data.get("metric") or "METRIC", "ELIGIBLE", "REASON"]]
    for candidate in data.get("candidates", []):
        metric = candidate["metric"]
        rows.append(
            [
                candidate["name"],
                candidate["version"],
                candidate["semver"] or "-",
                "-" if metric is None else f"{metric:.6g}",
                "yes" if candidate["eligible"] else "no",
                candidate["reason"],
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]])
        for row in rows
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Gate one environment; return the exit status for the CI job."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("env", help="the environment this pipeline deploys, e.g. int or prod")
    parser.add_argument("--model", "-m", action="append", required=True, help="competing registered model")
    parser.add_argument("--metric", help="pick the best by this metric (else the latest version)")
    parser.add_argument("--minimize", action="store_true", help="lower metric is better (a loss)")
    parser.add_argument("--check-first", action="store_true", help="promote only if `check ENV` passes")
    parser.add_argument("--tracking-uri", help="MLflow tracking URI (default: MLFLOW_TRACKING_URI)")
    parser.add_argument("--reason", default="ci_gate.py", help="why, for the audit trail")
    args = parser.parse_args(argv)
    uri = args.tracking_uri
    models = [option for name in args.model for option in ("--model", name)]

    if args.check_first:
        code, report = allowance("check", args.env, *models, tracking_uri=uri)
        if code != 0:
            for violation in (report or {}).get("violations", []):
                print(
                    f"{violation['environment']}: {violation['model']}/{violation['version']} "
                    f"({violation['semver']}) violates {violation['allowance']}: {violation['problem']}"
                )
            print(f"{args.env}: check failed (exit {code}); not promoting. Revert the allowance change, or")
            print(f"run `mlflow-allowance check {args.env} --fix` to re-promote within it.")
            return code

    selection = ["--metric", args.metric] if args.metric else []
    selection += ["--minimize"] if args.minimize else []
    code, result = allowance(
        "promote", args.env, *models, *selection, "--reason", args.reason, tracking_uri=uri
    )
    if code == 0:
        winner = result["winner"]
        metric = f", {result['metric']} {winner['metric']:.6g}" if result["metric"] else ""
        state = f"promoted from {result['old'] or 'nothing'}" if result["changed"] else "already current"
        print(f"{args.env}: {result['new']} ({winner['semver']}{metric}) {state}")
        print(f"serve models:/{winner['name']}@{result['environment']}")
    elif code == 1 and result is not None:
        print(f"{args.env}: no eligible candidate within {result['allowance']}; @{args.env} is unchanged")
        print(explain(result))
    return code


if __name__ == "__main__":
    sys.exit(main())
