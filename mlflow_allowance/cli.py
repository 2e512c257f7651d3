"""The ``mlflow-allowance`` command line (also ``mlflow allowance``): a thin Typer face over the API.

Each command checks what was typed, calls one :class:`~mlflow_allowance.AllowanceClient` method and renders
the result: aligned plain text for people, or one JSON document on stdout with ``--json``. Every error of
the package's tree becomes one line on stderr, with the command line's way to give what it hints at, and its
``exit_code`` (2: bad input, unknown model, MLflow unreachable; 1: nothing eligible, rollback refused);
``--debug`` adds the traceback.

Start-up is part of the interface: the command line imports Typer and the pure core only; MLflow is
imported when a command first needs the registry, so a typo fails in milliseconds and writes nothing. A
dead server fails fast too (see ``_http``).

Where things are: ``_cli_app`` (the app, its group, the global options), ``_cli_errors`` (one line per
failure), ``_cli_options`` (what each option means), ``_cli_commands`` (the commands), ``_http`` (the
fail-fast HTTP settings).
"""

from __future__ import annotations

from mlflow_allowance import _cli_commands  # noqa: F401  (registers the commands on the app)
from mlflow_allowance._cli_app import PROG_NAME, app

__all__ = ["PROG_NAME", "app", "main"]


def main(prog_name: str = PROG_NAME) -> None:
    """Run the command line (the ``mlflow-allowance`` console script); exits the process."""
    app(prog_name=prog_name)
