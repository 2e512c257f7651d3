"""How long to wait for an MLflow server: the fail-fast HTTP settings, and MLflow's variables that carry them.

MLflow's HTTP client retries a refused, timed-out or 429/5xx request 7 times with a growing backoff (a
refused connection takes about four minutes to report) and waits 120 s for each answer. The command line
asks for :data:`DEFAULT_RETRIES` retries, a backoff factor of :data:`DEFAULT_BACKOFF_FACTOR` and a timeout
of :data:`DEFAULT_TIMEOUT` s instead, through MLflow's own variables (:data:`HTTP_ENV`), each only where the
user has not set it; ``--timeout`` and ``--retries`` win over the variables. An unanswered request thus
fails after at most (retries + 1) x timeout, plus a few seconds of backoff.

MLflow reads the variables on every request, so they are set for one call and put back afterwards
(:func:`apply_environment`, :func:`restore_environment`): the process may be longer-lived (tests, ``mlflow
allowance``, a notebook), and its own MLflow calls must not inherit short timeouts.

Ground floor: the standard library only (no Typer, no MLflow), so any face can use it.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping

__all__ = [
    "DEFAULT_BACKOFF_FACTOR",
    "DEFAULT_RETRIES",
    "DEFAULT_TIMEOUT",
    "HTTP_ENV",
    "MAX_RETRIES",
    "apply_environment",
    "http_environment",
    "restore_environment",
]

#: Seconds to wait for a connection, and then for each answer (``--timeout``; MLflow's default: 120).
DEFAULT_TIMEOUT = 10
#: Retries of a refused, timed-out or 429/5xx request (``--retries``; MLflow's default: 7).
DEFAULT_RETRIES = 2
#: Retries wait 0, 2, 4... seconds times this, plus up to 1 s of jitter (MLflow's default: 2).
DEFAULT_BACKOFF_FACTOR = 1
#: MLflow's variables for the three, read on every request.
HTTP_ENV = {
    "timeout": "MLFLOW_HTTP_REQUEST_TIMEOUT",
    "retries": "MLFLOW_HTTP_REQUEST_MAX_RETRIES",
    "backoff_factor": "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR",
}
#: MLflow refuses more retries than this (its ``_MLFLOW_HTTP_REQUEST_MAX_RETRIES_LIMIT``).
MAX_RETRIES = 10


def http_environment(timeout: int | None, retries: int | None, environ: Mapping[str, str]) -> dict[str, str]:
    """MLflow's HTTP variables to set: ``timeout`` and ``retries`` when given, else the fail-fast default
    for each variable unset (or empty, which MLflow ignores too) in ``environ``.

    >>> http_environment(3, None, {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "5"})
    {'MLFLOW_HTTP_REQUEST_TIMEOUT': '3', 'MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR': '1'}
    >>> http_environment(None, 0, {"MLFLOW_HTTP_REQUEST_TIMEOUT": "60"})
    {'MLFLOW_HTTP_REQUEST_MAX_RETRIES': '0', 'MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR': '1'}
    """
    given = {"timeout": timeout, "retries": retries, "backoff_factor": None}
    defaults = {
        "timeout": DEFAULT_TIMEOUT,
        "retries": DEFAULT_RETRIES,
        "backoff_factor": DEFAULT_BACKOFF_FACTOR,
    }
    wanted: dict[str, str] = {}
    for key, name in HTTP_ENV.items():
        value = given[key]
        if value is not None:
            wanted[name] = str(value)
        elif not environ.get(name):
            wanted[name] = str(defaults[key])
    return wanted


def apply_environment(
    wanted: Mapping[str, str], environ: MutableMapping[str, str], saved: MutableMapping[str, str | None]
) -> None:
    """Set ``wanted`` in ``environ``, remembering in ``saved`` what each variable was before (the first
    time only, so applying twice still restores the original).

    >>> environ, saved = {"MLFLOW_HTTP_REQUEST_TIMEOUT": "60"}, {}
    >>> apply_environment({"MLFLOW_HTTP_REQUEST_TIMEOUT": "3"}, environ, saved)
    >>> environ, saved
    ({'MLFLOW_HTTP_REQUEST_TIMEOUT': '3'}, {'MLFLOW_HTTP_REQUEST_TIMEOUT': '60'})
    """
    for name, value in wanted.items():
        saved.setdefault(name, environ.get(name))
        environ[name] = value


def restore_environment(saved: MutableMapping[str, str | None], environ: MutableMapping[str, str]) -> None:
    """Put back in ``environ`` what :func:`apply_environment` saved (unset what was unset); empties ``saved``.

    >>> environ, saved = {"MLFLOW_HTTP_REQUEST_TIMEOUT": "3"}, {"MLFLOW_HTTP_REQUEST_TIMEOUT": None}
    >>> restore_environment(saved, environ)
    >>> environ, saved
    ({}, {})
    """
    for name, value in saved.items():
        if value is None:
            environ.pop(name, None)
        else:
            environ[name] = value
    saved.clear()
