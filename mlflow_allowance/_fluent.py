"""Module-level functions on MLflow's current tracking and registry URIs, like ``mlflow.register_model``.

Each call builds an :class:`~mlflow_allowance.AllowanceClient` for the current URIs (so
``mlflow.set_tracking_uri`` and ``MLFLOW_TRACKING_URI`` apply) and delegates to the method of the same
name; see that method for parameters and errors.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from mlflow_allowance._deprecation import renamed_keyword
from mlflow_allowance.client import AllowanceClient

__all__ = [
    "check",
    "dashboard",
    "evaluate",
    "get_allowance",
    "get_version",
    "history",
    "list_allowances",
    "list_datasets",
    "promote",
    "register_model",
    "rollback",
    "select",
    "set_allowance",
    "set_version",
    "unset_allowance",
]

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _fluent(method: Callable[Concatenate[AllowanceClient, _P], _R]) -> Callable[_P, _R]:
    """A module-level function calling ``method`` on a client for MLflow's current URIs.

    Its signature is the method's without ``self`` (``inspect.signature``, ``help()`` and autodoc show
    that), its docstring the method's plus a line on which server it talks to.
    """

    @functools.wraps(method)
    def call(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        return method(AllowanceClient(), *args, **kwargs)

    signature = inspect.signature(method)
    call.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=list(signature.parameters.values())[1:]
    )
    del call.__wrapped__
    call.__qualname__ = method.__name__
    call.__module__ = "mlflow_allowance"
    call.__doc__ = (
        f"{inspect.getdoc(method)}\n\n"
        f"Talks to MLflow's current tracking and registry URIs; "
        f"``AllowanceClient(...).{method.__name__}`` takes the same arguments for another server."
    )
    return call


# The client method accepts 0.1.0's version= too; this warns from here so the warning names the caller's line.
register_model = renamed_keyword("version", "semver")(_fluent(AllowanceClient.register_model))
set_version = _fluent(AllowanceClient.set_version)
get_version = _fluent(AllowanceClient.get_version)
set_allowance = _fluent(AllowanceClient.set_allowance)
get_allowance = _fluent(AllowanceClient.get_allowance)
unset_allowance = _fluent(AllowanceClient.unset_allowance)
list_allowances = _fluent(AllowanceClient.list_allowances)
select = _fluent(AllowanceClient.select)
promote = _fluent(AllowanceClient.promote)
rollback = _fluent(AllowanceClient.rollback)
check = _fluent(AllowanceClient.check)
history = _fluent(AllowanceClient.history)
evaluate = _fluent(AllowanceClient.evaluate)
list_datasets = _fluent(AllowanceClient.list_datasets)


def dashboard(
    output: str | Path | None = None,
    *,
    environments: Sequence[str] | None = None,
    models: Sequence[str] | None = None,
    host: str = "127.0.0.1",
    port: int = 8765,
    tracking_uri: str | None = None,
    registry_uri: str | None = None,
) -> Path | None:
    """Write the dashboard to ``output`` (one self-contained HTML file; returns its path) or, without
    ``output``, serve it on ``host:port`` (loopback by default) until Ctrl-C, reading MLflow on each load.

    ``environments`` and ``models`` narrow the page (default: every environment with an allowance or an
    audit record, and every model in them); ``tracking_uri`` and ``registry_uri`` default to
    MLflow's current ones. Read-only. Raises :class:`~mlflow_allowance.errors.MissingExtraError` without the
    ``dashboard`` extra (``pip install 'mlflow-allowance[dashboard]'``).
    """
    from mlflow_allowance._dashboard import require_extra, serve, write

    require_extra()

    def client() -> AllowanceClient:
        return AllowanceClient(tracking_uri, registry_uri)

    if output is not None:
        return write(output, client(), environments=environments, models=models)
    serve(client, host=host, port=port, environments=environments, models=models)
    return None


dashboard.__module__ = __name__.rpartition(".")[0]  # shown as mlflow_allowance.dashboard, like the others
