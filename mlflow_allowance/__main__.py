"""``python -m mlflow_allowance ...``: the ``mlflow-allowance`` command line."""

from __future__ import annotations

from mlflow_allowance.cli import main

if __name__ == "__main__":
    main(prog_name="python -m mlflow_allowance")
